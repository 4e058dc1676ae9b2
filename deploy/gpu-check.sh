#!/usr/bin/env bash
# Checks Flotilla's CUDA backend on a GPU machine with nothing but a JDK >= 21 and the built
# distribution (deploy/target/dist.tar.gz unpacked): no Maven, no network.
#
#   gpu-check.sh [--out DIR] [--runs N] [--allow-no-gpu]
#
# 1. probes CUDA through `flotilla bench engine --backend cuda` (exit 2 with the reason when CUDA
#    is not usable);
# 2. runs the GPU test suite shipped in lib/gpu-tests with the JUnit console launcher: CUDA layer
#    parity against the CPU backend, full GPT/MLP parity against the PyTorch fixtures in FP32 and
#    TF32, NVRTC compilation for every supported architecture, pool and selection tests. A
#    missing GPU fails these tests here instead of skipping them (-Dflotilla.gpu.required=true);
# 3. runs `flotilla bench engine --backend cuda` in FP32 and TF32;
# 4. runs bench/pytorch_gpt_bench.py (PyTorch eager, same configurations) when python3 with a
#    CUDA-enabled torch is there.
# Everything lands in DIR (default ./gpu-check-<time>): JUnit XML reports, bench outputs,
# nvidia-smi and java -version. --allow-no-gpu runs the suite without a GPU (GPU tests skip) and
# skips the benchmarks: a dry run of this script itself.
#
# Exit: 0 all passed, 1 a test or benchmark failed, 2 no usable GPU (or bad arguments).
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [ -d "$HERE/../lib/gpu-tests" ]; then
  FLOTILLA_HOME="$(cd "$HERE/.." && pwd)"          # bin/ of an unpacked distribution
elif [ -d "$HERE/target/dist/flotilla/lib/gpu-tests" ]; then
  FLOTILLA_HOME="$HERE/target/dist/flotilla"       # deploy/ of a built checkout
else
  echo "error: no Flotilla distribution with lib/gpu-tests next to $HERE; build it with" \
    "'mvn -B -DskipTests package' (deploy/target/dist.tar.gz) and unpack it on this machine" >&2
  exit 2
fi

OUT="gpu-check-$(date +%Y%m%dT%H%M%S)"
RUNS=5
ALLOW_NO_GPU=false
while [ $# -gt 0 ]; do
  case "$1" in
    --out) OUT="${2:?--out needs a directory}"; shift 2 ;;
    --runs) RUNS="${2:?--runs needs a number}"; shift 2 ;;
    --allow-no-gpu) ALLOW_NO_GPU=true; shift ;;
    -h|--help) sed -n '2,22p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "error: unknown argument '$1' (allowed: --out DIR, --runs N, --allow-no-gpu)" >&2; exit 2 ;;
  esac
done
case "$RUNS" in ''|*[!0-9]*|0) echo "error: --runs must be a positive integer, got '$RUNS'" >&2; exit 2 ;; esac

# shellcheck source=deploy/bin/select-jdk.sh
. "$FLOTILLA_HOME/bin/select-jdk.sh"
flotilla_select_jdk || exit 2
mkdir -p "$OUT" || exit 2
OUT="$(cd "$OUT" && pwd)"
FLOTILLA="$FLOTILLA_HOME/bin/flotilla"
echo "gpu-check: distribution $FLOTILLA_HOME, java $FLOTILLA_JAVA ($FLOTILLA_JAVA_VERSION), results in $OUT"
"$FLOTILLA_JAVA" -version > "$OUT/java-version.txt" 2>&1
if command -v nvidia-smi > /dev/null; then
  nvidia-smi > "$OUT/nvidia-smi.txt" 2>&1
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null | sed 's/^/gpu-check: GPU /'
else
  echo "gpu-check: nvidia-smi not found (the NVIDIA driver may be missing)" | tee "$OUT/nvidia-smi.txt"
fi

# 1. probe
echo "gpu-check: [1/4] probing CUDA"
"$FLOTILLA" bench engine --backend cuda --sgemm-sizes 64 --configs none --runs 1 > "$OUT/probe.txt" 2>&1
probe_rc=$?
cat "$OUT/probe.txt"
GPU=true
if [ "$probe_rc" -ne 0 ]; then
  GPU=false
  if [ "$ALLOW_NO_GPU" != true ]; then
    echo "gpu-check: CUDA is not usable here (see above); install the NVIDIA driver and the CUDA 12" \
      "runtime libraries (libcublas, libnvrtc), see docs/gpu.md" >&2
    exit 2
  fi
  echo "gpu-check: no usable GPU; --allow-no-gpu: GPU tests will skip, benchmarks are left out"
fi

# 2. tests
echo "gpu-check: [2/4] GPU test suite"
JVM_FLAGS=(--add-exports java.base/jdk.internal.misc=ALL-UNNAMED --add-modules jdk.incubator.vector
  --enable-native-access=ALL-UNNAMED -Xmx4g -Dflotilla.gpu.required="$GPU"
  -Dlogback.configurationFile="$FLOTILLA_HOME/conf/logback.xml")
if [ "$FLOTILLA_JAVA_VERSION" -ge 24 ]; then JVM_FLAGS+=(--sun-misc-unsafe-memory-access=allow); fi
"$FLOTILLA_JAVA" "${JVM_FLAGS[@]}" -cp "$FLOTILLA_HOME/lib/*:$FLOTILLA_HOME/lib/gpu-tests/*" \
  org.junit.platform.console.ConsoleLauncher execute \
  --disable-banner --details=tree --fail-if-no-tests \
  --select-package io.flotilla.engine.backend \
  --select-class io.flotilla.engine.model.PyTorchParityTest \
  --select-class io.flotilla.engine.model.CudaPyTorchParityTest \
  --reports-dir "$OUT/junit" 2>&1 | grep -v '^WARNING: Using incubator modules' | tee "$OUT/tests.txt"
tests_rc=${PIPESTATUS[0]}
status=0
[ "$tests_rc" -eq 0 ] || { echo "gpu-check: GPU tests FAILED (exit $tests_rc)"; status=1; }

# 3. engine benchmark
if [ "$GPU" = true ]; then
  for precision in fp32 tf32; do
    echo "gpu-check: [3/4] flotilla bench engine --backend cuda --precision $precision"
    if ! "$FLOTILLA" bench engine --backend cuda --precision "$precision" --runs "$RUNS" 2>&1 |
      tee "$OUT/bench-engine-$precision.txt"; then
      echo "gpu-check: engine benchmark ($precision) FAILED"
      status=1
    fi
  done
else
  echo "gpu-check: [3/4] engine benchmark left out (no GPU)"
fi

# 4. PyTorch eager baseline
PY="$(command -v python3 || true)"
if [ "$GPU" = true ] && [ -n "$PY" ] && "$PY" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
  for precision in fp32 tf32; do
    echo "gpu-check: [4/4] PyTorch eager baseline ($precision)"
    "$PY" "$FLOTILLA_HOME/bench/pytorch_gpt_bench.py" --device cuda --precision "$precision" \
      --runs "$RUNS" 2>&1 | tee "$OUT/pytorch-$precision.txt" || status=1
  done
else
  echo "gpu-check: [4/4] PyTorch baseline left out (needs a GPU and python3 with CUDA-enabled torch)"
fi

echo "gpu-check: done, exit $status; results in $OUT"
exit "$status"
