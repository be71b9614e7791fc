#!/usr/bin/env python3
"""Haplotype mode's cost: ``annotate --haplotypes`` vs per-record ``annotate`` on the same records,
for cohorts of 1, 10, 100 and 1,000 samples, in one run.

Sequence and sites are real: the records of ``examples/variants.vcf`` (GRCh38 chr16, SpliceAI's
grch38 genes) in LUC7L and its neighbours.  The genotypes are simulated, since no phased panel is
available offline: every sample's two haplotypes are mosaics of 8 founder haplotypes (each founder
carries each ALT with a frequency drawn from Beta(0.5, 2); a haplotype switches founder with
probability 1e-5 per base, about once per 100 kb), all phased in one phase set.  So a cohort has
many samples but few distinct local haplotypes, as real cohorts do through linkage.

Per cohort size: per-record, ``--haplotypes background`` and ``--haplotypes combined`` runs
interleaved, ``--repeats`` each (median wall time), one process, one thread, no score cache; the
distinct local haplotypes per record (what haplotype mode computes); and the FLOP count of each run
(``harness/flops.py``).

Writes ``benchmarks/RESULTS-haplotypes.md`` and its ``.json`` twin::

    python3 benchmarks/haplotypes.py [--records 30] [--repeats 3] [--samples 1,10,100,1000] [--modes background,combined]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import flops, machine
from harness.fidelity import median
from harness.workloads import merge_intervals

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "benchmarks" / "out" / "haplotypes"
FASTA = REPO / "examples" / "chr16_region.fa.gz"
VARIANTS = REPO / "examples" / "variants.vcf"
FOUNDERS = 8
SWITCH_PER_BASE = 1e-5


def sites(count: int) -> list[list[str]]:
    """The first ``count`` records of the example at or after LUC7L (189,000), plain alleles only."""
    chosen = []
    for line in VARIANTS.read_text().splitlines():
        if line.startswith("#"):
            continue
        fields = line.split("\t")
        if int(fields[1]) < 189_000 or any(c not in "ACGT," for c in fields[4]) or "N" in fields[3]:
            continue
        chosen.append(fields[:8])
        if len(chosen) == count:
            break
    return chosen


def cohort_vcf(path: Path, records: list[list[str]], samples: int, seed: int = 1) -> Path:
    """The records with ``samples`` phased genotypes from founder mosaics (see the module text)."""
    rng = random.Random(seed)
    alleles = [len(r[4].split(",")) for r in records]
    founders = []
    for _ in range(FOUNDERS):
        founder = []
        for count in alleles:
            frequency = rng.betavariate(0.5, 2.0)
            founder.append(rng.randint(1, count) if rng.random() < frequency else 0)
        founders.append(founder)
    positions = [int(r[1]) for r in records]

    def haplotype() -> list[int]:
        current = rng.randrange(FOUNDERS)
        out, last = [], positions[0]
        for index, pos in enumerate(positions):
            if rng.random() < 1 - (1 - SWITCH_PER_BASE) ** (pos - last):
                current = rng.randrange(FOUNDERS)
            out.append(founders[current][index])
            last = pos
        return out

    pairs = [(haplotype(), haplotype()) for _ in range(samples)]
    header = [line for line in VARIANTS.read_text().splitlines() if line.startswith("##")]
    header.append('##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">')
    names = "\t".join(f"S{i + 1}" for i in range(samples))
    lines = [*header, f"#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t{names}"]
    for index, record in enumerate(records):
        genotypes = "\t".join(f"{a[index]}|{b[index]}" for a, b in pairs)
        lines.append("\t".join(record) + f"\tGT\t{genotypes}")
    path.write_text("\n".join(lines) + "\n")
    return path


def local_haplotypes(vcf: Path, reach: int) -> list[tuple[list[str], list[list[tuple[int, int]]]]]:
    """Per record: its (REF, ALT) and, per distinct local haplotype with another variant in the
    sequence (what is computed), the cis variants as (offset from the record, REF length)."""
    from spliceannot.haplotypes.contexts import haplotype_items
    from spliceannot.readers.vcf import open_variants

    found = []
    with open_variants(str(vcf)) as source:
        samples = len(source.header.samples)
        for item in haplotype_items(source.records(), reach=reach, samples=samples, path=str(vcf)):
            record = item.record
            sets = [[(c.pos - record.pos, len(c.ref)) for c in context.cis] for context in item.contexts if context.cis]
            found.append(([record.ref, ",".join(record.alts or ())], sets))
    return found


def multi_cone_macs(changes: list[tuple[int, int]], distance: int) -> int:
    """Multiply-adds of one network for one cone per change (offset, length), merged where they meet,
    restricted to what the ``2D + 1`` outputs around offset 0 need (the dilated units; stems and heads
    are negligible)."""
    radii = flops._radii()
    total = radii[-1]
    macs = 0
    for layer, (width, _) in enumerate(flops.UNITS, start=1):
        low, high = -distance - (total - radii[layer]), distance + (total - radii[layer])
        spans = [(max(x - radii[layer], low), min(x + n - 1 + radii[layer], high)) for x, n in changes]
        covered = sum(hi - lo + 1 for lo, hi in merge_intervals([s for s in spans if s[0] <= s[1]]))
        macs += flops.CHANNELS * flops.CHANNELS * width * 2 * covered
    return macs


def run(argv: list[str]) -> float:
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    start = time.perf_counter()
    subprocess.run(argv, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def macs(records: list[list[str]], haplotypes, distance: int, mode: str | None) -> float:
    """FLOP count (GMAC, one network): per-record tiles (the union of windows) and cones, plus per
    haplotype computed: a window pass and the record's cone (background), or one cone per change over
    the genome's tile, which the record's haplotypes share (combined)."""
    half = flops.FLANK // 2 + distance
    spans: list[list[int]] = []
    for record in records:
        pos = int(record[1])
        if spans and pos - half <= spans[-1][1]:
            spans[-1][1] = pos + half
        else:
            spans.append([pos - half, pos + half])
    total = sum(flops.valid_macs(hi - lo + 1 - flops.FLANK) for lo, hi in spans)
    total += sum(flops.cone_macs(len(r[3]), len(r[4].split(",")[0]), distance) for r in records)
    for (ref, alts), sets in haplotypes if mode else ():
        own = flops.cone_macs(len(ref), len(alts.split(",")[0]), distance)
        if mode == "background":
            total += len(sets) * (flops.valid_macs(2 * distance + 1) + own)
        elif sets:
            total += flops.valid_macs(2 * distance + 1)  # the genome's tile
            total += sum(multi_cone_macs([*cis, (0, len(ref))], distance) for cis in sets)
    return total / 1e9


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--samples", default="1,10,100,1000")
    parser.add_argument("--distance", type=int, default=50)
    parser.add_argument("--modes", default="background,combined")
    args = parser.parse_args(argv)
    modes = [m for m in args.modes.split(",") if m]
    OUT.mkdir(parents=True, exist_ok=True)
    spliceannot = str(Path(sys.executable).with_name("spliceannot"))
    records = sites(args.records)
    reach = flops.FLANK // 2 + args.distance
    rows = []
    for samples in (int(s) for s in args.samples.split(",")):
        vcf = cohort_vcf(OUT / f"cohort{samples}.vcf", records, samples)
        haplotypes = local_haplotypes(vcf, reach)
        computed = [len(sets) for _, sets in haplotypes]
        common = [spliceannot, "annotate", "-I", str(vcf), "-R", str(FASTA), "-A", "grch38", "-D",
                  str(args.distance), "--no-cache", "--workers", "1", "--no-progress"]
        times: dict[str, list[float]] = {"record": [], **{mode: [] for mode in modes}}
        for _ in range(args.repeats):
            times["record"].append(run([*common, "-O", str(OUT / f"record{samples}.vcf")]))
            for mode in modes:
                times[mode].append(run([*common, "--haplotypes", mode, "-O", str(OUT / f"{mode}{samples}.vcf")]))
        row = {"samples": samples, "records": len(records), "haplotypes_computed": sum(computed),
               "haplotypes_per_record_max": max(computed), "times": times,
               "record_s": median(times["record"]), "record_gmac": macs(records, haplotypes, args.distance, None)}
        for mode in modes:
            row[f"{mode}_s"] = median(times[mode])
            row[f"{mode}_gmac"] = macs(records, haplotypes, args.distance, mode)
        rows.append(row)
        print(json.dumps(row), file=sys.stderr, flush=True)
    result = {"machine": machine.describe(), "date": datetime.date.today().isoformat(), "modes": modes,
              "distance": args.distance, "founders": FOUNDERS, "switch_per_base": SWITCH_PER_BASE,
              "repeats": args.repeats, "rows": rows}
    (REPO / "benchmarks" / "RESULTS-haplotypes.json").write_text(json.dumps(result, indent=2) + "\n")
    lines = [
        "# Haplotype mode: cost against per-record scoring, and against the number of samples",
        "",
        (f"`python3 benchmarks/haplotypes.py --records {args.records} --repeats {args.repeats}` "
         f"({result['date']}; {result['machine']['CPU']}; one process, one thread, "
         f"no score cache, SpliceAI's weights, `-D {args.distance}`)."),
        "",
        (f"Sequence and sites are real ({len(records)} records of `examples/variants.vcf` from LUC7L on, GRCh38 "
         "chr16). Genotypes are simulated (no phased panel offline): each haplotype is a mosaic of "
         f"{FOUNDERS} founders (ALT frequency per founder from Beta(0.5, 2), a founder switch with "
         f"probability {SWITCH_PER_BASE:g} per base), all phased. Per-record and haplotype runs "
         f"interleaved, medians of {args.repeats}."),
        "",
    ]
    for mode in modes:
        base = rows[0][f"{mode}_s"]
        lines += [
            f"## `--haplotypes {mode}`",
            "",
            ("| samples | haplotypes computed (max per record) | per-record s | haplotype s | ratio | FLOP ratio "
             "(compute only) | haplotype s vs 1 sample | sample-records/s |"),
            "| --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        for row in rows:
            seconds = row[f"{mode}_s"]
            lines.append(
                f"| {row['samples']:,} | {row['haplotypes_computed']} ({row['haplotypes_per_record_max']}) | "
                f"{row['record_s']:.1f} | {seconds:.1f} | {seconds / row['record_s']:.2f} | "
                f"{row[f'{mode}_gmac'] / row['record_gmac']:.2f} | {seconds / base:.2f} | "
                f"{row['samples'] * row['records'] / seconds:,.0f} |"
            )
        lines.append("")
    lines += [
        ("Haplotypes computed: distinct (ALT, cis variants) pairs with at least one other variant in the "
         "sequence, summed over the records; a haplotype without one takes the record's INFO entry and "
         "costs nothing. The FLOP count (`harness/flops.py`) has one valid pass per tile of the per-record "
         "run and one cone per record, plus per haplotype computed a window pass and the record's cone "
         "(background) or one cone per change over the genome's tile (combined); it leaves out the VCF work "
         "that grows with the samples (reading genotypes, writing five FORMAT fields per sample) and the "
         "fixed cost of a run (start-up, loading the networks and the gene table), which is why a measured "
         "ratio can be lower than the FLOP ratio."),
    ]
    (REPO / "benchmarks" / "RESULTS-haplotypes.md").write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
