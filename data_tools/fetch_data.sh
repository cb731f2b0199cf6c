#!/usr/bin/env bash
# Gets the two datasets k2k trains on into the project's data folder (default: ./data, git-ignored):
#   data/kanjivg/kanji/*.svg         KanjiVG (CC BY-SA 3.0, Ulrich Apel)
#   data/kkanji2/U+XXXX/*.png        Kuzushiji-Kanji (CC BY-SA 4.0, CODH / NIJL)
# Either downloads the official archives, or copies from a local mirror folder that has the same
# layout (--mirror DIR or $K2K_DATA_MIRROR; CI and the dev machines use ../shared/data).
# Then verifies what it got (file counts) and says clearly what is missing.
# The classification benchmarks of `k2k classify` come on request (--only kmnist | --only k49):
#   data/kmnist/kmnist-{train,test}-{imgs,labels}.npz   Kuzushiji-MNIST (CC BY-SA 4.0, CODH)
#   data/k49/k49-{train,test}-{imgs,labels}.npz         Kuzushiji-49 (CC BY-SA 4.0, CODH)
# checked against their official md5 sums where this script knows them.
set -euo pipefail

usage() {
  cat <<USAGE
usage: data_tools/fetch_data.sh [--mirror DIR] [--dest DIR] [--only kanjivg|kkanji|kmnist|k49] [--force]

  --mirror DIR   copy from DIR/kanjivg/kanji and DIR/kkanji2 instead of downloading
                 (default: \$K2K_DATA_MIRROR when set)
  --dest DIR     where to put the data (default: <repo>/data; the configs read this folder)
  --only NAME    fetch only one dataset (kmnist and k49, for k2k classify, only this way)
  --force        replace data that is already there

Official sources (override with \$K2K_KANJIVG_URL / \$K2K_KKANJI_URL):
  KanjiVG:          $KANJIVG_URL_DEFAULT
  Kuzushiji-Kanji:  $KKANJI_URL_DEFAULT
  KMNIST, K49:      $BENCH_URL_DEFAULT/{kmnist,k49}/<file>.npz
USAGE
}

KANJIVG_URL_DEFAULT="https://github.com/KanjiVG/kanjivg/releases/download/r20240807/kanjivg-20240807-all.zip"
KKANJI_URL_DEFAULT="http://codh.rois.ac.jp/kmnist/dataset/kkanji/kkanji.tar"
BENCH_URL_DEFAULT="http://codh.rois.ac.jp/kmnist/dataset"
KANJIVG_URL="${K2K_KANJIVG_URL:-$KANJIVG_URL_DEFAULT}"
KKANJI_URL="${K2K_KKANJI_URL:-$KKANJI_URL_DEFAULT}"
BENCH_URL="${K2K_BENCH_URL:-$BENCH_URL_DEFAULT}"

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
mirror="${K2K_DATA_MIRROR:-}"
dest="$repo/data"
only=""
force=0
while [ $# -gt 0 ]; do
  case "$1" in
    --mirror) mirror="${2:?--mirror needs a folder}"; shift 2 ;;
    --dest) dest="${2:?--dest needs a folder}"; shift 2 ;;
    --only) only="${2:?--only needs kanjivg, kkanji, kmnist or k49}"; shift 2 ;;
    --force) force=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "fetch_data: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
# A checkout next to a copy of the data (these dev machines and CI: ../shared/data) uses it as
# the mirror when none is given, so nothing is downloaded there.
if [ -z "$mirror" ] && [ -d "$repo/../shared/data/kanjivg/kanji" ] && [ -d "$repo/../shared/data/kkanji2" ]; then
  mirror="$(cd "$repo/../shared/data" && pwd)"
  echo "[fetch_data] using the local mirror $mirror (pass --mirror DIR to choose another)"
fi
case "$only" in ""|kanjivg|kkanji|kmnist|k49) ;; *) echo "fetch_data: --only must be kanjivg, kkanji, kmnist or k49" >&2; exit 2 ;; esac
mkdir -p "$dest"

say() { echo "[fetch_data] $*"; }
fail() { echo "[fetch_data] error: $*" >&2; exit 1; }

download() {  # url out
  if command -v curl >/dev/null; then
    local quiet=""; [ -t 1 ] || quiet="-sS"
    curl -fL $quiet --retry 2 --connect-timeout 20 -o "$2" "$1"
  elif command -v wget >/dev/null; then
    wget -q -O "$2" "$1"
  else
    fail "neither curl nor wget is installed (apt-get install curl), or use --mirror DIR"
  fi
}

count_svgs() { find "$1" -maxdepth 1 -name '*.svg' 2>/dev/null | wc -l; }
count_classes() { find "$1" -mindepth 1 -maxdepth 1 -type d -name 'U+*' 2>/dev/null | wc -l; }
count_pngs() { find "$1" -mindepth 2 -maxdepth 2 -path '*/U+*/*.png' 2>/dev/null | wc -l; }

fetch_kanjivg() {
  local out="$dest/kanjivg"
  if [ "$force" = 0 ] && [ "$(count_svgs "$out/kanji")" -gt 0 ]; then
    say "KanjiVG already in $out/kanji ($(count_svgs "$out/kanji") SVGs; --force to replace)"; return
  fi
  rm -rf "$out.partial" && mkdir -p "$out.partial"
  if [ -n "$mirror" ]; then
    [ -d "$mirror/kanjivg/kanji" ] || fail "mirror $mirror has no kanjivg/kanji folder"
    say "copying KanjiVG from $mirror/kanjivg"
    cp -r "$mirror/kanjivg/kanji" "$out.partial/kanji"
    for f in COPYING README.md PROVENANCE.md; do [ -f "$mirror/kanjivg/$f" ] && cp "$mirror/kanjivg/$f" "$out.partial/"; done
  else
    say "downloading KanjiVG: $KANJIVG_URL"
    download "$KANJIVG_URL" "$out.partial/kanjivg.zip" || fail "download of KanjiVG failed ($KANJIVG_URL); use --mirror DIR with a local copy"
    python3 -m zipfile -e "$out.partial/kanjivg.zip" "$out.partial/unzipped" || fail "cannot unpack $out.partial/kanjivg.zip"
    local svgdir
    svgdir="$(dirname "$(find "$out.partial/unzipped" -name '05b57.svg' | head -1)")"
    [ -n "$svgdir" ] && [ -f "$svgdir/05b57.svg" ] || fail "the KanjiVG archive has no kanji/*.svg files"
    mv "$svgdir" "$out.partial/kanji"
    rm -rf "$out.partial/unzipped" "$out.partial/kanjivg.zip"
  fi
  rm -rf "$out" && mv "$out.partial" "$out"
}

fetch_kkanji() {
  local out="$dest/kkanji2"
  if [ "$force" = 0 ] && [ "$(count_classes "$out")" -gt 0 ]; then
    say "Kuzushiji-Kanji already in $out ($(count_classes "$out") classes; --force to replace)"; return
  fi
  rm -rf "$out.partial"
  if [ -n "$mirror" ]; then
    [ -d "$mirror/kkanji2" ] || fail "mirror $mirror has no kkanji2 folder"
    say "copying Kuzushiji-Kanji from $mirror/kkanji2"
    cp -r "$mirror/kkanji2" "$out.partial"
  else
    mkdir -p "$dest/.download"
    say "downloading Kuzushiji-Kanji: $KKANJI_URL (about 300 MB)"
    download "$KKANJI_URL" "$dest/.download/kkanji.tar" || fail "download of Kuzushiji-Kanji failed ($KKANJI_URL); use --mirror DIR with a local copy"
    mkdir -p "$dest/.download/x"
    tar -xf "$dest/.download/kkanji.tar" -C "$dest/.download/x" || fail "cannot unpack kkanji.tar"
    [ -d "$dest/.download/x/kkanji2" ] || fail "kkanji.tar has no kkanji2/ folder"
    mv "$dest/.download/x/kkanji2" "$out.partial"
    rm -rf "$dest/.download"
  fi
  rm -rf "$out" && mv "$out.partial" "$out"
}

# Official md5 sums (docs: ../shared/data/kmnist/PROVENANCE.md, ../shared/data/k49/PROVENANCE.md).
declare -A BENCH_MD5=(
  [kmnist-train-imgs.npz]=a183fbc01ed9a345513b145673d3d0bb [kmnist-train-labels.npz]=b0e1d240e8afec72b50437fc3bc5908a
  [kmnist-test-imgs.npz]=dace6de62ca8b90843cc45366337d02e [kmnist-test-labels.npz]=3ae489a79983d0fe386152684e3b5412
  [k49-train-labels.npz]=44a8e1b893f81e63ff38d73cad420f7a [k49-test-labels.npz]=4da6f7a62e67a832d5eb1bd85c5ee448
)

# One benchmark's four .npz files into $dest/<name>/, each checked against its md5 when known.
# Files already there with the right md5 are kept; a mirror missing a file is an error naming it.
fetch_bench() {  # kmnist | k49
  local name="$1" out="$dest/$1" file src sum
  mkdir -p "$out"
  for file in "$name-train-imgs.npz" "$name-train-labels.npz" "$name-test-imgs.npz" "$name-test-labels.npz"; do
    if [ "$force" = 0 ] && [ -f "$out/$file" ]; then say "$out/$file already there"; continue; fi
    if [ -n "$mirror" ]; then
      src="$mirror/$name/$file"
      [ -f "$src" ] || fail "mirror $mirror has no $name/$file (the official file: $BENCH_URL/$name/$file)"
      cp "$src" "$out/$file.partial"
    else
      say "downloading $BENCH_URL/$name/$file"
      download "$BENCH_URL/$name/$file" "$out/$file.partial" || fail "download of $BENCH_URL/$name/$file failed; use --mirror DIR with a local copy"
    fi
    mv "$out/$file.partial" "$out/$file"
  done
  local status=0
  for file in "${!BENCH_MD5[@]}"; do
    case "$file" in "$name"-*) ;; *) continue ;; esac
    sum="$(md5sum "$out/$file" | cut -d' ' -f1)"
    if [ "$sum" = "${BENCH_MD5[$file]}" ]; then say "$file ok (md5 $sum)"
    else echo "[fetch_data] BAD: $out/$file has md5 $sum, the official file ${BENCH_MD5[$file]} (delete it and fetch again)" >&2; status=1; fi
  done
  return $status
}

if [ "$only" = kmnist ] || [ "$only" = k49 ]; then
  fetch_bench "$only"
  exit $?
fi

[ "$only" = "" ] || [ "$only" = kanjivg ] && fetch_kanjivg
[ "$only" = "" ] || [ "$only" = kkanji ] && fetch_kkanji

# Verify. The official archives: KanjiVG ~11.6k SVGs (6.7k base), Kuzushiji-Kanji 3,832 classes /
# 140,424 images; the shared subset used by CI has 3,831 classes / 42,562 images.
status=0
if [ "$only" != kkanji ]; then
  n=$(count_svgs "$dest/kanjivg/kanji")
  nbase=$(find "$dest/kanjivg/kanji" -maxdepth 1 -regextype posix-extended -regex '.*/[0-9a-f]{5}\.svg' 2>/dev/null | wc -l)
  if [ "$n" -ge 6000 ]; then say "KanjiVG ok: $n SVG files ($nbase base characters) in $dest/kanjivg/kanji"
  else echo "[fetch_data] MISSING: KanjiVG has only $n SVG files in $dest/kanjivg/kanji (expected >= 6,000)" >&2; status=1; fi
fi
if [ "$only" != kanjivg ]; then
  c=$(count_classes "$dest/kkanji2"); p=$(count_pngs "$dest/kkanji2")
  if [ "$c" -ge 3000 ] && [ "$p" -ge 10000 ]; then say "Kuzushiji-Kanji ok: $p images in $c classes in $dest/kkanji2"
  else echo "[fetch_data] MISSING: Kuzushiji-Kanji has $p images in $c classes in $dest/kkanji2 (expected >= 3,000 classes)" >&2; status=1; fi
fi
exit $status
