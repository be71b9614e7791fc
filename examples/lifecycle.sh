#!/usr/bin/env bash
# The model lifecycle end to end on real data, from the command line:
# GRCh38 chr16:186,964-397,118 with its RefSeq genes, from the Debian
# package augustus-doc.
#
# NETWORK: the first run downloads that package (about 24 MB) with
# `apt-get download augustus-doc` (and runs `apt-get update` if that fails)
# through scripts/fetch-augustus-doc.sh, and unpacks it (about 146 MB) into
# ${SPLICEANNOT_CACHE:-~/.cache/spliceannot}/augustus-doc. Later runs reuse
# that copy without the network. Needs a Debian or Ubuntu system (apt-get,
# dpkg-deb).
#
#   create-data -> evaluate (SpliceAI, and OpenSpliceAI's MANE models if
#   given) -> transfer from SpliceAI (one epoch) -> calibrate -> ensemble ->
#   evaluate again -> annotate the example VCF with the result
#
# Usage: examples/lifecycle.sh [WORK_DIR] [OPENSPLICEAI_10000NT_DIR]
# Needs `spliceannot` on PATH (or SPLICEANNOT=path/to/spliceannot).
# About 10 minutes on 2 CPU cores, most of it the one transfer epoch.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
WORK="${1:-lifecycle-chr16}"
OSAI="${2:-}"
SA="${SPLICEANNOT:-spliceannot}"
mkdir -p "$WORK"

echo "lifecycle.sh: getting the Debian package augustus-doc (apt-get download, about 24 MB; skipped when cached in ${SPLICEANNOT_CACHE:-$HOME/.cache/spliceannot}/augustus-doc)" >&2
DOC="$(bash "$HERE/../scripts/fetch-augustus-doc.sh")"
FASTA="$DOC/tutorial-cgp/genomes/hg38.fa"
GTF="$DOC/tutorial-cgp/refseq/refseq.hg38.gtf"
[ -e "$FASTA" ] || FASTA="$FASTA.gz"
[ -e "$GTF" ] || GTF="$GTF.gz"

step() { printf '\n== %s\n' "$*" >&2; }

# The RefSeq GTF carries no biotypes (--biotype all) and names every
# accession as its own gene; the region is one contig, so genes are split.
step "create-data"
"$SA" create-data -R "$FASTA" -A "$GTF" -o "$WORK/data" --biotype all \
  --split random --split-by gene --test-fraction 0.25 --val-fraction 0.2 --seed 7 --force

step "evaluate the pretrained models on every gene of the region"
models=(-m spliceai)
[ -n "$OSAI" ] && models+=(-m "$OSAI")
"$SA" evaluate "${models[@]}" -R "$FASTA" -A "$GTF" --biotype all -o "$WORK/evaluate-pretrained.tsv"

step "transfer from SpliceAI (member 1): train the last 4 residual units for one epoch"
"$SA" transfer -m spliceai --train-last 4 -d "$WORK/data" -o "$WORK/transfer" \
  --epochs 1 --batch-size 2 --metric-windows 8 --no-progress

step "calibrate the transferred model on the validation genes (one temperature per class)"
"$SA" calibrate -m "$WORK/transfer/best.safetensors" --data "$WORK/data/validation.h5" \
  -o "$WORK/transfer-calibrated.safetensors" --per-class --plot "$WORK/reliability.png"

step "ensemble: the transferred model with SpliceAI's five"
"$SA" convert spliceai -o "$WORK/spliceai.safetensors"
"$SA" ensemble "$WORK/transfer/best.safetensors" "$WORK/spliceai.safetensors" -o "$WORK/ensemble.safetensors"

step "evaluate on the held-out test genes"
"$SA" evaluate -m spliceai -m "$WORK/transfer/best.safetensors" \
  -m "$WORK/transfer-calibrated.safetensors" -m "$WORK/ensemble.safetensors" \
  --data "$WORK/data/test.h5" -o "$WORK/evaluate-test.tsv"

step "annotate the example VCF with the calibrated model and with the ensemble"
"$SA" annotate -I "$HERE/variants.vcf" -O "$WORK/variants.calibrated.vcf" \
  -R "$HERE/chr16_region.fa.gz" -A grch38 -m "$WORK/transfer-calibrated.safetensors"
"$SA" annotate -I "$HERE/variants.vcf" -O "$WORK/variants.ensemble.vcf" \
  -R "$HERE/chr16_region.fa.gz" -A grch38 -m "$WORK/ensemble.safetensors"
echo "done: $WORK" >&2
