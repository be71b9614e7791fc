#!/usr/bin/env bash
# Create a virtualenv holding OpenSpliceAI 0.0.7 (PyPI) on CPU PyTorch, and a
# copy of its five MANE 10000-nt models beside it, for benchmarks.
#
# Usage: benchmarks/peers/setup_openspliceai.sh [VENV_DIR]
# Default VENV_DIR: ${SPLICEANNOT_CACHE:-$HOME/.cache/spliceannot}/peers/openspliceai007
# Models are copied from $OPENSPLICEAI_MODELS_SRC, else from
# ../shared/data/openspliceai-models/openspliceai-mane/10000nt/ beside the repo,
# into ${SPLICEANNOT_CACHE:-$HOME/.cache/spliceannot}/peers/openspliceai-mane-10000nt
# ($OPENSPLICEAI_MODELS overrides that location). They are GPL-3.0 data from
# the OpenSpliceAI repository: they are never copied into this repository.
#
# Idempotent: if the venv already runs `openspliceai variant -h` and the models
# are in place, nothing is installed or copied.
# Prints two lines on stdout when done: the venv path and the models directory.
# Exits 3 (after installing the venv) if no models can be found.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
CACHE="${SPLICEANNOT_CACHE:-$HOME/.cache/spliceannot}"
VENV="${1:-${OPENSPLICEAI_VENV:-$CACHE/peers/openspliceai007}}"
MODELS="${OPENSPLICEAI_MODELS:-$CACHE/peers/openspliceai-mane-10000nt}"
MODELS_SRC="${OPENSPLICEAI_MODELS_SRC:-$REPO/../shared/data/openspliceai-models/openspliceai-mane/10000nt}"
PYTHON="${PYTHON:-python3}"

# Versions pinned so that the run is reproducible:
# - torch 2.13.0: the CPU build where pip's index offers one (an unpinned torch
#   may pull a multi-GB CUDA build); $OPENSPLICEAI_TORCH replaces the pin.
# - the rest: the versions OpenSpliceAI 0.0.7 resolved to when this was written.
PINS=(
  "openspliceai==0.0.7"
  "${OPENSPLICEAI_TORCH:-torch==2.13.0}"
  "numpy==2.4.6"
  "pandas==3.1.1"
  "pysam==0.24.1"
  "pyfaidx==0.9.2.2"
)

venv_ready() {
  [ -x "$VENV/bin/openspliceai" ] &&
    CUDA_VISIBLE_DEVICES="" "$VENV/bin/openspliceai" variant -h >/dev/null 2>&1
}

count_models() {
  local n=0 f
  for f in "$1"/model_10000nt_*.pt; do
    [ -f "$f" ] && n=$((n + 1))
  done
  echo "$n"
}

models_ready() {
  [ "$(count_models "$MODELS")" -eq 5 ]
}

if ! venv_ready; then
  mkdir -p "$(dirname "$VENV")"
  if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV" >&2
  fi
  "$VENV/bin/python" -m pip install --quiet --upgrade pip >&2 || true
  "$VENV/bin/python" -m pip install --quiet "${PINS[@]}" >&2
  if ! venv_ready; then
    echo "setup_openspliceai.sh: 'openspliceai variant -h' fails in $VENV" >&2
    CUDA_VISIBLE_DEVICES="" "$VENV/bin/openspliceai" variant -h >&2 || true
    exit 1
  fi
fi

if ! models_ready; then
  if [ "$(count_models "$MODELS_SRC")" -ne 5 ]; then
    echo "setup_openspliceai.sh: the five OpenSpliceAI MANE 10000-nt models" \
      "(model_10000nt_rs1[0-4].pt) are not in $MODELS_SRC;" \
      "set OPENSPLICEAI_MODELS_SRC to a directory that holds them" >&2
    echo "$VENV"
    exit 3
  fi
  mkdir -p "$MODELS"
  cp "$MODELS_SRC"/model_10000nt_*.pt "$MODELS"/
  chmod u+w "$MODELS"/*.pt
fi

echo "$VENV"
echo "$MODELS"
