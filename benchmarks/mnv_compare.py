#!/usr/bin/env python3
"""``annotate --mnv`` against the fork that scores MNVs (bw2/SpliceAI c7dbd93) and SpliceAI 1.3.1.

Input: ``tests/data/mnv/mnv.vcf`` (44 records on the example region: MNVs, delins, controls; see its
README). The peers' outputs are in ``tests/data/mnv/expected/`` (made by ``benchmarks/peers/run_bw2.sh``
and ``run_spliceai.sh``). The fork writes 19 fields per entry; the 10 that SpliceAI 1.3.1 writes
(ALLELE, NAME, DS_*, DP_*) are compared.

Writes ``benchmarks/RESULTS-mnv.md``::

    python3 benchmarks/mnv_compare.py
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "data" / "mnv"
FASTA = REPO / "examples" / "chr16_region.fa.gz"


def entries(text: str, bw2: bool = False) -> dict[tuple[str, str], list[list[str]]]:
    """``(ID, ALT) -> [entry fields]`` (the fork's entries cut to 1.3.1's ten fields)."""
    found: dict[tuple[str, str], list[list[str]]] = {}
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        fields = line.split("\t")
        info = dict(item.split("=", 1) for item in fields[7].split(";") if "=" in item)
        for entry in info.get("SpliceAI", "").split(","):
            if not entry:
                continue
            parts = entry.split("|")
            if bw2:
                parts = [parts[0], parts[1], *parts[3:11]]
            found.setdefault((fields[2], parts[0]), []).append(parts)
    return found


def kind(ident: str, ref_alt: tuple[str, str]) -> str:
    ref, alt = ref_alt
    if len(ref) > 1 and len(alt) > 1:
        return "equal length" if len(ref) == len(alt) else ("REF longer" if len(ref) > len(alt) else "ALT longer")
    return "one side of length 1"


def main() -> int:
    spliceannot = str(Path(sys.executable).with_name("spliceannot"))
    records = {}
    for line in (DATA / "mnv.vcf").read_text().splitlines():
        if not line.startswith("#"):
            fields = line.split("\t")
            for alt in fields[4].split(","):
                records[(fields[2], alt)] = (fields[3], alt)
    lines = ["# `annotate --mnv` against bw2/SpliceAI (c7dbd93) and SpliceAI 1.3.1", "",
             ("`python3 benchmarks/mnv_compare.py`: `tests/data/mnv/mnv.vcf` (44 records, 46 ALTs, 55 entries), "
             "`-A grch38 -D 50`, SpliceAI's weights. The fork's entries are cut to 1.3.1's ten fields."), ""]
    for mask, bw2_file in (("0", "bw2_D50.vcf"), ("1", "bw2_D50_M1.vcf")):
        ours_text = subprocess.run(
            [spliceannot, "annotate", "-I", str(DATA / "mnv.vcf"), "-R", str(FASTA), "-A", "grch38", "-D", "50",
             "-M", mask, "--mnv", "--no-cache"], capture_output=True, text=True, check=True).stdout
        ours = entries(ours_text)
        theirs = entries((DATA / "expected" / bw2_file).read_text(), bw2=True)
        table: dict[str, list[int]] = {}
        examples = []
        for key, ours_entries in ours.items():
            group = kind(key[0], records[key])
            counts = table.setdefault(group, [0, 0, 0])
            for mine, other in zip(ours_entries, theirs.get(key, [])):
                counts[0] += 1
                counts[1] += mine == other
                counts[2] += mine[2:6] == other[2:6]
                if mine != other and len(examples) < 8 and mask == "0":
                    examples.append((key, records[key], "|".join(mine), "|".join(other)))
        lines += [f"## -M {mask}", "", "| records | entries | identical | same four DS |", "| --- | --- | --- | --- |"]
        for group, (total, same, same_ds) in sorted(table.items()):
            lines.append(f"| {group} | {total} | {same} | {same_ds} |")
        if examples:
            lines += ["", "| ID | REF>ALT | spliceannot --mnv | bw2 |", "| --- | --- | --- | --- |"]
            lines += [f"| {k[0]} | {r}>{a} | `{m}` | `{o}` |" for k, (r, a), m, o in examples]
        lines.append("")
    # without --mnv the output is SpliceAI 1.3.1's (dots for records with both sides longer than 1)
    default = subprocess.run(
        [spliceannot, "annotate", "-I", str(DATA / "mnv.vcf"), "-R", str(FASTA), "-A", "grch38", "-D", "50",
         "--no-cache"], capture_output=True, text=True, check=True).stdout
    reference = (DATA / "expected" / "spliceai131_D50.vcf").read_text()

    def body(text: str) -> list[str]:
        return [line for line in text.splitlines() if not line.startswith("#")]

    same = body(default) == body(reference)
    lines += ["## Without --mnv", "", (f"Records identical to SpliceAI 1.3.1's output: {'all' if same else 'NOT all'} "
              f"({len(body(default))} records)."), ""]
    (REPO / "benchmarks" / "RESULTS-mnv.md").write_text("\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
