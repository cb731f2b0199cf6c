#!/usr/bin/env bash
# The torch-linked library, CLI and tests under AddressSanitizer (docs/RELIABILITY.md, "Fuzzing and
# sanitizers"): builds build-asan-torch (-DK2K_SANITIZE_TORCH=ON, no benchmarks) and runs ctest
# there with ASAN_OPTIONS=detect_leaks=0. LibTorch is not instrumented, so errors inside it are not
# seen; k2k's own code is, including where it hands memory to torch. About 20 min of build on 2
# cores, and the tests run ~3x slower than in build/: not part of CI's command (run it by hand).
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build-asan-torch -DCMAKE_BUILD_TYPE=RelWithDebInfo -DK2K_SANITIZE_TORCH=ON -DK2K_BUILD_BENCH=OFF
cmake --build build-asan-torch -j"$(nproc)"
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=0
(cd build-asan-torch && ctest --output-on-failure -j"$(nproc)" "$@")
echo "[run_sanitized_torch] passed"
