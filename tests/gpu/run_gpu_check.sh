#!/usr/bin/env bash
# GPU check: build the core, the runtime and the CLI against a CUDA-enabled libtorch (the
# one a Python torch package ships), then list the devices and run every runnable fixture
# on cuda:0 and on the CPU, comparing the outputs. Writes its log to ${OUT:-.}/gpu-check.log.
#
#   tests/gpu/run_gpu_check.sh            (on a machine with an NVIDIA GPU and torch for Python)
#
# Needs: cmake, a C++17 compiler, nlohmann-json and minizip headers (Debian:
# nlohmann-json3-dev libminizip-dev), python3 with a CUDA build of torch (for its cmake files
# only). No Qt: the GUI is not built.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
out=${OUT:-$root}
log="$out/gpu-check.log"
build="$root/build-gpu"
exec > >(tee "$log") 2>&1

prefix=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')
python3 -c 'import torch; print("python torch", torch.__version__, "cuda", torch.version.cuda, "available", torch.cuda.is_available())'
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DTE_BUILD_GUI=OFF -DTE_BUILD_TESTS=OFF \
      -DCMAKE_PREFIX_PATH="$prefix"
cmake --build "$build" -j"$(nproc)" --target torch-explorer-cli torchexplorer_runtime

cli="$build/bin/torch-explorer-cli"
"$cli" --version
"$cli" devices

fixtures="$root/tests/fixtures"
status=0
for model in scripted.pt traced.pt torchvision_traced.pt mismatch_model.pt; do
    spec=$(python3 - "$fixtures/expected.json" "$model" <<'PY'
import json, sys
run = json.load(open(sys.argv[1]))["files"][sys.argv[2]]["run"]["input"]
print("arange(0,%r):%s:%s" % (run["scale"], "x".join(map(str, run["shape"])), run["dtype"]))
PY
)
    for device in cpu cuda:0; do
        "$cli" run "$fixtures/$model" --device "$device" --input "$spec" --repeat 20 --json > "$build/$model.$device.json" || status=1
    done
    python3 - "$fixtures/expected.json" "$model" "$build/$model.cpu.json" "$build/$model.cuda:0.json" <<'PY' || status=1
import json, sys
want = json.load(open(sys.argv[1]))["files"][sys.argv[2]]["run"]["output"]["sum"]
cpu, gpu = (json.load(open(p)) for p in sys.argv[3:5])
cs, gs = cpu["outputs"][0]["sum"], gpu["outputs"][0]["sum"]
ok = abs(gs - want) <= 1e-3 * max(1.0, abs(want)) and abs(cs - want) <= 1e-4 * max(1.0, abs(want))
print("%-24s expected %.6g  cpu %.6g (median %.3f ms)  cuda:0 %.6g (median %.3f ms)  %s" % (
    sys.argv[2], want, cs, cpu["latency_ms"]["median"], gs, gpu["latency_ms"]["median"], "ok" if ok else "DIFFERS"))
sys.exit(0 if ok else 1)
PY
done
exit $status
