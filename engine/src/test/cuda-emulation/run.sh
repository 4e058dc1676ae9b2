#!/usr/bin/env bash
# Runs the CUDA kernels of the engine on CPU threads (no GPU, no CUDA) and compares them with the
# CPU backend's formulas. Needs g++ 11+ (C++20 <barrier>). Exit 0 when every kernel matches.
#
#   engine/src/test/cuda-emulation/run.sh
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SRC="$HERE/../../main/resources/io/flotilla/engine/backend/cuda/kernels.cu"
command -v g++ > /dev/null || { echo "error: g++ (11 or newer) is needed: apt-get install g++" >&2; exit 2; }
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
# Dynamic shared memory becomes a per-block buffer the emulator hands each thread.
sed -e 's/extern __shared__ float sh\[\];/float* sh = (float*) g_shared;/' \
  -e 's/extern __shared__ double shd\[\];/double* shd = (double*) g_shared;/' "$SRC" > "$WORK/kernels_emu.cpp"
g++ -std=c++20 -O1 -pthread -Wall -I "$HERE" -I "$WORK" -include "$HERE/prelude.h" \
  -o "$WORK/harness" "$HERE/harness.cpp"
"$WORK/harness"
