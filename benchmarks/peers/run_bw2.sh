#!/usr/bin/env bash
# Run the bw2/SpliceAI fork from the virtualenv made by
# benchmarks/peers/setup_bw2.sh, creating it first if it is missing. All
# arguments are passed to its `spliceai` command unchanged, e.g.
#
#   benchmarks/peers/run_bw2.sh -I in.vcf -O out.vcf -R ref.fa -A grch38 -D 50
#
# The command line is the same as Illumina's SpliceAI 1.3.1 (-I -O -R -A -D -M,
# same defaults); what differs is the output and what gets scored:
# - MNVs and delins (REF and ALT both longer than 1 bp) are scored instead of
#   being written as `ALT|SYMBOL|.|.|.|.|.|.|.|.`;
# - each INFO entry has 19 fields, ALLELE|NAME|STRAND|DS_AG|DS_AL|DS_DG|DS_DL|
#   DP_AG|DP_AL|DP_DG|DP_DL|DS_AG_REF|DS_AG_ALT|DS_AL_REF|DS_AL_ALT|DS_DG_REF|
#   DS_DG_ALT|DS_DL_REF|DS_DL_ALT (1.3.1: ALLELE|SYMBOL|DS_AG..DP_DL, 10 fields);
# - -R is read with pyfastx, which accepts a plain or bgzipped FASTA and writes
#   its index (<fasta>.fxi) next to it, so the FASTA's folder must be writable.
# Runs on CPU (CUDA_VISIBLE_DEVICES is set empty unless SPLICEAI_USE_GPU=1).
# Venv: $SPLICEAI_BW2_VENV, else the default of setup_bw2.sh.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE="${SPLICEANNOT_CACHE:-$HOME/.cache/spliceannot}"
COMMIT="${SPLICEAI_BW2_COMMIT:-c7dbd93540ef08d2e5d675d771e9386f14230250}"
VENV="${SPLICEAI_BW2_VENV:-$CACHE/peers/spliceai-bw2-${COMMIT:0:7}}"

if [ ! -x "$VENV/bin/spliceai" ] || [ "$(cat "$VENV/spliceai-bw2.commit" 2>/dev/null)" != "$COMMIT" ]; then
  bash "$HERE/setup_bw2.sh" "$VENV" >/dev/null
fi

if [ "${SPLICEAI_USE_GPU:-0}" != "1" ]; then
  export CUDA_VISIBLE_DEVICES=""
fi
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"
exec "$VENV/bin/spliceai" "$@"
