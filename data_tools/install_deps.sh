#!/usr/bin/env bash
# Installs everything k2k needs to build, test and benchmark, from Debian packages only,
# and makes the OpenMP OpenBLAS the selected BLAS (the reference BLAS is 4-20x slower, and the
# pthread OpenBLAS fights torch's OpenMP threads). Idempotent; needs root (or sudo).
set -euo pipefail

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

PACKAGES=(
  build-essential cmake pkg-config git
  libtorch-dev libtinyxml2-dev libcairo2-dev libyaml-cpp-dev
  libgtest-dev libcli11-dev nlohmann-json3-dev libpng-dev libjpeg62-turbo-dev
  libopenblas0-openmp libzip-dev libeigen3-dev
  libcpp-httplib-dev
  # the headers c10d's Gloo process group needs (data-parallel training, --nproc)
  libgloo-dev
  # clang with its ASan/UBSan and libFuzzer runtimes, for tests/run_sanitized.sh
  clang-14 libclang-rt-14-dev
  python3 python3-torch python3-numpy
)
# The browser test of k2k serve (tests/web): Debian's chromium, npm (unless node already brings
# one, as NodeSource's nodejs does, which conflicts with Debian's npm), a Japanese font for screenshots.
PACKAGES+=(chromium fonts-ipafont-gothic); command -v npm >/dev/null || PACKAGES+=(npm)
# Optional: the notebook and its headless test.
if [ "${K2K_WITH_NOTEBOOK:-0}" = 1 ]; then
  PACKAGES+=(python3-matplotlib python3-pandas jupyter-nbconvert python3-ipykernel python3-nbformat)
fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "[install_deps] installing: ${missing[*]}"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "[install_deps] all Debian packages present"
fi

# Select the OpenMP OpenBLAS for libblas.so.3 and liblapack.so.3.
arch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)
for lib in libblas.so.3 liblapack.so.3; do
  alt="/usr/lib/${arch}/openblas-openmp/${lib}"
  if [ -e "$alt" ]; then
    $SUDO update-alternatives --set "${lib}-${arch}" "$alt" >/dev/null
  fi
done
echo "[install_deps] BLAS: $(readlink -f /usr/lib/${arch}/libblas.so.3)"
