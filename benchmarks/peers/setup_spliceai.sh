#!/usr/bin/env bash
# Create a virtualenv holding Illumina's SpliceAI 1.3.1 (the reference
# implementation) on CPU TensorFlow, for reference outputs and benchmarks.
#
# Usage: benchmarks/peers/setup_spliceai.sh [VENV_DIR]
# Default VENV_DIR: ${SPLICEANNOT_CACHE:-$HOME/.cache/spliceannot}/peers/spliceai131
# Idempotent: if the venv already runs `spliceai -h`, nothing is installed.
# Prints the venv path on stdout when done.
set -euo pipefail

CACHE="${SPLICEANNOT_CACHE:-$HOME/.cache/spliceannot}"
VENV="${1:-${SPLICEAI_VENV:-$CACHE/peers/spliceai131}}"
PYTHON="${PYTHON:-python3}"

# Versions pinned so that SpliceAI 1.3.1 imports and runs:
# - tensorflow-cpu 2.15.1 / keras 2.15.0: last TF with Keras 2 built in, which
#   loads SpliceAI's .h5 models with `keras.models.load_model`.
# - numpy 1.26.4: TF 2.15 is built against numpy 1.x.
# - setuptools < 81: spliceai/__init__.py imports pkg_resources.
# - pysam / pyfaidx: SpliceAI reads the VCF with pysam and the FASTA with pyfaidx.
PINS=(
  "spliceai==1.3.1"
  "tensorflow-cpu==2.15.1"
  "keras==2.15.0"
  "numpy==1.26.4"
  "setuptools<81"
  "pandas==2.2.3"
  "pysam==0.22.1"
  "pyfaidx==0.8.1.3"
)

ready() {
  [ -x "$VENV/bin/spliceai" ] &&
    TF_CPP_MIN_LOG_LEVEL=3 CUDA_VISIBLE_DEVICES="" "$VENV/bin/spliceai" -h >/dev/null 2>&1
}

if ready; then
  echo "$VENV"
  exit 0
fi

mkdir -p "$(dirname "$VENV")"
if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV" >&2
fi
"$VENV/bin/python" -m pip install --quiet --upgrade pip >&2 || true
"$VENV/bin/python" -m pip install --quiet "${PINS[@]}" >&2

if ! ready; then
  echo "setup_spliceai.sh: 'spliceai -h' fails in $VENV" >&2
  TF_CPP_MIN_LOG_LEVEL=2 CUDA_VISIBLE_DEVICES="" "$VENV/bin/spliceai" -h >&2 || true
  exit 1
fi
echo "$VENV"
