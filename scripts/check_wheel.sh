#!/usr/bin/env bash
# Build spliceannot's wheel, install it (not editable) into a fresh virtualenv
# and run, from outside the repository, every command's --help, one plot, one
# annotate and one report: what a user of the wheel gets.  Usage:
#   bash scripts/check_wheel.sh [PYTHON]      (default: .venv/bin/python)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PYTHON=${1:-.venv/bin/python}
BUILD=$ROOT/build/wheel-check
rm -rf "$BUILD"
mkdir -p "$BUILD/dist" "$BUILD/run"

LOG=$BUILD/pip.log
quietly() { "$@" >"$LOG" 2>&1 || { cat "$LOG" >&2; echo "check_wheel: failed: $*" >&2; exit 1; }; }
quietly "$PYTHON" -m pip wheel --no-deps -w "$BUILD/dist" .
WHEEL=$(ls "$BUILD"/dist/spliceannot-*.whl)
quietly "$PYTHON" -m venv "$BUILD/venv"
# torch pinned to the CPU build, as for the development install
quietly "$BUILD/venv/bin/python" -m pip install "torch==2.13.0" "$WHEEL"

cd "$BUILD/run"  # nothing of the repository is importable from here
BIN=$BUILD/venv/bin
where=$("$BIN/python" -c 'import spliceannot, spliceannot.trainers, spliceannot.viz; print(spliceannot.__file__)')
case "$where" in
    "$BUILD"/venv/*) ;;
    *) echo "check_wheel: spliceannot imported from $where, not from the wheel" >&2; exit 1 ;;
esac
# every package of the source tree is in the wheel
"$BIN/python" - "$ROOT" <<'PY'
import importlib
import pathlib
import sys

root = pathlib.Path(sys.argv[1])
packages = sorted(".".join(path.parent.relative_to(root).parts) for path in (root / "spliceannot").rglob("__init__.py"))
missing = []
for name in packages:
    try:
        importlib.import_module(name)
    except ModuleNotFoundError as error:
        if (error.name or "").startswith("spliceannot"):
            missing.append(f"{name} ({error.name})")
if missing:
    sys.exit("check_wheel: not in the wheel: " + ", ".join(missing))
PY
commands=$("$BIN/spliceannot" --help | awk '/^Commands:/ {on = 1; next} on && /^  [a-z]/ {print $1}')
[ -n "$commands" ] || { echo "check_wheel: no commands listed by spliceannot --help" >&2; exit 1; }
for command in $commands; do
    "$BIN/spliceannot" "$command" --help >/dev/null
done
EXAMPLES=$ROOT/examples
quietly "$BIN/spliceannot" plot chr16:274274:G:C -R "$EXAMPLES/chr16_region.fa.gz" -A grch38 -o v129.png
grep -P '^#|\tv(129|130|131)\t' "$EXAMPLES/variants.vcf" > three.vcf
quietly "$BIN/spliceannot" annotate -I three.vcf -O three.annotated.vcf -R "$EXAMPLES/chr16_region.fa.gz" \
    -A grch38 --no-cache
quietly "$BIN/spliceannot" report three.annotated.vcf -o report.html --top 1
printf '##fileformat=VCFv4.2\n##contig=<ID=chr16>\n##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS\nchr16\t189933\ta\tC\tA\t.\t.\t.\tGT\t0|1\nchr16\t189934\tb\tT\tC\t.\t.\t.\tGT\t0|1\n' > pair.vcf
quietly "$BIN/spliceannot" annotate -I pair.vcf -O pair.annotated.vcf -R "$EXAMPLES/chr16_region.fa.gz" -A grch38 \
    --no-cache --haplotypes combined
grep -q 'SpliceAI_H2_CIS' pair.annotated.vcf || { echo "check_wheel: annotate --haplotypes wrote no FORMAT fields" >&2; exit 1; }
for file in v129.png three.annotated.vcf report.html; do
    [ -s "$file" ] || { echo "check_wheel: $file was not written" >&2; exit 1; }
done
echo "check_wheel: $(basename "$WHEEL") installed, every package in it; $(echo $commands | wc -w) commands, plot, annotate (also --haplotypes) and report ran from it"
