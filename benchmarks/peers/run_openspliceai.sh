#!/usr/bin/env bash
# Run OpenSpliceAI 0.0.7's `openspliceai variant` from the virtualenv made by
# benchmarks/peers/setup_openspliceai.sh, creating it first if it is missing.
# All arguments are passed to `openspliceai variant` unchanged, e.g.
#
#   benchmarks/peers/run_openspliceai.sh -I in.vcf -O out.vcf -R ref.fa -A grch38 -D 50 \
#       -m ~/.cache/spliceannot/peers/openspliceai-mane-10000nt -f 10000 -t pytorch -b 32
#
# -f 10000 is needed with the 10000-nt models (the default flank is 80), -A
# takes grch37, grch38 (the same GENCODE tables SpliceAI ships) or a
# SpliceAI-style table, and -R must be an uncompressed FASTA (pyfaidx).
# The scores go into the INFO field `OpenSpliceAI`.
# Runs on CPU (CUDA_VISIBLE_DEVICES is set empty unless OPENSPLICEAI_USE_GPU=1).
# Venv: $OPENSPLICEAI_VENV, else ${SPLICEANNOT_CACHE:-$HOME/.cache/spliceannot}/peers/openspliceai007
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE="${SPLICEANNOT_CACHE:-$HOME/.cache/spliceannot}"
VENV="${OPENSPLICEAI_VENV:-$CACHE/peers/openspliceai007}"

if [ ! -x "$VENV/bin/openspliceai" ]; then
  bash "$HERE/setup_openspliceai.sh" "$VENV" >/dev/null
fi

if [ "${OPENSPLICEAI_USE_GPU:-0}" != "1" ]; then
  export CUDA_VISIBLE_DEVICES=""
fi
exec "$VENV/bin/openspliceai" variant "$@"
