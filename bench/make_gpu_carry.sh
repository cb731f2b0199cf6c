#!/usr/bin/env bash
# Makes the two git-ignored folders that bench/cuda_check.sh needs on a GPU machine without
# network (run it here, on a Debian bookworm machine that reaches Debian's registry):
#   .gpu_deps/root  Debian packages k2k builds against (and the libraries they need), unpacked
#                   with dpkg -x; ~30 MiB
#   .gpu_data       a small data set from ../shared/data: 300 KanjiVG SVGs (the characters of the
#                   first 40 Kuzushiji classes, the ones the tests name, then others) and up to 30
#                   PNGs of each of those classes; ~3 MiB
#   .gpu_kmnist     the four official Kuzushiji-MNIST .npz files from ../shared/data/kmnist (or
#                   data/kmnist); 21 MiB
# Then carry: device run `bash bench/cuda_check.sh` with carry [".gpu_deps", ".gpu_data"], or
# `bash bench/gpu_classify.sh` with carry [".gpu_deps", ".gpu_kmnist"].
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${K2K_SHARED_DATA:-../shared/data}

PACKAGES=(
  fontconfig-config fonts-dejavu-core libbrotli-dev libbrotli1 libbsd0 libbz2-1.0 libcairo2-dev
  libcairo2 libcli11-dev libeigen3-dev libexpat1-dev libexpat1 libffi-dev libfmt-dev libfmt9
  libfontconfig-dev libfontconfig1 libfreetype-dev libfreetype6 libglib2.0-dev libgmock-dev
  libgtest-dev libmd0 libpcre2-dev libpixman-1-0 libpixman-1-dev libpkgconf3 libpng-dev
  libpng16-16 libspdlog-dev libspdlog1.10 libtinyxml2-9 libtinyxml2-dev libx11-6 libx11-dev
  libxau-dev libxau6 libxcb-render0-dev libxcb-render0 libxcb-shm0-dev libxcb-shm0 libxcb1-dev
  libxcb1 libxdmcp-dev libxdmcp6 libxext-dev libxext6 libxrender-dev libxrender1 libyaml-cpp-dev
  libyaml-cpp0.7 nlohmann-json3-dev pkgconf-bin pkgconf x11proto-dev zlib1g-dev zlib1g
  # the .npz reader (libzip), photographed inputs (libjpeg-turbo), k2k serve (cpp-httplib, whose
  # pkg-config file requires openssl's)
  libzip-dev libzip4 libjpeg62-turbo-dev libjpeg62-turbo libcpp-httplib-dev libcpp-httplib0.11
  libssl-dev libssl3
)

for d in .gpu_deps .gpu_data .gpu_kmnist; do
  grep -qx "/$d/" .git/info/exclude 2>/dev/null || echo "/$d/" >> .git/info/exclude
done

# ---- .gpu_deps ----
rm -rf .gpu_deps && mkdir -p .gpu_deps/debs .gpu_deps/root
(cd .gpu_deps/debs && apt-get download "${PACKAGES[@]}" >/dev/null)
for deb in .gpu_deps/debs/*.deb; do dpkg -x "$deb" .gpu_deps/root; done
{
  echo "Debian packages unpacked with dpkg -x into root/ by bench/make_gpu_carry.sh, for bench/cuda_check.sh."
  for deb in .gpu_deps/debs/*.deb; do dpkg-deb -f "$deb" Package Version | tr '\n' ' '; echo; done
} > .gpu_deps/MANIFEST.txt
rm -rf .gpu_deps/debs
root=.gpu_deps/root
# /lib/<arch> (zlib, expat, ...) into usr/lib/<arch>, so one prefix holds every library.
if [ -d "$root/lib" ] && [ ! -L "$root/lib" ]; then
  mkdir -p "$root/usr/lib"
  cp -a "$root/lib/." "$root/usr/lib/" && rm -rf "$root/lib"
fi
# Absolute symlinks -> relative (they must resolve wherever the tree is copied).
find "$root" -type l | while read -r link; do
  target=$(readlink "$link")
  case "$target" in
    /lib/*) target=/usr$target ;&  # /lib was merged into /usr/lib above
    /*) ln -sfn "$(realpath -m --relative-to="$(dirname "$link")" "$root$target")" "$link" ;;
  esac
done
rm -rf "$root"/usr/share/{doc,doc-base,man,info,lintian,gdb,gettext,aclocal,xml} "$root"/usr/src \
       "$root"/usr/include/eigen3/unsupported "$root"/usr/lib/x86_64-linux-gnu/cmake/expat-*
find "$root" -name '*.a' ! -name 'libgtest*' ! -name 'libgmock*' -delete
find "$root" -xtype l -delete
du -sh .gpu_deps

# ---- .gpu_data ----
rm -rf .gpu_data && mkdir -p .gpu_data/kanjivg/kanji .gpu_data/kkanji2
declare -A picked=()
classes=(U+4EBA U+5927 U+5C71 U+65E5)  # named by tests
for c in $(ls "$SHARED/kkanji2" | grep '^U+' | sort); do
  f=$(printf '%05x.svg' "0x${c#U+}")
  [ -f "$SHARED/kanjivg/kanji/$f" ] && classes+=("$c")
  [ ${#classes[@]} -ge 44 ] && break
done
for c in "${classes[@]}"; do
  mkdir -p ".gpu_data/kkanji2/$c"
  ls "$SHARED/kkanji2/$c" | sort | head -n 30 | while read -r png; do cp "$SHARED/kkanji2/$c/$png" ".gpu_data/kkanji2/$c/"; done
  f=$(printf '%05x.svg' "0x${c#U+}")
  [ -f "$SHARED/kanjivg/kanji/$f" ] && picked[$f]=1
done
for f in 05b57.svg 05b57-Kaisho.svg 04e3b-VtLst.svg 04e00.svg 04eba.svg 05927.svg 05c71.svg 06728.svg \
         06c34.svg 0706b.svg 091d1.svg 065e5.svg; do
  [ -f "$SHARED/kanjivg/kanji/$f" ] && picked[$f]=1
done
for f in $(ls "$SHARED/kanjivg/kanji" | grep -v -- - | sort); do
  [ ${#picked[@]} -ge 300 ] && break
  picked[$f]=1
done
for f in "${!picked[@]}"; do cp "$SHARED/kanjivg/kanji/$f" .gpu_data/kanjivg/kanji/; done
echo "$(ls .gpu_data/kanjivg/kanji | wc -l) SVGs, $(ls .gpu_data/kkanji2 | wc -l) classes"
du -sh .gpu_data

# ---- .gpu_kmnist ----
rm -rf .gpu_kmnist && mkdir -p .gpu_kmnist
kmnist=$SHARED/kmnist
[ -f "$kmnist/kmnist-train-imgs.npz" ] || kmnist=data/kmnist
for f in kmnist-train-imgs kmnist-train-labels kmnist-test-imgs kmnist-test-labels; do
  [ -f "$kmnist/$f.npz" ] || { echo "$kmnist/$f.npz: missing (bash data_tools/fetch_data.sh --only kmnist)" >&2; exit 1; }
  cp "$kmnist/$f.npz" .gpu_kmnist/
done
du -sh .gpu_kmnist
