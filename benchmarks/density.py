#!/usr/bin/env python3
"""Density sweep: spliceannot annotate vs SpliceAI 1.3.1 from dense to isolated SNVs.

SNVs on the repository's real chr16 data, spaced 500 bp, 1 kb, 2 kb and 3.5 kb
apart along the genes of SpliceAI's ``grch38`` table, and one per gene. For
each density: both tools' wall time (medians of interleaved repeats), the
measured ratio, the ratio the FLOP count allows (``harness/flops.py``) and
the fraction of it reached. Writes ``benchmarks/RESULTS-density.md`` and its
``.json`` twin:

    python3 benchmarks/density.py                     # the sweep (~30 min on 2 cores)
    python3 benchmarks/density.py --scale 0.05 --repeats 1 \\
        --results benchmarks/out/RESULTS-density.smoke.md   # a smoke run

Standard library only; tools are set up and run as ``run.py`` does. See
benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shlex
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run as bench
from harness import flops, machine, workloads
from harness.fidelity import iter_records, median
from harness.genome import read_gene_table, read_genome, write_plain_fasta
from harness.paths import BENCH_DIR, EXAMPLE_FASTA_GZ, bench_cache, shorten
from harness.report import _row

#: spliceannot runs with one scoring process (no pool) and one thread, on every machine.
SPLICEANNOT_ARGS = "--workers 1 --threads-per-worker 1"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=3, help="runs per tool and density (default %(default)s)")
    parser.add_argument("--scale", type=float, default=1.0,
                        help="multiply the record counts (default %(default)s; e.g. 0.05 for a smoke run)")
    parser.add_argument("--seed", type=int, default=16, help="workload seed (default %(default)s)")
    parser.add_argument("-D", "--distance", type=int, default=50, help="-D for both tools (default %(default)s)")
    parser.add_argument("--spliceannot", metavar="PATH", help="the spliceannot executable (as run.py)")
    parser.add_argument("--spliceannot-args", default=SPLICEANNOT_ARGS, metavar="ARGS",
                        help="extra `spliceannot annotate` arguments (default %(default)r)")
    parser.add_argument("--device", default="cpu", help="spliceannot --device (default %(default)s)")
    parser.add_argument("--timeout", type=float, metavar="SECONDS", help="give up on a single run after this long")
    parser.add_argument("--work-dir", type=Path, default=None, help="workloads and outputs (default $CACHE/bench)")
    parser.add_argument("--results", type=Path, default=BENCH_DIR / "RESULTS-density.md",
                        help="the Markdown report (default %(default)s); a .json twin is written beside it")
    parser.add_argument("--from-json", type=Path, metavar="FILE",
                        help="re-render FILE (a RESULTS-density.json) with the FLOP bounds recomputed; "
                        "nothing is run")
    args = parser.parse_args(argv)
    args.work_dir = args.work_dir or bench_cache()
    # what run.setup_tools and run.run_workload read
    args.tools = ["spliceannot", "spliceai"]
    args.openspliceai_batch_size = 32
    return args


def _workers_of(extra: str) -> int:
    words = shlex.split(extra)
    for flag in ("--workers",):
        if flag in words and words.index(flag) + 1 < len(words):
            return max(1, int(words[words.index(flag) + 1]))
    return 1


def flop_bound(workload: workloads.Workload, genes: list, distance: int, workers: int) -> dict:
    """Both tools' FLOP on ``workload`` (:mod:`harness.flops`) and their ratio."""
    records = [(r.pos, r.ref, r.alt) for r in iter_records(workload.path)]
    record_jobs = flops.jobs_of(records, genes)
    ours = flops.spliceannot_flop(record_jobs, distance, workers=workers)
    best = flops.spliceannot_flop(record_jobs, distance, workers=workers, best_tiles=True)
    theirs = flops.spliceai_flop([job for jobs in record_jobs for job in jobs], distance)
    return {
        "jobs": sum(len(jobs) for jobs in record_jobs),
        "spliceai_gflop": theirs / 1e9,
        "spliceannot_gflop": ours["total"] / 1e9,
        "spliceannot_reference_gflop": ours["reference"] / 1e9,
        "spliceannot_alternate_gflop": ours["alternate"] / 1e9,
        "tiles": ours["tiles"],
        "ratio": theirs / ours["total"],
        "best_tiles": best["tiles"],
        "ratio_best_tiles": theirs / best["total"],
    }


def summarise(result, bound: dict, load: tuple[str, str]) -> dict:
    """One row of the density table."""
    ours, theirs = result.tools.get("spliceannot"), result.tools.get("spliceai")
    row = {
        "workload": result.workload.name,
        "description": result.workload.description,
        "records": result.workload.records,
        "flop": bound,
        "load_before": load[0],
        "load_after": load[1],
    }
    for key, runs in (("spliceannot", ours), ("spliceai", theirs)):
        if runs is None:
            continue
        row[key] = {
            "wall_s": [r.wall_s for r in runs.runs],
            "cpu_s": [r.user_s + r.system_s for r in runs.runs],
            "median_wall_s": runs.median_wall if runs.ok_runs else None,
            "median_cpu_s": median([r.user_s + r.system_s for r in runs.ok_runs]) if runs.ok_runs else None,
            "failure": runs.failure,
            "outputs_identical": runs.outputs_identical,
        }
    if ours and theirs and ours.ok_runs and theirs.ok_runs:
        row["ratio"] = theirs.median_wall / ours.median_wall
        row["cpu_ratio"] = row["spliceai"]["median_cpu_s"] / row["spliceannot"]["median_cpu_s"]
        row["fraction_of_bound"] = row["ratio"] / bound["ratio"]
    if result.fidelity is not None:
        row["fidelity"] = {
            "records": result.fidelity.records_reference,
            "identical": result.fidelity.identical,
            "differences": dict(result.fidelity.classes),
            "all_explained": result.fidelity.all_explained,
        }
    return row


def _f(value, digits: int = 1, suffix: str = "") -> str:
    return "n/a" if value is None else f"{value:,.{digits}f}{suffix}"


def render(meta: dict, rows: list[dict]) -> str:
    out = [
        "# Density sweep: spliceannot vs SpliceAI 1.3.1",
        "",
        (f"Date: {meta['date']}. Repository: {meta['revision']}. Runs per tool and density: "
        f"{meta['repeats']}, interleaved (the tables give medians). Written by `{meta['command']}`."),
        "",
        "## Machine",
        "",
        *[f"- {name}: {value}" for name, value in meta["machine"].items()],
        f"- load average before / after the sweep: {meta['load_before']} / {meta['load_after']}",
        *[f"- {label}: {versions}" for label, versions in meta["tools"].items()],
        "",
        "## What is measured",
        "",
        (f"- SNVs on real GRCh38 chr16 sequence (`examples/chr16_region.fa.gz`), REF from the FASTA, "
        f"ALT drawn with seed {meta['seed']}, `-A grch38` (SpliceAI's table), `-D {meta['distance']}`, "
        "both tools on the CPU with the same VCF and FASTA. `spacedN`: one SNV every N bases of "
        "gene sequence from the start of the first gene of the region (the first records only: a "
        "contiguous stretch of genes); `one-per-gene`: the `sparse` workload of `run.py`, one SNV "
        "per gene, each at least one scoring window after the previous one."),
        (f"- spliceannot runs with `{meta['spliceannot_args']}` (one scoring process, one thread) "
        "and `--no-cache`; SpliceAI 1.3.1 (TensorFlow) uses its default thread pools, i.e. every "
        "core. The CPU-time ratio (user + system, all threads) is given beside the wall-time ratio."),
        ("- Wall time is the whole process: start-up (imports, model loading) included. SpliceAI "
        "spends about 20 s starting, so on small workloads the ratio is mostly start-up."),
        ("- **FLOP bound**: SpliceAI runs, for every record, ALT and overlapping gene and for each of "
        "its five models, a REF and an ALT window of 10,000 + 2D + 1 bases through padded ('same') "
        "convolutions: 28.0 GFLOP per model at -D 50. spliceannot's cone engine runs each chunk's "
        "nearby windows of one gene as one reference tile with valid convolutions, plus each "
        "ALT's receptive cone (2.65 GFLOP per model for an SNV at -D 50). The FLOP-bound ratio is "
        "SpliceAI's FLOP over spliceannot's for the workload, following spliceannot's tile rule "
        "(`benchmarks/harness/flops.py`); *fraction of bound* = measured ratio / FLOP-bound ratio."),
        "",
        "## Results",
        "",
        _row("density", "records", "jobs", "spliceannot s", "SpliceAI s", "measured ratio",
             "CPU-time ratio", "ratio without start-up", "FLOP-bound ratio",
             "fraction of bound (measured / without start-up)",
             "bound with best tiles",
             "GFLOP/record (ours: tiles + cones)", "load before / after"),
        _row(*("---", "---:", "---:", "---:", "---:", "---:", "---:", "---:", "---:", "---:", "---:", "---",
               "---")),
    ]
    for row in rows:
        flop = row["flop"]
        ours, theirs = row.get("spliceannot", {}), row.get("spliceai", {})
        n = row["records"]
        out.append(_row(
            row["workload"], n, flop["jobs"],
            _f(ours.get("median_wall_s")), _f(theirs.get("median_wall_s")),
            _f(row.get("ratio"), 2, "x"), _f(row.get("cpu_ratio"), 2, "x"),
            _f(row.get("compute_ratio"), 2, "x"), _f(flop["ratio"], 2, "x"),
            _f(row.get("fraction_of_bound") and 100 * row["fraction_of_bound"], 0, "%") + " / "
            + _f(row.get("compute_ratio") and 100 * row["compute_ratio"] / flop["ratio"], 0, "%"),
            _f(flop.get("ratio_best_tiles"), 2, "x"),
            f"{flop['spliceai_gflop'] / n:,.0f} vs {flop['spliceannot_reference_gflop'] / n:,.0f} + "
            f"{flop['spliceannot_alternate_gflop'] / n:,.0f}",
            f"{row['load_before']} / {row['load_after']}",
        ))
    out += ["", "Wall times of every run (s), in run order:", ""]
    for row in rows:
        for key, label in (("spliceannot", "spliceannot"), ("spliceai", "SpliceAI")):
            if key in row:
                runs = ", ".join(f"{w:.1f}" for w in row[key]["wall_s"])
                extra = f" (FAILED: {row[key]['failure']})" if row[key]["failure"] else ""
                out.append(f"- {row['workload']} {label}: {runs}{extra}")
    out += ["", "## Output checks", ""]
    for row in rows:
        fid = row.get("fidelity")
        same = {k: row[k]["outputs_identical"] for k in ("spliceannot", "spliceai") if k in row}
        text = (f"{fid['identical']}/{fid['records']} records identical to SpliceAI, differences "
                f"{fid['differences'] or 'none'}" + ("" if fid["all_explained"] else " (UNEXPLAINED)")
                if fid else "not compared")
        out.append(f"- {row['workload']}: {text}; each tool's runs identical: {same}")
    out += ["", *meta.get("notes", [])]
    return "\n".join(out).rstrip() + "\n"


def _line_fit(points: list[tuple[float, float]]) -> tuple[float, float] | None:
    """Least-squares ``y = a + b x``; None with fewer than two distinct ``x``."""
    n = len(points)
    if n < 2:
        return None
    mean_x, mean_y = sum(x for x, _ in points) / n, sum(y for _, y in points) / n
    sxx = sum((x - mean_x) ** 2 for x, _ in points)
    if not sxx:
        return None
    slope = sum((x - mean_x) * (y - mean_y) for x, y in points) / sxx
    return mean_y - slope * mean_x, slope


def analyse(meta: dict, rows: list[dict]) -> list[str]:
    """What the numbers say, computed from them; adds ``compute_ratio`` to the rows.

    Start-up is estimated per tool by a straight-line fit over the densities:
    SpliceAI's wall time against its jobs (its cost per job is fixed),
    spliceannot's against its FLOP. ``compute_ratio`` is the ratio of the
    wall times with those start-ups taken off.
    """
    out = ["## Reading the table", ""]
    out.append(
        f"- An SNV alone in its tile: FLOP-bound ratio {meta['isolated_snv_flop_ratio']:.2f}x "
        "(SpliceAI's two padded windows against one valid window and one cone)."
    )
    done = [r for r in rows if r.get("ratio")]
    theirs = _line_fit([(r["flop"]["jobs"], r["spliceai"]["median_wall_s"]) for r in done])
    ours = _line_fit([(r["flop"]["spliceannot_gflop"], r["spliceannot"]["median_wall_s"]) for r in done])
    usable = theirs and ours and all(
        0 <= fit[0] < min(r[key]["median_wall_s"] for r in done)
        for fit, key in ((theirs, "spliceai"), (ours, "spliceannot"))
    )
    if theirs and ours and not usable:
        out.append(
            f"- Start-up: straight-line fits over the densities give SpliceAI {theirs[0]:.1f} s and "
            f"spliceannot {ours[0]:.1f} s, not a plausible start-up (disturbed or too few runs), "
            "so no ratio without start-up is given."
        )
    if usable:
        for r in done:
            compute = r["spliceannot"]["median_wall_s"] - ours[0]
            r["compute_ratio"] = (r["spliceai"]["median_wall_s"] - theirs[0]) / compute if compute > 0 else None
        out.append(
            f"- Start-up: SpliceAI's wall time over the densities fits {theirs[0]:.1f} s + "
            f"{theirs[1]:.2f} s per job (record x gene; its cost per job does not depend on "
            f"density, {done[0]['flop']['spliceai_gflop'] / done[0]['flop']['jobs'] / theirs[1]:.0f} "
            f"GFLOP/s); spliceannot's fits {ours[0]:.1f} s + {ours[1] * 1000:.1f} ms per GFLOP "
            f"({1 / ours[1]:.0f} GFLOP/s on its one thread). *ratio without start-up* divides the "
            "wall times less these start-ups."
        )
    cores = os.cpu_count() or 1
    busy = [r["workload"] for r in rows
            if max(float(r["load_before"].split(",")[0]), float(r["load_after"].split(",")[0])) > cores + 0.5]
    if busy:
        out.append(
            f"- **Disturbed**: the 1-minute load average passed {cores} (this machine's CPUs) by more "
            f"than 0.5 around {', '.join(busy)}: other processes competed for the cores, and "
            "SpliceAI, whose TensorFlow uses every core, loses more to them than single-threaded "
            "spliceannot, so those ratios are inflated. Compare the per-run wall times below."
        )
    worse = [r for r in rows if r["flop"].get("ratio_best_tiles", 0) > 1.02 * r["flop"]["ratio"]]
    if worse:
        out.append(
            "- spliceannot's tile rule joins a window to the current tile when it starts up to one "
            "flank (10,000 bases) after the tile's end; a joined tile computes every base between "
            "the variants, which costs more than a second tile's flank once variants are more than "
            "about 3.3 kb apart. Cutting tiles where that is cheaper would raise the FLOP bound in "
            + ", ".join(f"{r['workload']} ({r['flop']['ratio']:.2f}x -> "
                        f"{r['flop']['ratio_best_tiles']:.2f}x)" for r in worse) + "."
        )
    return out


def from_json(args: argparse.Namespace) -> int:
    """Re-render a report from its JSON, with the FLOP bounds recomputed (no runs)."""
    data = json.loads(args.from_json.read_text())
    meta, rows = data["meta"], data["rows"]
    table = bench.tools.find_gene_table([])
    genome = read_genome(EXAMPLE_FASTA_GZ)
    genes = read_gene_table(table, genome.contig)
    sweep = workloads.density_workloads(genome, genes, meta["seed"], meta["distance"],
                                        args.work_dir / "workloads", args.scale)
    by_name = {w.name: w for w in sweep}
    workers = _workers_of(meta["spliceannot_args"])
    for row in rows:
        row["flop"] = flop_bound(by_name[row["workload"]], genes, meta["distance"], workers)
        if row.get("ratio"):
            row["fraction_of_bound"] = row["ratio"] / row["flop"]["ratio"]
    meta["isolated_snv_flop_ratio"] = flops.isolated_ratio(meta["distance"])
    meta["notes"] = analyse(meta, rows)
    return write(args.results, meta, rows)


def write(results: Path, meta: dict, rows: list[dict]) -> int:
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(render(meta, rows))
    data = results.with_suffix(".json")
    data.write_text(json.dumps({"meta": meta, "rows": rows}, indent=1) + "\n")
    bench.say(f"wrote {results} and {data}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.from_json:
        return from_json(args)
    args.work_dir.mkdir(parents=True, exist_ok=True)
    command = "python3 benchmarks/density.py" + "".join(f" {shlex.quote(a)}" for a in (argv or sys.argv[1:]))
    load_before = machine.load_average()
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    ready, missing = bench.setup_tools(args, args.work_dir / "setup.log")
    if missing or len(ready) != 2:
        bench.say("both spliceannot and SpliceAI are needed")
        return 1
    table = bench.tools.find_gene_table(ready)
    fasta = write_plain_fasta(EXAMPLE_FASTA_GZ, args.work_dir / "chr16_region.fa")
    genome = read_genome(EXAMPLE_FASTA_GZ)
    genes = read_gene_table(table, genome.contig)
    sweep = workloads.density_workloads(genome, genes, args.seed, args.distance,
                                        args.work_dir / "workloads", args.scale)
    workers = _workers_of(args.spliceannot_args)
    rows, failed = [], False
    for workload in sweep:
        bound = flop_bound(workload, genes, args.distance, workers)
        bench.say(f"workload {workload.name}: {workload.records} records, FLOP-bound ratio "
                  f"{bound['ratio']:.2f}x ({shorten(str(workload.path))})")
        before = machine.load_average()
        result = bench.run_workload(workload, ready, fasta, args)
        rows.append(summarise(result, bound, (before, machine.load_average())))
        failed |= any(runs.failure for runs in result.tools.values())
        failed |= bool(result.fidelity and not result.fidelity.all_explained)
    meta = {
        "date": date,
        "command": command,
        "revision": machine.git_revision(),
        "repeats": args.repeats,
        "seed": args.seed,
        "distance": args.distance,
        "spliceannot_args": args.spliceannot_args,
        "machine": machine.describe(),
        "load_before": load_before,
        "load_after": machine.load_average(),
        "tools": {t.label: ", ".join(f"{k} {v}" for k, v in t.versions.items() if k != "executable")
                  for t in ready},
        "isolated_snv_flop_ratio": flops.isolated_ratio(args.distance),
    }
    meta["notes"] = analyse(meta, rows)
    write(args.results, meta, rows)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
