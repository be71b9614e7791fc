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
for file in v129.png three.annotated.vcf report.html; do
    [ -s "$file" ] || { echo "check_wheel: $file was not written" >&2; exit 1; }
done
echo "check_wheel: $(basename "$WHEEL") installed; $(echo $commands | wc -w) commands, plot, annotate and report ran from it"
