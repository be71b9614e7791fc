#!/usr/bin/env bash
# Create a virtualenv holding the bw2/SpliceAI fork of SpliceAI (the one behind
# SpliceAI-lookup, which also scores MNVs and delins), pinned to one commit, on
# CPU TensorFlow. It is a peer for reference outputs only: nothing of it is
# imported by spliceannot.
#
# Usage: benchmarks/peers/setup_bw2.sh [VENV_DIR]
# Default VENV_DIR: ${SPLICEANNOT_CACHE:-$HOME/.cache/spliceannot}/peers/spliceai-bw2-<short commit>
#
# Source: the git repository named by $SPLICEAI_BW2_GIT (a local clone or bare
# mirror of https://github.com/bw2/SpliceAI, or a URL). When it is a URL (the
# default), a bare clone is made once in
# ${SPLICEANNOT_CACHE:-$HOME/.cache/spliceannot}/src/bw2-SpliceAI.git.
# The tree of commit $SPLICEAI_BW2_COMMIT is exported with `git archive` into a
# temporary directory and pip-installed from there (not editable).
#
# Idempotent: if the venv already runs `spliceai -h` and records the pinned
# commit, nothing is installed. Prints the venv path on stdout when done.
set -euo pipefail

CACHE="${SPLICEANNOT_CACHE:-$HOME/.cache/spliceannot}"
# Pinned commit: master of bw2/SpliceAI as of 2024-11-13 ("only report insertion
# scores when donor gain or acceptor gain is > 0"); setup.py says version 1.3.4.
COMMIT="${SPLICEAI_BW2_COMMIT:-c7dbd93540ef08d2e5d675d771e9386f14230250}"
SHORT="${COMMIT:0:7}"
VENV="${1:-${SPLICEAI_BW2_VENV:-$CACHE/peers/spliceai-bw2-$SHORT}}"
GIT_SRC="${SPLICEAI_BW2_GIT:-https://github.com/bw2/SpliceAI.git}"
PYTHON="${PYTHON:-python3}"
MARKER="$VENV/spliceai-bw2.commit"

# Same pins as benchmarks/peers/setup_spliceai.sh (see there why), except that
# the fork reads the FASTA with pyfastx instead of pyfaidx.
PINS=(
  "tensorflow-cpu==2.15.1"
  "keras==2.15.0"
  "numpy==1.26.4"
  "setuptools<81"
  "pandas==2.2.3"
  "pysam==0.22.1"
  "pyfastx==2.3.1"
)

ready() {
  [ -x "$VENV/bin/spliceai" ] && [ -f "$MARKER" ] && [ "$(cat "$MARKER")" = "$COMMIT" ] &&
    TF_CPP_MIN_LOG_LEVEL=3 CUDA_VISIBLE_DEVICES="" "$VENV/bin/spliceai" -h >/dev/null 2>&1
}

if ready; then
  echo "$VENV"
  exit 0
fi

# A git directory to read the commit from.
if [ -d "$GIT_SRC" ]; then
  GIT_DIR_SRC="$GIT_SRC"
else
  GIT_DIR_SRC="$CACHE/src/bw2-SpliceAI.git"
  if [ ! -d "$GIT_DIR_SRC" ]; then
    mkdir -p "$(dirname "$GIT_DIR_SRC")"
    git clone --quiet --bare "$GIT_SRC" "$GIT_DIR_SRC" >&2
  fi
fi
if ! git -C "$GIT_DIR_SRC" cat-file -e "$COMMIT^{commit}" 2>/dev/null; then
  echo "setup_bw2.sh: commit $COMMIT not found in $GIT_DIR_SRC" >&2
  exit 1
fi

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
SRC="$TMP/src"
mkdir -p "$SRC"

# A partial mirror may lack the blobs of the largest files (the two gene tables
# spliceai/annotations/grch3{7,8}.txt). Export what the git directory holds with
# `git archive`; take any missing file from the spliceai 1.3.1 wheel of the
# package registry, and only if its git blob id is the one the commit names
# (the fork did not change those files since 1.3.1).
PRESENT=()
MISSING=()
while IFS=$'\t' read -r meta path; do
  blob="${meta##* }"
  if git -C "$GIT_DIR_SRC" cat-file -e "$blob" 2>/dev/null; then
    PRESENT+=("$path")
  else
    MISSING+=("$blob $path")
  fi
done < <(git -C "$GIT_DIR_SRC" ls-tree -r "$COMMIT")
git -C "$GIT_DIR_SRC" archive --format=tar "$COMMIT" -- "${PRESENT[@]}" | tar -x -C "$SRC"
if [ "${#MISSING[@]}" -gt 0 ]; then
  mkdir -p "$TMP/wheel"
  "$PYTHON" -m pip download --quiet --no-deps --only-binary=:all: -d "$TMP/wheel" "spliceai==1.3.1" >&2
  for entry in "${MISSING[@]}"; do
    blob="${entry%% *}"
    path="${entry#* }"
    mkdir -p "$SRC/$(dirname "$path")"
    "$PYTHON" -c 'import sys, zipfile; sys.stdout.buffer.write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]))' \
      "$TMP"/wheel/spliceai-1.3.1-*.whl "$path" > "$SRC/$path"
    got="$(git hash-object "$SRC/$path")"
    if [ "$got" != "$blob" ]; then
      echo "setup_bw2.sh: $path from the spliceai 1.3.1 wheel is blob $got, commit $COMMIT names $blob" >&2
      exit 1
    fi
    echo "setup_bw2.sh: $path taken from the spliceai 1.3.1 wheel (same git blob $blob)" >&2
  done
fi

mkdir -p "$(dirname "$VENV")"
if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV" >&2
fi
"$VENV/bin/python" -m pip install --quiet --upgrade pip >&2 || true
"$VENV/bin/python" -m pip install --quiet "${PINS[@]}" >&2
# The fork's own requirements (keras, pyfastx, pysam, numpy, pandas) are all
# pinned above; --force-reinstall replaces any other build of "spliceai 1.3.4".
"$VENV/bin/python" -m pip install --quiet --no-deps --force-reinstall "$SRC" >&2
echo "$COMMIT" > "$MARKER"

if ! ready; then
  echo "setup_bw2.sh: 'spliceai -h' fails in $VENV" >&2
  TF_CPP_MIN_LOG_LEVEL=2 CUDA_VISIBLE_DEVICES="" "$VENV/bin/spliceai" -h >&2 || true
  exit 1
fi
echo "$VENV"
