#!/usr/bin/env python3
"""Peak resident memory of `export` from a distributed checkpoint, at two sizes: a
256 MiB and a 2 GiB checkpoint of two ranks (tensors sharded by rows, by columns with
column-major chunks, and replicated), each exported to one torch.save file and to
sharded safetensors. Exporting streams tensor by tensor, so peak RSS must stay flat:
the 2 GiB export may not use more than 1.25 times the memory of the 256 MiB one. As a
yardstick measured in the same run, `inspect` of the same checkpoint (what opening costs).

    /usr/bin/python3 tests/bench/exportbench.py [--scratch DIR] [--quick]

The checkpoints are written by tests/fixtures/make_dcp_fixtures.py's writer, which
follows PyTorch's torch.distributed.checkpoint. Exit status 1 when the target is missed
or an export does not match its source (checked with `diff`).
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "fixtures"))

import torch  # noqa: E402

import make_dcp_fixtures as dcp  # noqa: E402

MiB = 1 << 20
CLI = os.path.join(ROOT, "build", "bin", "torch-explorer-cli")


def write_checkpoint(folder, total_bytes):
    """Two ranks; tensors of 8 MiB (float32 [1024, 2048]), a third by rows, a third by
    columns, a third replicated, until total_bytes."""
    torch.manual_seed(5)
    count = max(3, total_bytes // (8 * MiB))
    ranks = [{"model": {}}, {"model": {}}]
    for i in range(count):
        t = torch.empty(1024, 2048).uniform_(-1, 1)
        key = "layers.%d.weight" % i
        split = (dcp.rows, dcp.columns, None)[i % 3]
        for r in range(2):
            ranks[r]["model"][key] = split(t)[r] if split else t
    dcp.dcp_save(folder, ranks, dcp.PT29, folder, 1, validate=False)
    return count


def peak_rss_kib(cmd):
    out = subprocess.run(["/usr/bin/time", "-f", "%M", *cmd], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         text=True)
    if out.returncode != 0:
        raise SystemExit("failed (%d): %s\n%s" % (out.returncode, " ".join(cmd), out.stderr))
    return int(out.stderr.strip().splitlines()[-1])


def identical(source, exported):
    out = subprocess.run([CLI, "diff", source, exported, "--json"], stdout=subprocess.PIPE, text=True)
    import json
    d = json.loads(out.stdout)
    return not d["changed"] and not d["only_a"] and not d["only_b"], d["identical"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--scratch", default=None)
    parser.add_argument("--quick", action="store_true", help="64 MiB and 256 MiB instead")
    args = parser.parse_args()
    if not os.path.exists(CLI):
        raise SystemExit("build first: %s is missing" % CLI)
    scratch = tempfile.mkdtemp(prefix="exportbench-", dir=args.scratch)
    sizes = [64 * MiB, 256 * MiB] if args.quick else [256 * MiB, 2048 * MiB]
    rows = []
    try:
        for size in sizes:
            folder = os.path.join(scratch, "dcp-%d" % (size // MiB))
            count = write_checkpoint(folder, size)
            inspect = peak_rss_kib([CLI, "inspect", folder])
            pt = os.path.join(scratch, "out.pt")
            pt_rss = peak_rss_kib([CLI, "export", folder, "--to", pt])
            ok_pt, n_pt = identical(folder, pt)
            os.remove(pt)
            st = os.path.join(scratch, "out-st")
            st_rss = peak_rss_kib([CLI, "export", folder, "--to", st, "--max-shard-size", "1GB"])
            ok_st, n_st = identical(folder + "/", st)
            shutil.rmtree(st)
            shutil.rmtree(folder)
            rows.append((size, count, inspect, pt_rss, st_rss, ok_pt and ok_st and n_pt == n_st == count))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    print("| checkpoint | tensors | inspect peak RSS | export .pt peak RSS | export safetensors peak RSS | identical |")
    print("|---|---|---|---|---|---|")
    for size, count, inspect, pt_rss, st_rss, ok in rows:
        print("| %d MiB | %d | %.1f MiB | %.1f MiB | %.1f MiB | %s |"
              % (size // MiB, count, inspect / 1024, pt_rss / 1024, st_rss / 1024, "yes" if ok else "NO"))
    small, big = rows
    ratio_pt = big[3] / small[3]
    ratio_st = big[4] / small[4]
    print()
    print("checkpoint size ratio %.1fx; peak RSS ratio: export .pt %.2fx, export safetensors %.2fx "
          "(target <= 1.25x)" % (big[0] / small[0], ratio_pt, ratio_st))
    print("export .pt at %d MiB uses %.2fx the memory of inspect" % (big[0] // MiB, big[3] / big[2]))
    missed = ratio_pt > 1.25 or ratio_st > 1.25 or not all(r[5] for r in rows)
    print("target: " + ("MISSED" if missed else "met"))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
