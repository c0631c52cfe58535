#!/usr/bin/python3
"""Write core/runtime/labels/imagenet_classes.txt: the names of the 1000 classes of the
ImageNet-1k classification task (ILSVRC 2012), one per line in class-index order, so that
index i of a classifier's output is line i + 1.

    /usr/bin/python3 core/runtime/labels/make_imagenet_classes.py

The class set and its order are those of the ILSVRC 2012 data (the WordNet synsets sorted by
their id, n01440764 first); the short English names are the ones torchvision shows for its
ImageNet weights (torchvision.models._meta._IMAGENET_CATEGORIES), which this script reads
from Debian's python3-torchvision. They are facts about the data set, not code.
"""

import os

from torchvision.models import _meta

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    names = list(_meta._IMAGENET_CATEGORIES)
    if len(names) != 1000 or any("\n" in n or not n.strip() for n in names):
        raise SystemExit("unexpected ImageNet class list")
    with open(os.path.join(HERE, "imagenet_classes.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(names) + "\n")


if __name__ == "__main__":
    main()
