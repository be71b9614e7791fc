#!/usr/bin/env bash
# Create a virtualenv holding Pangolin (github tkzeng/Pangolin, commit 5cf94b8,
# the reference implementation) on CPU PyTorch, for reference outputs and
# benchmarks.
#
# Usage: benchmarks/peers/setup_pangolin.sh [VENV_DIR]
# Default VENV_DIR: ${SPLICEANNOT_CACHE:-$HOME/.cache/spliceannot}/peers/pangolin-5cf94b8
#
# Pangolin's source comes from $PANGOLIN_SRC (a local clone or any git URL),
# else from https://github.com/tkzeng/Pangolin; it is cloned into
# VENV_DIR/src/pangolin-5cf94b8, checked out at 5cf94b8 and installed from
# there. The 12 weight files the CLI loads (pangolin/models/final.*.{0,2,4,6}.3.v2)
# are checked against their sha256; missing or different ones are replaced by
# copies from $PANGOLIN_MODELS (default: ../shared/data/pangolin-models beside
# the repo), whose sha256 are checked first. Pangolin and its weights are
# GPL-3.0: they live in the venv only, never in this repository.
#
# Also installed: create_db.py (Pangolin's GTF -> gffutils database script), in
# VENV_DIR/bin.
# Idempotent: if the venv already runs `pangolin -h`, PyVCF can write and the
# installed weights have the right sha256, nothing is installed.
# Prints the venv path on stdout when done.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
CACHE="${SPLICEANNOT_CACHE:-$HOME/.cache/spliceannot}"
VENV="${1:-${PANGOLIN_VENV:-$CACHE/peers/pangolin-5cf94b8}}"
PYTHON="${PYTHON:-python3.11}"
SRC="${PANGOLIN_SRC:-https://github.com/tkzeng/Pangolin}"
MODELS_SRC="${PANGOLIN_MODELS:-$REPO/../shared/data/pangolin-models}"
COMMIT="5cf94b8db938c658391b4305cd7ce33297d44ff7"
BUILD="$VENV/src/pangolin-5cf94b8"

# PyVCF 0.6.8 (Pangolin reads and writes VCFs with it) is Python 2 code that
# setup.py converts with `use_2to3=True`; setuptools dropped use_2to3 in 58.
# It is therefore built first, unchanged, with setuptools 57.5.0 and no build
# isolation (Python 3.11 still has lib2to3). Cython is not installed, so its
# optional C parser is not built: the pure-Python parser is used.
# One line of it is then changed: vcf.Writer makes its csv.writer with
# quotechar='' (and quoting=csv.QUOTE_NONE), which Python >= 3.11 rejects
# ('"quotechar" must be a 1-character string'), so Pangolin could write no VCF.
# quotechar=None is what '' meant to Python <= 3.10 under QUOTE_NONE (no quote
# character; identical output, checked against Python 3.10's csv), and the only
# change made to PyVCF.
BOOTSTRAP=("setuptools==57.5.0" "wheel==0.45.1")
PYVCF="PyVCF==0.6.8"
# Versions pinned so that the run is reproducible:
# - torch 2.13.0: the CPU build where pip's index offers one (an unpinned torch
#   may pull a multi-GB CUDA build); $PANGOLIN_TORCH replaces the pin.
# - setuptools 80.9.0: pangolin.py imports pkg_resources, gone from setuptools 81.
# - the rest: the versions pip resolved when this was written; pandas 2.2.3
#   rather than 3.x (Pangolin predates pandas 3, whose default string dtype
#   changes how CSV rows are handled).
PINS=(
  "${PANGOLIN_TORCH:-torch==2.13.0}"
  "setuptools==80.9.0"
  "numpy==2.4.6"
  "pandas==2.2.3"
  "gffutils==0.14"
  "pyfaidx==0.9.2.2"
  "argh==0.31.3"
  "argcomplete==3.7.2"
  "simplejson==4.3.0"
  "pyfastx==2.3.1"
  "biopython==1.88"
  "$PYVCF"
)

WEIGHTS_SHA256="
f0478fab173b75f7f7e9fe96688bad6c50fa4a46d70557f423b110caaf565501  final.1.0.3.v2
c4c6bb4880fa6fb28b14182ae3ea0600edb07056158f55325b5e6e6e48fc9f26  final.2.0.3.v2
ec685a6e7105a4486c1f89a005458a13deb3fe7171f13d434f4877e386d10676  final.3.0.3.v2
559c05de3e1ce65c2515ca3e92ef85edb0ec2e47686ca58060e25891ce06eb3a  final.1.2.3.v2
48758ba8b95eee9aa9feea52672ef06ca1b34111299c27f8a710f734d8b9aae5  final.2.2.3.v2
7cb576c2b24db4fdd6970c4ca4fb7c20ae1b1d8ae80645ebbe689848b5743129  final.3.2.3.v2
c50b12e0c0af776d5674ca5e346493f8265783494d4df383364de9c1136657f6  final.1.4.3.v2
e03303bed4fd6f135ec0f6c1b192cce954ea42d0646f44d17b4a6fbb2b1f610e  final.2.4.3.v2
9476d2e25520d7ff15bece0cd5d3b657e3b1dd3cc5fcab1d9c3b62bea7a0c5b6  final.3.4.3.v2
2aae563fa18a8a9b6699c6c96e0d32b8ec7543f8f805fb3bc9de77302cc9f66e  final.1.6.3.v2
7d3c0b1b2a60067b940dec315567874fbc8bcd322f1b7c76bf969f51f0f53f7f  final.2.6.3.v2
756e7721a382cace24e9bfea5b543af5623f2487d9a3efe7385e9c76367005fd  final.3.6.3.v2
"

# weights_ok DIR: the 12 weight files in DIR have the expected sha256.
weights_ok() {
  [ -d "$1" ] && (cd "$1" && printf '%s' "$WEIGHTS_SHA256" | sed '/^$/d' | sha256sum --check --quiet --status - 2>/dev/null)
}

installed_models() {
  "$VENV/bin/python" -c 'import os, pangolin; print(os.path.join(os.path.dirname(pangolin.__file__), "models"))' \
    2>/dev/null
}

# vcf.Writer can be made (see the PyVCF note above).
pyvcf_writes() {
  "$VENV/bin/python" - <<'PY' >/dev/null 2>&1
import io
import vcf
header = "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
vcf.Writer(io.StringIO(), vcf.Reader(io.StringIO(header)))
PY
}

ready() {
  [ -x "$VENV/bin/pangolin" ] && pyvcf_writes &&
    CUDA_VISIBLE_DEVICES="" "$VENV/bin/pangolin" -h >/dev/null 2>&1 &&
    weights_ok "$(installed_models)"
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
if ! "$VENV/bin/python" -m pip show --quiet PyVCF >/dev/null 2>&1; then
  "$VENV/bin/python" -m pip install --quiet "${BOOTSTRAP[@]}" >&2
  "$VENV/bin/python" -m pip install --quiet --no-build-isolation "$PYVCF" >&2
fi
"$VENV/bin/python" -m pip install --quiet "${PINS[@]}" >&2
if ! pyvcf_writes; then
  parser="$("$VENV/bin/python" -c 'import vcf.parser; print(vcf.parser.__file__)')"
  sed -i "s/quotechar='', quoting=csv.QUOTE_NONE/quotechar=None, quoting=csv.QUOTE_NONE/" "$parser"
  if ! pyvcf_writes; then
    echo "setup_pangolin.sh: PyVCF's vcf.Writer still fails in $VENV ($parser)" >&2
    exit 1
  fi
fi

# Pangolin's source at the pinned commit.
if [ ! -d "$BUILD/.git" ]; then
  rm -rf "$BUILD"
  mkdir -p "$(dirname "$BUILD")"
  git clone --quiet "$SRC" "$BUILD" >&2
fi
git -C "$BUILD" -c advice.detachedHead=false checkout --quiet "$COMMIT" >&2

# The 12 weight files, from $PANGOLIN_MODELS where the clone's differ.
if ! weights_ok "$BUILD/pangolin/models"; then
  if ! weights_ok "$MODELS_SRC"; then
    echo "setup_pangolin.sh: the Pangolin weights (final.{1,2,3}.{0,2,4,6}.3.v2) in $BUILD/pangolin/models" \
      "are missing or differ, and $MODELS_SRC does not hold them with the expected sha256;" \
      "set PANGOLIN_MODELS to a directory that does" >&2
    exit 3
  fi
  echo "setup_pangolin.sh: copying the weights from $MODELS_SRC" >&2
  mkdir -p "$BUILD/pangolin/models"
  printf '%s' "$WEIGHTS_SHA256" | sed '/^$/d' | while read -r _ name; do
    cp -f "$MODELS_SRC/$name" "$BUILD/pangolin/models/$name"
  done
fi

"$VENV/bin/python" -m pip install --quiet --no-deps --no-build-isolation --force-reinstall "$BUILD" >&2

if ! ready; then
  echo "setup_pangolin.sh: 'pangolin -h' fails in $VENV, or its installed weights differ" >&2
  CUDA_VISIBLE_DEVICES="" "$VENV/bin/pangolin" -h >&2 || true
  exit 1
fi
echo "$VENV"
