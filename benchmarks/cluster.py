#!/usr/bin/env python3
"""Benchmark ``--engine ray`` against the single-machine engine, on the same cores.

Runs ``spliceannot annotate`` on the dense workload of ``benchmarks/run.py``
(real chr16 sequence, SpliceAI's five models, ``--no-cache``) and
``spliceannot predict`` on a stretch of the same chr16 region, each with:

- ``local-1``: one process (one scoring process, one torch thread);
- ``local-2``: two scoring processes (annotate) / two torch threads (predict);
- ``ray-1``: a local Ray cluster started by the command, one actor;
- ``ray-2``: the same with two actors.

Repeats are interleaved; wall times include process start, Ray's start and
stop and model loading.  Outputs of every configuration are compared (all
but the ``##spliceannotCommand`` line for VCFs, every byte for bedGraphs).
Writes ``benchmarks/RESULTS-cluster.md`` and a ``.json`` twin:

    python3 benchmarks/cluster.py                       # 150 dense records, 100 kb, 3 repeats
    python3 benchmarks/cluster.py --records 20 --predict-length 20000 --repeats 1 --results /tmp/smoke.md

Needs spliceannot installed with the ``ray`` extra (``pip install -e .[ray]``).
"""

from __future__ import annotations

import argparse
import datetime
import json
import shlex
import shutil
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import machine, workloads
from harness.genome import read_gene_table, read_genome, write_plain_fasta
from harness.measure import run_measured
from harness.paths import BENCH_DIR, EXAMPLE_FASTA_GZ, bench_cache, shorten

CONFIGS = {
    "annotate": {
        "local-1": ["--workers", "1", "--threads-per-worker", "1"],
        "local-2": ["--workers", "2", "--threads-per-worker", "1"],
        "ray-1": ["--engine", "ray", "--workers", "1", "--threads-per-worker", "1"],
        "ray-2": ["--engine", "ray", "--workers", "2", "--threads-per-worker", "1"],
    },
    "predict": {
        "local-1": ["--threads", "1"],
        "local-2": ["--threads", "2"],
        "ray-1": ["--engine", "ray", "--workers", "1", "--threads", "1"],
        "ray-2": ["--engine", "ray", "--workers", "2", "--threads", "1"],
    },
}
PREDICT_START = 200_000  # 0-based; the example contig is real sequence from 186,963 on


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--spliceannot", default=shutil.which("spliceannot") or "spliceannot",
                        help="the spliceannot executable")
    parser.add_argument("--records", type=int, default=150, help="first N records of the dense workload")
    parser.add_argument("--predict-length", type=int, default=100_000, help="bases of chr16 to predict")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--work-dir", type=Path, default=bench_cache() / "cluster")
    parser.add_argument("--results", type=Path, default=BENCH_DIR / "RESULTS-cluster.md")
    return parser.parse_args(argv)


def say(message: str) -> None:
    print(f"[cluster] {message}", file=sys.stderr, flush=True)


def dense_workload(args: argparse.Namespace):
    from spliceannot.readers.annotation import builtin_table_path

    genome = read_genome(EXAMPLE_FASTA_GZ)
    genes = read_gene_table(Path(builtin_table_path("grch38")), genome.contig)
    return workloads.make_workloads(
        ["dense"], genome, genes, args.seed, 50, [], 0, False, args.work_dir / "workloads", args.records
    )[0]


def commands(args: argparse.Namespace, fasta: Path, vcf: Path, out: Path) -> dict[str, dict[str, list[str]]]:
    """argv and output path per task and configuration."""
    end = PREDICT_START + args.predict_length
    region = f"chr16:{PREDICT_START + 1}-{end}"
    result: dict[str, dict[str, list[str]]] = {"annotate": {}, "predict": {}}
    for name, extra in CONFIGS["annotate"].items():
        result["annotate"][name] = [
            args.spliceannot, "annotate", "-I", str(vcf), "-O", str(out / f"annotate.{name}.vcf"),
            "-R", str(fasta), "-A", "grch38", "--no-cache", "--no-progress", *extra,
        ]  # fmt: skip
    for name, extra in CONFIGS["predict"].items():
        result["predict"][name] = [
            args.spliceannot, "predict", "-R", str(fasta), "--regions", region,
            "--bedgraph", str(out / f"predict.{name}"), "--no-progress", *extra,
        ]  # fmt: skip
    return result


def same_outputs(task: str, out: Path) -> bool:
    """Whether every configuration wrote the same output as local-1."""
    names = list(CONFIGS[task])
    if task == "annotate":
        def content(name: str) -> list[str]:
            text = (out / f"annotate.{name}.vcf").read_text().splitlines()
            return [line for line in text if not line.startswith("##spliceannotCommand")]
    else:
        def content(name: str) -> list[bytes]:
            return [(out / f"predict.{name}.{kind}.{strand}.bedGraph").read_bytes()
                    for kind in ("acceptor", "donor") for strand in ("plus", "minus")]
    first = content(names[0])
    return all(content(name) == first for name in names[1:])


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    out = args.work_dir / "out"
    out.mkdir(parents=True, exist_ok=True)
    command = "python3 benchmarks/cluster.py" + "".join(f" {shlex.quote(a)}" for a in (argv or sys.argv[1:]))
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    load_before = machine.load_average()
    fasta = write_plain_fasta(EXAMPLE_FASTA_GZ, args.work_dir / "chr16_region.fa")
    workload = dense_workload(args)
    say(f"annotate: {workload.records} records ({shorten(str(workload.path))}); "
        f"predict: {args.predict_length:,} nt x 2 strands")
    argvs = commands(args, fasta, workload.path, out)
    walls: dict[str, dict[str, list[float]]] = {task: {name: [] for name in CONFIGS[task]} for task in CONFIGS}
    rss: dict[str, dict[str, list[float]]] = {task: {name: [] for name in CONFIGS[task]} for task in CONFIGS}
    for repeat in range(args.repeats):
        for task in CONFIGS:
            for name, argv_ in argvs[task].items():
                result = run_measured(argv_, out / f"{task}.{name}.stdout", out / f"{task}.{name}.stderr")
                if result.returncode != 0:
                    say(f"{task} {name} failed (exit {result.returncode}): "
                        f"{(out / f'{task}.{name}.stderr').read_text()[-2000:]}")
                    return 1
                walls[task][name].append(result.wall_s)
                rss[task][name].append(result.peak_rss_mib)
                say(f"repeat {repeat + 1}/{args.repeats} {task} {name}: {result.wall_s:.1f} s")
    identical = {task: same_outputs(task, out) for task in CONFIGS}
    medians = {task: {name: statistics.median(v) for name, v in walls[task].items()} for task in CONFIGS}
    data = {
        "date": date,
        "command": command,
        "machine": machine.describe(),
        "load_before": load_before,
        "load_after": machine.load_average(),
        "annotate_records": workload.records,
        "predict_positions": 2 * args.predict_length,
        "repeats": args.repeats,
        "wall_s": walls,
        "median_wall_s": medians,
        "driver_peak_rss_mib": {t: {n: statistics.median(v) for n, v in rss[t].items()} for t in CONFIGS},
        "identical_outputs": identical,
        "argv": argvs,
    }
    args.results.with_suffix(".json").write_text(json.dumps(data, indent=1) + "\n")
    args.results.write_text(render(data))
    say(f"wrote {args.results}")
    return 0 if all(identical.values()) else 1


def render(data: dict) -> str:
    m = data["median_wall_s"]
    host = data["machine"]
    lines = [
        "# spliceannot on Ray: overhead and scaling on one machine",
        "",
        f"`{data['command']}` on {data['date']}; {host.get('CPU', '?')}, {host.get('cores', '?')} cores, "
        f"{host.get('memory', '?')}; load average before {data['load_before']}, after {data['load_after']}.",
        f"Medians of {data['repeats']} interleaved repeats, wall time of the whole command (process start, "
        "Ray start and stop, model loading included). `local-N`: the single-machine engine (annotate: N "
        "scoring processes of one torch thread; predict: one process of N torch threads); `ray-N`: a local "
        "Ray cluster started by the command, N actors of one thread.",
        "",
        "| task | work | local-1 | local-2 | ray-1 | ray-2 | ray-1 / local-1 | ray-2 / local-2 | speed-up ray-2 vs ray-1 |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    work = {
        "annotate": f"{data['annotate_records']} dense records, SpliceAI ensemble",
        "predict": f"{data['predict_positions']:,} positions, SpliceAI ensemble",
    }
    for task in ("annotate", "predict"):
        t = m[task]
        lines.append(
            f"| {task} | {work[task]} | {t['local-1']:.1f} s | {t['local-2']:.1f} s | {t['ray-1']:.1f} s | "
            f"{t['ray-2']:.1f} s | {t['ray-1'] / t['local-1']:.2f} | {t['ray-2'] / t['local-2']:.2f} | "
            f"{t['ray-1'] / t['ray-2']:.2f}x |"
        )
    lines += [
        "",
        "Outputs identical across all four configurations: "
        + ", ".join(f"{task} {'yes' if ok else 'NO'}" for task, ok in data["identical_outputs"].items())
        + " (annotate: every line but `##spliceannotCommand`; predict: every bedGraph byte).",
        "",
        "Per-run wall times (s):",
        "",
    ]
    for task, runs in data["wall_s"].items():
        for name, values in runs.items():
            lines.append(f"- {task} {name}: " + ", ".join(f"{v:.1f}" for v in values))
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
