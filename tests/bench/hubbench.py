#!/usr/bin/env python3
"""What opening a model on the Hugging Face Hub costs, against the stand-in hub
(tests/support/fakehub.py) on 127.0.0.1: bytes fetched and requests made to open a 2 GiB
safetensors file, a 2 GiB pytorch_model.bin (written by torch.save) and an 8-shard
safetensors folder, each next to the size of what it opens; and a download of a
multi-file snapshot into the cache, killed part-way and run again, checked byte for byte
and for the cache's layout.

    /usr/bin/python3 tests/bench/hubbench.py [--scratch DIR] [--quick]

Exit status 1 when a target is missed. Targets (from the issue): under 1 MiB fetched per
open; at most 3 requests for a safetensors file and 4 for a torch zip.
"""

import argparse
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "fixtures"))

import safetensors_io  # noqa: E402

MiB = 1 << 20


def write_safetensors(path, count, per_tensor_bytes, prefix="layers"):
    """A safetensors file of `count` float32 tensors, written tensor by tensor (never the
    whole file in memory), in the layout of the official writer."""
    numel = per_tensor_bytes // 4
    names = ["%s.%d.weight" % (prefix, i) for i in range(count)]
    items = safetensors_io.official_order([(n, "F32") for n in names])
    header, offset = {"__metadata__": {"format": "pt"}}, 0
    for name, _ in items:
        header[name] = {"dtype": "F32", "shape": [numel], "data_offsets": [offset, offset + numel * 4]}
        offset += numel * 4
    hb = safetensors_io.header_bytes(header)
    block = os.urandom(MiB)
    with open(path, "wb") as f:
        f.write(len(hb).to_bytes(8, "little"))
        f.write(hb)
        for _ in items:
            left = numel * 4
            while left:
                n = min(left, len(block))
                f.write(block[:n])
                left -= n
    return [name for name, _ in items]


def make_inputs(scratch, total):
    import torch

    paths = {}
    single = os.path.join(scratch, "single")
    os.makedirs(single, exist_ok=True)
    write_safetensors(os.path.join(single, "model.safetensors"), 400, total // 400)
    paths["safetensors"] = single
    binary = os.path.join(scratch, "bin")
    os.makedirs(binary, exist_ok=True)
    state = {"layers.%d.weight" % i: torch.empty(total // 400 // 4).uniform_(-1, 1) for i in range(400)}
    torch.save(state, os.path.join(binary, "pytorch_model.bin"))
    del state
    paths["bin"] = binary
    sharded = os.path.join(scratch, "sharded")
    os.makedirs(sharded, exist_ok=True)
    weight_map = {}
    for s in range(8):
        name = "model-%05d-of-00008.safetensors" % (s + 1)
        for key in write_safetensors(os.path.join(sharded, name), 50, total // 8 // 50, "layers.%d" % s):
            weight_map[key] = name
    with open(os.path.join(sharded, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": total // 8 // 50 // 4 * 4 * 400}, "weight_map": weight_map}, f)
    with open(os.path.join(sharded, "config.json"), "w") as f:
        json.dump({"model_type": "llama", "hidden_size": 4096, "num_hidden_layers": 32}, f)
    paths["sharded"] = sharded
    for p in (single, binary):
        shutil.copy(os.path.join(sharded, "config.json"), p)
    return paths


class Hub:
    def __init__(self, repos):
        args = [sys.executable, os.path.join(ROOT, "tests", "support", "fakehub.py")]
        for name, folder in repos.items():
            args += ["--repo", "bench/%s=%s" % (name, folder)]
        self.process = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        line = self.process.stdout.readline().decode()
        if not line.startswith("PORT "):
            raise SystemExit("the stand-in hub did not start")
        self.endpoint = "http://127.0.0.1:%d" % int(line.split()[1])

    def stop(self):
        self.process.stdin.close()
        self.process.wait(10)


def environment(endpoint, home):
    env = dict(os.environ)
    for name in ("HF_TOKEN", "HF_HUB_CACHE", "HF_HUB_OFFLINE", "http_proxy", "https_proxy", "HTTP_PROXY",
                 "HTTPS_PROXY", "ALL_PROXY", "all_proxy"):
        env.pop(name, None)
    env.update(HF_ENDPOINT=endpoint, HF_HOME=home, no_proxy="127.0.0.1")
    return env


def folder_bytes(folder):
    return sum(os.path.getsize(os.path.join(folder, n)) for n in os.listdir(folder))


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(MiB), b""):
            h.update(chunk)
    return h.hexdigest()


def check_download(cli, hub, folder, home):
    """Download the sharded snapshot, kill the download part-way, run it again; then check
    every file and the layout."""
    env = environment(hub.endpoint, home)
    cache = os.path.join(home, "hub", "models--bench--sharded")
    shutil.rmtree(cache, ignore_errors=True)
    total = folder_bytes(folder)
    process = subprocess.Popen([cli, "download", "hf:bench/sharded"], env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    blobs = os.path.join(cache, "blobs")
    deadline = time.time() + 120
    while time.time() < deadline and process.poll() is None:
        have = sum(os.path.getsize(os.path.join(blobs, n)) for n in os.listdir(blobs)) if os.path.isdir(blobs) else 0
        if have >= total // 3:
            break
        time.sleep(0.01)
    killed_at = sum(os.path.getsize(os.path.join(blobs, n)) for n in os.listdir(blobs))
    process.send_signal(signal.SIGKILL)
    process.wait()
    partial = [n for n in os.listdir(blobs) if n.endswith(".incomplete")]
    again = subprocess.run([cli, "download", "hf:bench/sharded", "--json"], env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE)
    if again.returncode != 0:
        return False, "the second download failed: " + again.stderr.decode()[-400:]
    result = json.loads(again.stdout)
    snapshot = result["snapshot"]
    problems = []
    for name in sorted(os.listdir(folder)):
        link = os.path.join(snapshot, name)
        if not os.path.islink(link):
            problems.append(name + " is not a link in the snapshot")
            continue
        target = os.path.normpath(os.path.join(os.path.dirname(link), os.readlink(link)))
        digest = sha256(os.path.join(folder, name))
        if os.path.dirname(target) != os.path.normpath(blobs):
            problems.append(name + " links outside blobs/")
        if sha256(target) != digest:
            problems.append(name + " differs from the hub's file")
        if name.endswith(".safetensors") and os.path.basename(target) != digest:
            problems.append(name + "'s blob is not named by its sha256")
    with open(os.path.join(cache, "refs", "main")) as f:
        if f.read().strip() != result["commit"]:
            problems.append("refs/main does not name the commit")
    if any(n.endswith(".incomplete") for n in os.listdir(blobs)):
        problems.append("a .incomplete file is left")
    summary = ("killed at %d MiB of %d MiB (%d partial blob%s), then resumed %d MiB and fetched %d MiB more" %
               (killed_at >> 20, total >> 20, len(partial), "" if len(partial) == 1 else "s",
                result["resumed_bytes"] >> 20, result["downloaded_bytes"] >> 20))
    if result["resumed_bytes"] == 0 and partial:
        problems.append("nothing was resumed")
    return not problems, summary + ("; " + "; ".join(problems) if problems else "; every file identical, "
                                    "blobs named by sha256, snapshot links and refs/main in place")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cli", default=os.path.join(ROOT, "build", "bin", "torch-explorer-cli"))
    parser.add_argument("--scratch", default=None)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    scratch = args.scratch or tempfile.mkdtemp(prefix="te-hubbench-")
    os.makedirs(scratch, exist_ok=True)
    total = (256 if args.quick else 2048) * MiB
    marker = os.path.join(scratch, "inputs-%d" % total)
    if os.path.exists(marker):
        paths = {name: os.path.join(scratch, name) for name in ("safetensors", "bin", "sharded")}
        paths["safetensors"] = os.path.join(scratch, "single")
    else:
        for old in os.listdir(scratch):
            if old.startswith("inputs-"):
                os.remove(os.path.join(scratch, old))
        paths = make_inputs(scratch, total)
        open(marker, "w").close()
    home = os.path.join(scratch, "home")  # an empty cache: every open goes to the network
    shutil.rmtree(home, ignore_errors=True)
    os.makedirs(home, exist_ok=True)
    hub = Hub(paths)
    ok = True
    try:
        print("%-44s %12s %12s %9s %8s  %s" % ("open over the network", "size", "fetched", "requests", "seconds",
                                                "target"))
        for name, what, max_requests in (("safetensors", "hf:bench/safetensors/model.safetensors", 3),
                                         ("bin", "hf:bench/bin/pytorch_model.bin", 4),
                                         ("sharded", "hf:bench/sharded", None)):
            started = time.time()
            r = subprocess.run([args.cli, "inspect", what, "--json"], env=environment(hub.endpoint, home),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            seconds = time.time() - started
            if r.returncode != 0:
                print("%s failed: %s" % (what, r.stderr.decode()[-400:]))
                ok = False
                continue
            remote = json.loads(r.stdout)["remote"]
            size = remote["total_bytes"]
            fetched, requests = remote["bytes_fetched"], remote["requests"]
            met = fetched < MiB and (max_requests is None or requests <= max_requests)
            ok = ok and met
            target = "< 1 MiB" + ("" if max_requests is None else ", <= %d requests" % max_requests)
            print("%-44s %9.1f MiB %8.1f KiB %9d %8.2f  %s %s" % (what, size / MiB, fetched / 1024, requests, seconds,
                                                                target, "met" if met else "MISSED"))
        met, summary = check_download(args.cli, hub, paths["sharded"], home)
        ok = ok and met
        print("download of hf:bench/sharded (%d files): %s: %s" % (len(os.listdir(paths["sharded"])), summary,
                                                                    "met" if met else "MISSED"))
    finally:
        hub.stop()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
