#!/usr/bin/env bash
# The import rule of docs/ARCHITECTURE.md, checked on every #include "folder/..." under src/: each
# folder includes only the folders allowed below (never one above it, never train from
# generate/eval/serve), and the torch-free folders include no torch, ATen or c10 header.
# Usage: check_layers.sh SRC_DIR. Prints every violation; exits 1 when there is one.
set -u
src="${1:?usage: check_layers.sh SRC_DIR}"

declare -A allowed=(
  [util]="util"
  [config]="config util"
  [runtime]="runtime util"
  [data]="data config util"
  [export]="export data config util"
  [models]="models data config runtime util"
  [run]="run models data export config runtime util"
  [train]="train run models data export config runtime util"
  [generate]="generate run models data export config runtime util"
  [eval]="eval generate run models data export config runtime util"
  [serve]="serve eval generate run models data export config runtime util"
  [cli]="cli serve eval generate train run models data export config runtime util"
)
torch_free="util config data export"

bad=0
checked=0
for dir in "$src"/*/; do
  folder=$(basename "$dir")
  if [ -z "${allowed[$folder]+x}" ]; then
    echo "src/$folder: folder not in the layer table of tests/layout/check_layers.sh"
    bad=1
    continue
  fi
  for file in "$dir"*; do
    [ -f "$file" ] || continue
    while IFS= read -r line; do
      checked=$((checked + 1))
      target=$(printf '%s' "$line" | sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([a-z_]*\)\/.*/\1/p')
      if [ -n "$target" ] && ! printf ' %s ' "${allowed[$folder]}" | grep -q " $target "; then
        echo "src/$folder/$(basename "$file"): includes $target/ ($line), which $folder/ may not"
        bad=1
      fi
      if printf ' %s ' "$torch_free" | grep -q " $folder " &&
         printf '%s' "$line" | grep -Eq '^[[:space:]]*#[[:space:]]*include[[:space:]]*<(torch|ATen|c10)/'; then
        echo "src/$folder/$(basename "$file"): torch-free folder includes a torch header ($line)"
        bad=1
      fi
    done < <(grep -E '^[[:space:]]*#[[:space:]]*include' "$file")
  done
done
[ "$checked" -gt 0 ] || { echo "no #include line found under $src"; exit 1; }
[ "$bad" = 0 ] && echo "layers: $checked includes checked, none crosses the rule"
exit "$bad"
