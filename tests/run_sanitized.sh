#!/usr/bin/env bash
# CI's sanitizer and fuzz step (docs/RELIABILITY.md, "Fuzzing and sanitizers"): the data tests under
# ASan + UBSan (build-asan) and a short libFuzzer run of every target on its seeds (build-fuzz).
set -euo pipefail
cd "$(dirname "$0")/.."

fuzz_seconds=${K2K_FUZZ_SECONDS:-15}
clang=(-DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_BUILD_TYPE=RelWithDebInfo)

echo "[run_sanitized] ASan + UBSan build: build-asan"
cmake -S . -B build-asan "${clang[@]}" -DK2K_SANITIZE=ON
cmake --build build-asan -j"$(nproc)"

echo "[run_sanitized] libFuzzer build: build-fuzz (${fuzz_seconds} s per target)"
cmake -S . -B build-fuzz "${clang[@]}" -DK2K_FUZZ=ON -DK2K_FUZZ_SECONDS="${fuzz_seconds}"
cmake --build build-fuzz -j"$(nproc)"

echo "[run_sanitized] ctest in build-asan"
(cd build-asan && ctest --output-on-failure)

echo "[run_sanitized] ctest -L fuzz in build-fuzz"
(cd build-fuzz && ctest -L fuzz --output-on-failure)

echo "[run_sanitized] passed"
