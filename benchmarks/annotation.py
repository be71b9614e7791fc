#!/usr/bin/env python3
"""Benchmark reading a GENCODE-size GTF: the parse, the derived table, and ``annotate``'s start.

No real GENCODE file is needed: ``benchmarks/gencode_like.py`` writes one of
the size and layout of GENCODE's basic human annotation (about 60,000 genes,
110,000 transcripts, 620,000 exons; gzip, as GENCODE ships it).  Measured,
each in a fresh process (wall time, peak RSS):

- ``parse``: ``read_gene_models`` on the GTF, no derived table;
- ``digest`` and ``table``: hashing the GTF, and reading its rows back from
  the derived table in the cache directory;
- ``annotate``: a handful of records on a synthetic chr1 (SpliceAI's models,
  ``--no-cache`` so that only the annotation differs between runs), first
  with an empty cache directory, then again; with ``--workers 1`` and 2.
  Outputs of all runs are compared.

With ``--baseline REV`` the parse and ``annotate`` are also run with the
``spliceannot`` package as it was at git revision REV (``git archive``),
for comparison.

Writes ``benchmarks/RESULTS-annotation.md`` and a ``.json`` twin::

    python3 benchmarks/annotation.py --baseline 7bad90d
    python3 benchmarks/annotation.py --genes 5000 --results /tmp/smoke.md   # a quick smoke run

Standard library only (the runs use the repository's ``.venv``).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from gencode_like import GENES, write_gencode_like
from harness import machine
from harness.measure import run_measured
from harness.paths import BENCH_DIR, REPO, bench_cache, shorten

PYTHON = REPO / ".venv" / "bin" / "python"
CHR1_LENGTH = 3_000_000  # the synthetic chr1 the records lie on
RECORDS = 6

PARSE = """
import sys, time
from spliceannot.readers import gtf
start = time.perf_counter()
models = gtf.read_gene_models(sys.argv[1], transcripts=sys.argv[2])
print(time.perf_counter() - start, len(models.transcripts))
"""

DIGEST = """
import sys, time
from spliceannot.readers.gene_table_cache import table_key
start = time.perf_counter()
table_key(sys.argv[1], transcripts=sys.argv[2], biotype=None)
print(time.perf_counter() - start, 0)
"""

TABLE = """
import sys, time
from spliceannot.readers.gene_table_cache import default_table_dir
from spliceannot.readers.gtf import read_gene_models
start = time.perf_counter()
models = read_gene_models(sys.argv[1], transcripts=sys.argv[2], cache_dir=default_table_dir())
print(time.perf_counter() - start, len(models.transcripts))
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--genes", type=int, default=GENES, help="genes in the synthetic GTF")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--transcripts", default="canonical", choices=("canonical", "all"))
    parser.add_argument(
        "--baseline", metavar="REV", help="also time gtf.py as it was at this git revision"
    )
    parser.add_argument(
        "--model", default="spliceai", help="annotate's -m (default: SpliceAI's five models)"
    )
    parser.add_argument("--results", type=Path, default=BENCH_DIR / "RESULTS-annotation.md")
    args = parser.parse_args()

    work = bench_cache() / "annotation"
    work.mkdir(parents=True, exist_ok=True)
    gtf = work / f"gencode_like.g{args.genes}.s{args.seed}.gtf.gz"
    if not gtf.exists():
        print(f"writing {shorten(str(gtf))} ...", file=sys.stderr)
        partial = gtf.with_suffix(".partial.gz")
        counts = write_gencode_like(partial, genes=args.genes, seed=args.seed)
        partial.replace(gtf)
        (work / f"{gtf.name}.counts.json").write_text(json.dumps(counts))
    counts = json.loads((work / f"{gtf.name}.counts.json").read_text())
    fasta, vcf = _genome_and_records(work, gtf, args.seed)

    load_before = machine.load_average()
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="spliceannot-annotation-bench-") as scratch:
        scratch = Path(scratch)
        baseline = None
        if args.baseline:  # the package as it was at that revision, run from a copy
            baseline = scratch / "baseline"
            baseline.mkdir()
            archive = subprocess.run(["git", "-C", str(REPO), "archive", args.baseline, "spliceannot"],
                                     capture_output=True, check=True).stdout  # fmt: skip
            subprocess.run(["tar", "-x", "-C", str(baseline)], input=archive, check=True)
            env = _environment(scratch / "cache-baseline", baseline)
            rows.append(
                _timed(
                    f"parse, spliceannot at {args.baseline}",
                    [PARSE, gtf, args.transcripts],
                    env,
                    scratch,
                )
            )
        env = _environment(scratch / "cache")
        rows.append(_timed("parse, this revision", [PARSE, gtf, args.transcripts], env, scratch))
        rows.append(_timed("digest of the GTF file", [DIGEST, gtf, args.transcripts], env, scratch))
        outputs = []
        annotate = [str(vcf), str(fasta), str(gtf), args]
        for workers in (1, 2):
            if baseline is not None:
                env = _environment(scratch / "cache-baseline", baseline)
                rows.append(_annotate(f"annotate --workers {workers}, spliceannot at {args.baseline}", workers,
                                      *annotate, env, scratch, outputs))  # fmt: skip
            env = _environment(scratch / f"cache-w{workers}")
            for run in ("first", "second"):
                rows.append(_annotate(f"annotate --workers {workers}, {run} run", workers, *annotate, env, scratch,
                                      outputs))  # fmt: skip
            if workers == 1:
                rows.append(
                    _timed("read the derived table", [TABLE, gtf, args.transcripts], env, scratch)
                )
        identical = all(output == outputs[0] for output in outputs)
    load_after = machine.load_average()
    _report(args, gtf, counts, rows, identical, load_before, load_after)
    return 0 if identical else 1


def _environment(cache: Path, package: Path | None = None) -> dict:
    # PYTHONSAFEPATH: the working directory (this repository) must not shadow ``package``
    env = dict(os.environ, SPLICEANNOT_CACHE=str(cache), PYTHONSAFEPATH="1")
    if package is not None:
        env["PYTHONPATH"] = str(package)
    return env


def _annotate(what, workers, vcf, fasta, gtf, args, env, scratch, outputs) -> dict:
    out = scratch / f"out.{len(outputs)}.vcf"
    argv = [str(PYTHON), "-m", "spliceannot", "annotate", "-I", vcf, "-O", str(out), "-R", fasta, "-A", gtf,
            "-m", args.model, "--transcripts", args.transcripts, "--no-cache", "--workers", str(workers)]  # fmt: skip
    result = run_measured(argv, scratch / "stdout", scratch / "stderr", env=env)
    stderr = (scratch / "stderr").read_text().strip()
    if result.returncode != 0:
        raise SystemExit(f"{what} failed ({result.returncode}): {stderr}")
    outputs.append(
        [line for line in out.read_text().splitlines() if not line.startswith("##spliceannot")]
    )
    summary = stderr.splitlines()[-1].split(": ", 1)[-1].split(";")[0]
    return {"what": f"{what} ({RECORDS} records)", "wall_s": result.wall_s, "peak_rss_mib": result.peak_rss_mib,
            "note": summary}  # fmt: skip


def _timed(what: str, script_args: list, env: dict, scratch: Path) -> dict:
    script, *rest = script_args
    result = run_measured(
        [str(PYTHON), "-c", script, *map(str, rest)],
        scratch / "stdout",
        scratch / "stderr",
        env=env,
    )
    if result.returncode != 0:
        raise SystemExit(f"{what} failed: {(scratch / 'stderr').read_text()}")
    seconds, rows = (scratch / "stdout").read_text().split()
    return {"what": what, "wall_s": result.wall_s, "inner_s": float(seconds), "peak_rss_mib": result.peak_rss_mib,
            "note": f"{int(rows):,} rows" if int(rows) else ""}  # fmt: skip


def _genome_and_records(work: Path, gtf: Path, seed: int) -> tuple[Path, Path]:
    """A random chr1 of ``CHR1_LENGTH`` bases and a VCF of SNVs inside canonical exons on it."""
    fasta, vcf = work / f"chr1.{CHR1_LENGTH}.s{seed}.fa", work / f"records.{gtf.name}.vcf"
    rng = random.Random(seed)
    if not fasta.exists():
        sequence = "".join(rng.choices("ACGT", k=CHR1_LENGTH))
        text = ">chr1\n" + "\n".join(sequence[i : i + 60] for i in range(0, CHR1_LENGTH, 60)) + "\n"
        fasta.with_suffix(".partial").write_text(text)
        fasta.with_suffix(".partial").replace(fasta)
    if not vcf.exists():
        exons = _exons_on_chr1(gtf)
        sequence = "".join(fasta.read_text().split("\n", 1)[1].split())
        lines = ["##fileformat=VCFv4.2", f"##contig=<ID=chr1,length={CHR1_LENGTH}>",
                 "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO"]  # fmt: skip
        picks = sorted(rng.sample(exons, RECORDS))
        for k, (start, end) in enumerate(picks):
            pos = (start + end) // 2
            ref = sequence[pos - 1]
            lines.append(f"chr1\t{pos}\tr{k}\t{ref}\t{'ACGT'['ACGT'.index(ref) - 1]}\t.\t.\t.")
        vcf.write_text("\n".join(lines) + "\n")
    return fasta, vcf


def _exons_on_chr1(gtf: Path) -> list[tuple[int, int]]:
    import gzip

    found = []
    with gzip.open(gtf, "rt") as handle:
        for line in handle:
            fields = line.split("\t")
            if (
                len(fields) > 8
                and fields[0] == "chr1"
                and fields[2] == "exon"
                and "Ensembl_canonical" in fields[8]
            ):
                start, end = int(fields[3]), int(fields[4])
                if 10_000 < start and end < CHR1_LENGTH - 10_000:
                    found.append((start, end))
            elif len(fields) > 1 and fields[0] not in ("chr1",) and not line.startswith("#"):
                break  # chr1 comes first
    return found


NOTES = [
    "Notes:",
    "",
    "- `first run`: an empty cache directory; the GTF is parsed and its rows kept as a derived table "
    "(`$SPLICEANNOT_CACHE/gene-tables/`). `second run`: the rows are read from that table.",
    "- The parse is timed without the derived table. Most of the earlier parse went into gffutils' "
    "per-line attribute parser; the attribute column is now split under the dialect gffutils detects, "
    "and for exon and CDS lines only their transcript's key is split out (same rows: the tests compare "
    "the splitter with gffutils' parser and the rows with a fresh parse).",
    "- `--workers 2`: the parent parses (or reads the table) once and sends the rows to the workers; "
    "before, every worker parsed the GTF itself.",
    "- The machine has 2 cores shared with other users' work; the load averages above show how busy it was.",
]


def _report(
    args, gtf: Path, counts: dict, rows: list[dict], identical: bool, before: str, after: str
) -> None:
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    info = machine.describe()
    size = gtf.stat().st_size
    lines = [
        "# Reading a GENCODE-size GTF: parse once, keep the rows",
        "",
        f"`python3 benchmarks/annotation.py{' --baseline ' + args.baseline if args.baseline else ''}` on {now}; "
        f"{info['CPU']}, {info['cores']}, {info['memory']}; revision {machine.git_revision()}; "
        f"load average before {before}, after {after}.",
        "",
        f"GTF: `{shorten(str(gtf))}` ({size / 1e6:.1f} MB gzip), written by `benchmarks/gencode_like.py` "
        f"(seed {args.seed}): "
        + ", ".join(f"{count:,} {kind}" for kind, count in counts.items())
        + " lines. "
        f"`--transcripts {args.transcripts}`. Wall time of the whole process (start and imports included); "
        "`inner` is the time of the step alone, measured inside the process.",
        "",
        "| step | wall | inner | peak RSS | note |",
        "| --- | ---: | ---: | ---: | --- |",
    ]
    for row in rows:
        inner = f"{row['inner_s']:.2f} s" if "inner_s" in row else ""
        lines.append(
            f"| {row['what']} | {row['wall_s']:.2f} s | {inner} | {row['peak_rss_mib']:.0f} MiB | {row['note']} |"
        )
    lines += ["", f"Outputs of all annotate runs identical (every line but `##spliceannot...`): "
              f"{'yes' if identical else 'NO'}.", "", *NOTES]  # fmt: skip
    args.results.write_text("\n".join(lines) + "\n")
    data = {"date": now, "machine": info, "load_before": before, "load_after": after, "gtf": shorten(str(gtf)),
            "gtf_bytes": size, "counts": counts, "transcripts": args.transcripts, "rows": rows,
            "outputs_identical": identical}  # fmt: skip
    args.results.with_suffix(".json").write_text(json.dumps(data, indent=1) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
