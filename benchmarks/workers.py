#!/usr/bin/env python3
"""Scoring processes and threads: `spliceannot annotate` with --workers / --threads-per-worker.

Times `annotate` on one workload of the harness (default: the first 150
records of `dense`, as `run.py` uses it) with each configuration, the runs of
the configurations interleaved, and writes ``benchmarks/RESULTS-workers.md``
and its ``.json`` twin: what ``--workers 0`` (auto) should pick on this
machine.

    python3 benchmarks/workers.py                              # 1x1, 2x1, 1x2; 3 rounds
    python3 benchmarks/workers.py --configs 1x1,2x1,4x1,2x2   # on a bigger machine

Standard library only. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shlex
import sys
from dataclasses import asdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run as bench
from harness import fidelity, machine, tools, workloads
from harness.fidelity import median
from harness.genome import read_gene_table, read_genome, write_plain_fasta
from harness.measure import run_measured
from harness.paths import BENCH_DIR, EXAMPLE_FASTA_GZ, bench_cache, shorten
from harness.report import _row


def _configs(text: str) -> list[tuple[int, int]]:
    """``1x1,2x1`` -> [(workers, threads per worker), ...]."""
    out = []
    for item in text.split(","):
        workers, _, threads = item.strip().partition("x")
        out.append((int(workers), int(threads or 1)))
    return out


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--configs", type=_configs, default="1x1,2x1,1x2",
                        help="WORKERSxTHREADS_PER_WORKER list (default %(default)s)")
    parser.add_argument("--repeats", type=int, default=3, help="rounds over all configurations (default %(default)s)")
    parser.add_argument("--dense-records", type=int, default=150, metavar="N",
                        help="first N records of the dense workload (default %(default)s; 0 = all 336)")
    parser.add_argument("--seed", type=int, default=16, help="workload seed (default %(default)s)")
    parser.add_argument("-D", "--distance", type=int, default=50, help="-D (default %(default)s)")
    parser.add_argument("--spliceannot", metavar="PATH", help="the spliceannot executable (as run.py)")
    parser.add_argument("--device", default="cpu", help="spliceannot --device (default %(default)s)")
    parser.add_argument("--timeout", type=float, metavar="SECONDS", help="give up on a single run after this long")
    parser.add_argument("--work-dir", type=Path, default=None, help="workloads and outputs (default $CACHE/bench)")
    parser.add_argument("--results", type=Path, default=BENCH_DIR / "RESULTS-workers.md",
                        help="the Markdown report (default %(default)s); a .json twin is written beside it")
    args = parser.parse_args(argv)
    if isinstance(args.configs, str):
        args.configs = _configs(args.configs)
    args.work_dir = args.work_dir or bench_cache()
    return args


def auto_workers(cpus: int) -> int:
    """What ``annotate --workers 0`` picks on the CPU for ``cpus`` usable CPUs (``resolve_workers``)."""
    return max(1, min(cpus, 4))


AUTO_RULE = "max(1, min(cpus, 4))"


def render(meta: dict, rows: list[dict]) -> str:
    out = [
        "# Scoring processes and threads: `annotate --workers` / `--threads-per-worker`",
        "",
        (f"Date: {meta['date']}. Repository: {meta['revision']}. Rounds: {meta['repeats']}, the "
        f"configurations interleaved in each (the table gives medians). Written by `{meta['command']}`."),
        "",
        "## Machine",
        "",
        *[f"- {name}: {value}" for name, value in meta["machine"].items()],
        f"- load average before / after: {meta['load_before']} / {meta['load_after']}",
        f"- {meta['tool']}",
        "",
        "## What is measured",
        "",
        (f"- `{meta['argv']}` plus `--workers W --threads-per-worker T`, on `{meta['workload']}` "
        f"({meta['records']} records: {meta['description']}). Wall time includes start-up "
        "(with W > 1 the parent also starts W spawned processes that each import torch and load "
        "the five models). CPU time is user + system of all processes; peak RSS is the largest "
        "single process (`wait4`), not their sum."),
        (f"- `--workers 0` picks `max(1, min(cpus // 2, 4))` on the CPU: "
        f"{meta['auto_workers']} on this machine ({meta['usable_cpus']} usable CPUs)."),
        "",
        "## Results",
        "",
        _row("workers x threads", "wall s (median)", "wall s (runs)", "records/s", "CPU s (median)",
             "peak RSS MiB", "vs 1x1", "output same as 1x1", "load average at each run start"),
        _row("---", "---:", "---", "---:", "---:", "---:", "---:", "---", "---"),
    ]
    base = next((r for r in rows if r["workers"] == 1 and r["threads"] == 1), None)
    for row in rows:
        ratio = base["median_wall_s"] / row["median_wall_s"] if base and row["median_wall_s"] else None
        out.append(_row(
            f"{row['workers']} x {row['threads']}",
            f"{row['median_wall_s']:.1f}" if row["median_wall_s"] else "failed",
            ", ".join(f"{w:.1f}" for w in row["wall_s"]),
            f"{meta['records'] / row['median_wall_s']:.2f}" if row["median_wall_s"] else "",
            f"{row['median_cpu_s']:.1f}" if row["median_cpu_s"] else "",
            f"{row['peak_rss_mib']:.0f}",
            f"{ratio:.2f}x" if ratio else "",
            row["same_output"],
            "; ".join(row["loads"]),
        ))
    done = [r for r in rows if r["median_wall_s"]]
    if done:
        best = min(done, key=lambda r: r["median_wall_s"])
        auto = next((r for r in done if r["workers"] == meta["auto_workers"] and r["threads"] == 1), None)
        verdict = f"Fastest here: {best['workers']} x {best['threads']} ({best['median_wall_s']:.1f} s)"
        if auto is not None:
            verdict += (f"; `--workers 0` ({auto['workers']} x 1) takes {auto['median_wall_s']:.1f} s, "
                        f"{auto['median_wall_s'] / best['median_wall_s']:.2f}x the fastest")
        out += ["", verdict + "."]
    out += ["", *meta.get("notes", [])]
    return "\n".join(out).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.work_dir.mkdir(parents=True, exist_ok=True)
    command = "python3 benchmarks/workers.py" + "".join(f" {shlex.quote(a)}" for a in (argv or sys.argv[1:]))
    load_before = machine.load_average()
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    tool = tools.setup_spliceannot(args.spliceannot, args.device, [], args.work_dir / "setup.log")
    if isinstance(tool, tools.Unavailable):
        bench.say(f"spliceannot is not available: {tool.reason}")
        return 1
    table = tools.find_gene_table([tool])
    fasta = write_plain_fasta(EXAMPLE_FASTA_GZ, args.work_dir / "chr16_region.fa")
    genome = read_genome(EXAMPLE_FASTA_GZ)
    genes = read_gene_table(table, genome.contig)
    (workload,) = workloads.make_workloads(["dense"], genome, genes, args.seed, args.distance, [], 0,
                                           False, args.work_dir / "workloads", args.dense_records)
    out_dir = args.work_dir / "runs" / f"workers-{workload.name}"
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = [{"workers": w, "threads": t, "runs": [], "wall_s": [], "loads": [], "digests": set()}
            for w, t in args.configs]
    base_argv = tool.argv(workload.path, out_dir / "out.vcf", fasta, "grch38", args.distance)
    for rep in range(1, args.repeats + 1):
        for row in rows:
            tag = f"w{row['workers']}t{row['threads']}.run{rep}"
            output = out_dir / f"{tag}.vcf"
            output.unlink(missing_ok=True)
            argv = tool.argv(workload.path, output, fasta, "grch38", args.distance)
            argv += ["--workers", str(row["workers"]), "--threads-per-worker", str(row["threads"])]
            row["loads"].append(machine.load_average().split(",")[0])
            run = run_measured(argv, out_dir / f"{tag}.stdout", out_dir / f"{tag}.stderr",
                               env={**os.environ, **tool.env}, timeout_s=args.timeout)
            row["runs"].append(run)
            row["wall_s"].append(run.wall_s)
            ok = run.returncode == 0 and output.exists()
            if ok:
                row["digests"].add(fidelity.data_digest(output))
            bench.say(f"{workload.name} round {rep}/{args.repeats} workers {row['workers']} x threads "
                      f"{row['threads']}: {run.wall_s:.1f} s, CPU {run.user_s + run.system_s:.1f} s"
                      + ("" if ok else f", EXIT {run.returncode}"))
    reference = next(iter(rows[0]["digests"]), None)
    failed = False
    for row in rows:
        ok_runs = [r for r in row["runs"] if r.returncode == 0]
        failed |= len(ok_runs) != len(row["runs"])
        row["median_wall_s"] = median([r.wall_s for r in ok_runs]) if ok_runs else None
        row["median_cpu_s"] = median([r.user_s + r.system_s for r in ok_runs]) if ok_runs else None
        row["peak_rss_mib"] = max((r.peak_rss_mib for r in ok_runs), default=0.0)
        row["same_output"] = "yes" if row["digests"] == {reference} else "NO"
        failed |= row["same_output"] != "yes"
        row["runs"] = [asdict(r) for r in row["runs"]]
        row["digests"] = sorted(row["digests"])
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count() or 1
    meta = {
        "date": date,
        "command": command,
        "revision": machine.git_revision(),
        "repeats": args.repeats,
        "machine": machine.describe(),
        "load_before": load_before,
        "load_after": machine.load_average(),
        "tool": f"{tool.label}: " + ", ".join(f"{k} {v}" for k, v in tool.versions.items() if k != "executable"),
        "argv": shorten(" ".join(shlex.quote(a) for a in base_argv)),
        "workload": workload.name,
        "records": workload.records,
        "description": workload.description,
        "usable_cpus": usable,
        "auto_workers": auto_workers(usable),
        "auto_rule": AUTO_RULE,
    }
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(render(meta, rows))
    data = args.results.with_suffix(".json")
    data.write_text(json.dumps({"meta": meta, "rows": rows}, indent=1, default=str) + "\n")
    bench.say(f"wrote {args.results} and {data}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
