#!/usr/bin/env bash
# Run Pangolin (github tkzeng/Pangolin, commit 5cf94b8; the reference
# implementation) from the virtualenv made by benchmarks/peers/setup_pangolin.sh,
# creating it first if it is missing. All arguments are passed to `pangolin`
# unchanged, e.g.
#
#   benchmarks/peers/run_pangolin.sh in.vcf ref.fa genes.db out_prefix -d 50
#
# writes out_prefix.vcf (or out_prefix.csv for a .csv input). The annotation is
# a gffutils database; make one from a GTF with Pangolin's own script:
#
#   benchmarks/peers/run_pangolin.sh create_db.py genes.gtf --filter None
#
# (a first argument `create_db.py` runs that script instead of `pangolin`; it
# writes genes.db beside genes.gtf).
# The FASTA is read with pyfastx, which writes its index (.fxi) beside it.
# Threads: $PANGOLIN_THREADS sets OMP_NUM_THREADS and MKL_NUM_THREADS (which
# torch reads for its thread pool); unset, torch's default is used.
# Runs on CPU (CUDA_VISIBLE_DEVICES is set empty unless PANGOLIN_USE_GPU=1).
# With $PANGOLIN_SCORE_CACHE set to a directory, Pangolin's per-variant network
# scores are kept there and reused by later runs (see pangolin_cached.py).
# Venv: $PANGOLIN_VENV, else ${SPLICEANNOT_CACHE:-$HOME/.cache/spliceannot}/peers/pangolin-5cf94b8
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE="${SPLICEANNOT_CACHE:-$HOME/.cache/spliceannot}"
VENV="${PANGOLIN_VENV:-$CACHE/peers/pangolin-5cf94b8}"

if [ ! -x "$VENV/bin/pangolin" ] || [ ! -x "$VENV/bin/create_db.py" ]; then
  bash "$HERE/setup_pangolin.sh" "$VENV" >/dev/null
fi

if [ "${PANGOLIN_USE_GPU:-0}" != "1" ]; then
  export CUDA_VISIBLE_DEVICES=""
fi
if [ -n "${PANGOLIN_THREADS:-}" ]; then
  export OMP_NUM_THREADS="$PANGOLIN_THREADS" MKL_NUM_THREADS="$PANGOLIN_THREADS"
fi
# pkg_resources' deprecation warning would otherwise open every run's stderr.
export PYTHONWARNINGS="${PYTHONWARNINGS:-ignore::UserWarning:pangolin.pangolin}"

if [ "${1:-}" = "create_db.py" ]; then
  shift
  exec "$VENV/bin/python" "$VENV/bin/create_db.py" "$@"
fi
if [ -n "${PANGOLIN_SCORE_CACHE:-}" ]; then
  exec "$VENV/bin/python" "$HERE/pangolin_cached.py" "$PANGOLIN_SCORE_CACHE" "$@"
fi
exec "$VENV/bin/pangolin" "$@"
