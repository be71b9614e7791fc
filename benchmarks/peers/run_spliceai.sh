#!/usr/bin/env bash
# Run Illumina's SpliceAI 1.3.1 (the reference implementation) from the
# virtualenv made by benchmarks/peers/setup_spliceai.sh, creating it first if
# it is missing. All arguments are passed to `spliceai` unchanged, e.g.
#
#   benchmarks/peers/run_spliceai.sh -I in.vcf -O out.vcf -R ref.fa -A grch38 -D 50
#
# -R must be an uncompressed FASTA (SpliceAI reads it with pyfaidx).
# Runs on CPU (CUDA_VISIBLE_DEVICES is set empty unless SPLICEAI_USE_GPU=1).
# Venv: $SPLICEAI_VENV, else ${SPLICEANNOT_CACHE:-$HOME/.cache/spliceannot}/peers/spliceai131
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE="${SPLICEANNOT_CACHE:-$HOME/.cache/spliceannot}"
VENV="${SPLICEAI_VENV:-$CACHE/peers/spliceai131}"

if [ ! -x "$VENV/bin/spliceai" ]; then
  bash "$HERE/setup_spliceai.sh" "$VENV" >/dev/null
fi

if [ "${SPLICEAI_USE_GPU:-0}" != "1" ]; then
  export CUDA_VISIBLE_DEVICES=""
fi
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"
exec "$VENV/bin/spliceai" "$@"
