#!/usr/bin/env python3
"""Benchmark spliceannot against SpliceAI 1.3.1 and OpenSpliceAI 0.0.7.

One command sets up the peers (each in its own virtualenv under
``${SPLICEANNOT_CACHE:-~/.cache/spliceannot}/peers``), builds the workloads
from the repository's real chr16 data, runs every tool on every workload N
times, checks the outputs and writes ``benchmarks/RESULTS.md``:

    python3 benchmarks/run.py                 # the full benchmark
    python3 benchmarks/run.py --quick         # a smoke test: tiny workloads, one run each
    python3 benchmarks/run.py --tools spliceannot,spliceai --workloads dense

Standard library only. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import datetime
import os
import shlex
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import fidelity, machine, report, tools, workloads
from harness.genome import read_gene_table, read_genome, write_plain_fasta
from harness.measure import run_measured
from harness.paths import BENCH_DIR, EXAMPLE_FASTA_GZ, bench_cache, shorten

WORKLOAD_KEYS = ("dense", "sparse", "scale", "cache")
FULL = {"repeats": 3, "scale_sizes": [1_000, 100_000, 1_000_000], "scale_scorable": 50}
QUICK = {"repeats": 1, "scale_sizes": [1_000, 5_000], "scale_scorable": 5}


def _choices(text: str, allowed: tuple[str, ...]) -> list[str]:
    chosen = [item.strip() for item in text.split(",") if item.strip()]
    unknown = [item for item in chosen if item not in allowed]
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(f"choose from {', '.join(allowed)} (got {text!r})")
    return chosen


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="tiny workloads and one run each (a smoke test); results go to benchmarks/out/",
    )
    parser.add_argument(
        "--tools",
        default=",".join(tools.TOOL_KEYS),
        type=lambda t: _choices(t, tools.TOOL_KEYS),
        help="comma-separated subset of %(default)s",
    )
    parser.add_argument(
        "--workloads",
        default=",".join(WORKLOAD_KEYS),
        type=lambda t: _choices(t, WORKLOAD_KEYS),
        help="comma-separated subset of %(default)s",
    )
    parser.add_argument(
        "--repeats", type=int, help="runs per tool and workload (default 3; 1 with --quick)"
    )
    parser.add_argument(
        "--scale-sizes",
        type=lambda t: [int(x) for x in t.split(",")],
        help="record counts of the scale workloads (default 1000,100000,1000000; "
        "1000,5000 with --quick)",
    )
    parser.add_argument(
        "--dense-records",
        type=int,
        default=150,
        metavar="N",
        help="keep the first N dense records in position order, a contiguous stretch of genes "
        "(default %(default)s; 0 = all 336, about three times as long)",
    )
    parser.add_argument(
        "--seed", type=int, default=16, help="seed of the workload generator (default %(default)s)"
    )
    parser.add_argument(
        "-D", "--distance", type=int, default=50, help="-D for every tool (default %(default)s)"
    )
    parser.add_argument(
        "--spliceannot",
        metavar="PATH",
        help="the spliceannot executable (default: $SPLICEANNOT_BIN, the repo's .venv, PATH; "
        "if none, the repo's .venv is created as README.md does)",
    )
    parser.add_argument(
        "--spliceannot-args",
        default="",
        metavar="ARGS",
        help="extra arguments for `spliceannot annotate`, e.g. '--batch-size 64'",
    )
    parser.add_argument(
        "--device", default="cpu", help="spliceannot --device (default %(default)s)"
    )
    parser.add_argument(
        "--openspliceai-batch-size",
        type=int,
        default=32,
        metavar="N",
        help="openspliceai variant -b (default %(default)s; 1 = its original unbatched path)",
    )
    parser.add_argument(
        "--timeout", type=float, metavar="SECONDS", help="give up on a single run after this long"
    )
    parser.add_argument(
        "--work-dir",
        type=Path,
        default=None,
        help="workloads and tool outputs (default $CACHE/bench)",
    )
    parser.add_argument(
        "--results",
        type=Path,
        default=None,
        help="the Markdown report (default benchmarks/RESULTS.md; "
        "benchmarks/out/RESULTS.quick.md with --quick); a .json twin is written beside it",
    )
    args = parser.parse_args(argv)
    defaults = QUICK if args.quick else FULL
    args.repeats = args.repeats or defaults["repeats"]
    args.scale_sizes = args.scale_sizes or defaults["scale_sizes"]
    args.scale_scorable = defaults["scale_scorable"]
    args.work_dir = args.work_dir or bench_cache()
    args.results = args.results or (
        BENCH_DIR / "out" / "RESULTS.quick.md" if args.quick else BENCH_DIR / "RESULTS.md"
    )
    return args


def say(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def setup_tools(
    args: argparse.Namespace, log: Path
) -> tuple[list[tools.Tool], list[tools.Unavailable]]:
    """Set up the selected tools (idempotent); those that fail are reported, not fatal."""
    ready, missing = [], []
    for key in args.tools:
        say(f"setting up {tools.LABELS[key]} (log: {shorten(str(log))})")
        if key == "spliceannot":
            tool = tools.setup_spliceannot(
                args.spliceannot, args.device, shlex.split(args.spliceannot_args), log
            )
        elif key == "spliceai":
            tool = tools.setup_spliceai(log)
        else:
            tool = tools.setup_openspliceai(log, args.openspliceai_batch_size)
        if isinstance(tool, tools.Unavailable):
            say(f"{tools.LABELS[key]} is not available: {tool.reason}")
            missing.append(tool)
        else:
            ready.append(tool)
    return ready, missing


def gene_table_note(ready: list[tools.Tool], table: Path) -> str:
    """Whether SpliceAI's and OpenSpliceAI's grch38 tables are the same file."""
    digest = tools.sha256(table)
    note = f"The `grch38` table is SpliceAI's `annotations/grch38.txt` (sha256 {digest[:16]}...)"
    for tool in ready:
        if tool.key == "openspliceai":
            theirs = tools.openspliceai_gene_table(tool)
            same = theirs is not None and tools.sha256(theirs) == digest
            note += "; OpenSpliceAI's own `grch38` is " + (
                "the same file" if same else "a DIFFERENT file"
            )
    return note + "."


def _tail(path: Path, lines: int = 5) -> str:
    try:
        text = path.read_text(errors="replace").strip().splitlines()
    except OSError:
        return ""
    return " / ".join(line.strip() for line in text[-lines:])


def _summary(path: Path) -> str:
    """spliceannot's closing ``spliceannot annotate: records read ...`` line, if present."""
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return ""
    return next(
        (line.strip() for line in reversed(lines) if line.startswith("spliceannot annotate:")), ""
    )


def run_workload(
    workload: workloads.Workload, ready: list[tools.Tool], fasta: Path, args: argparse.Namespace
) -> report.WorkloadResult:
    """Run every tool on ``workload`` ``args.repeats`` times (interleaved); check the outputs."""
    result = report.WorkloadResult(workload)
    out_dir = args.work_dir / "runs" / workload.name
    out_dir.mkdir(parents=True, exist_ok=True)
    selected = [tool for tool in ready if workload.peers or tool.key == "spliceannot"]
    outputs: dict[str, list[Path]] = {tool.key: [] for tool in selected}
    for tool in selected:
        result.tools[tool.key] = report.ToolRuns(
            tool,
            tool.argv(
                workload.path, out_dir / f"{tool.key}.run1.vcf", fasta, "grch38", args.distance
            ),
        )
    for rep in range(1, args.repeats + 1):
        for tool in selected:
            runs = result.tools[tool.key]
            if runs.failure:
                continue
            output = out_dir / f"{tool.key}.run{rep}.vcf"
            output.unlink(missing_ok=True)
            stem = out_dir / f"{tool.key}.run{rep}"
            argv = tool.argv(workload.path, output, fasta, "grch38", args.distance)
            run = run_measured(
                argv,
                Path(f"{stem}.stdout"),
                Path(f"{stem}.stderr"),
                env={**os.environ, **tool.env},
                timeout_s=args.timeout,
            )
            runs.runs.append(run)
            say(
                f"{workload.name} run {rep}/{args.repeats} {tool.label}: {run.wall_s:.1f} s, "
                f"{workload.records / run.wall_s:.2f} records/s, "
                f"peak RSS {run.peak_rss_mib:.0f} MiB"
                + ("" if run.returncode == 0 else f", EXIT {run.returncode}")
            )
            if run.returncode != 0 or not output.exists():
                runs.failure = (
                    f"run {rep} exited {run.returncode}"
                    + ("" if output.exists() else " without an output file")
                    + f": {_tail(Path(f'{stem}.stderr'))}"
                )
                continue
            outputs[tool.key].append(output)
            runs.summary = _summary(Path(f"{stem}.stderr")) or runs.summary
    check_outputs(result, outputs)
    return result


def run_cache(
    workload: workloads.Workload, tool: tools.Tool, fasta: Path, args: argparse.Namespace
) -> report.CacheResult:
    """Cold then warm runs of spliceannot with a fresh score cache per repeat."""
    out_dir = args.work_dir / "runs" / f"cache-{workload.name}"
    out_dir.mkdir(parents=True, exist_ok=True)
    result = report.CacheResult(workload)
    digests = set()
    for rep in range(1, args.repeats + 1):
        cache_file = out_dir / f"scores.run{rep}.sqlite"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{cache_file}{suffix}").unlink(missing_ok=True)
        for phase in ("cold", "warm"):
            output = out_dir / f"{phase}.run{rep}.vcf"
            output.unlink(missing_ok=True)
            argv = tool.argv(workload.path, output, fasta, "grch38", args.distance)
            argv = [a for a in argv if a != "--no-cache"] + ["--cache", str(cache_file)]
            result.argv = argv
            stem = out_dir / f"{phase}.run{rep}"
            run = run_measured(argv, Path(f"{stem}.stdout"), Path(f"{stem}.stderr"),
                               env={**os.environ, **tool.env}, timeout_s=args.timeout)  # fmt: skip
            getattr(result, phase).append(run)
            say(f"cache {workload.name} run {rep}/{args.repeats} {phase}: {run.wall_s:.1f} s")
            if run.returncode != 0 or not output.exists():
                result.failure = f"{phase} run {rep} exited {run.returncode}: {_tail(Path(f'{stem}.stderr'))}"
                return result
            digests.add(fidelity.data_digest(output))
    result.identical = len(digests) == 1
    return result


def check_outputs(result: report.WorkloadResult, outputs: dict[str, list[Path]]) -> None:
    """Determinism across runs, fidelity to SpliceAI, OpenSpliceAI's relation, pass-through."""
    for key, paths in outputs.items():
        if paths:
            result.tools[key].outputs_identical = len({fidelity.data_digest(p) for p in paths}) == 1
    first = {key: paths[0] for key, paths in outputs.items() if paths}
    info_key = {key: runs.tool.info_key for key, runs in result.tools.items()}
    if "spliceannot" in first and "spliceai" in first:
        result.fidelity = fidelity.compare_to_spliceai(first["spliceannot"], first["spliceai"])
        say(
            f"{result.workload.name} fidelity: {result.fidelity.identical}"
            f"/{result.fidelity.records_reference} "
            f"identical, differences {dict(result.fidelity.classes) or 'none'}"
        )
    if "openspliceai" in first and "spliceai" in first:
        result.relation = fidelity.relate(
            first["openspliceai"], info_key["openspliceai"], first["spliceai"]
        )
    if not result.workload.peers:
        for key, path in first.items():
            result.pass_through[key] = fidelity.check_pass_through(
                result.workload.path, path, info_key[key]
            )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.work_dir.mkdir(parents=True, exist_ok=True)
    command = "python3 benchmarks/run.py" + "".join(
        f" {shlex.quote(a)}" for a in (argv or sys.argv[1:])
    )
    load_before = machine.load_average()
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")

    ready, missing = setup_tools(args, args.work_dir / "setup.log")
    if not ready:
        say("no tool could be set up")
        return 1
    try:
        table = tools.find_gene_table(ready)
    except FileNotFoundError as error:
        say(str(error))
        return 1
    say("preparing the FASTA and the workloads")
    fasta = write_plain_fasta(EXAMPLE_FASTA_GZ, args.work_dir / "chr16_region.fa")
    genome = read_genome(EXAMPLE_FASTA_GZ)
    genes = read_gene_table(table, genome.contig)
    selected = workloads.make_workloads(
        args.workloads,
        genome,
        genes,
        args.seed,
        args.distance,
        args.scale_sizes,
        args.scale_scorable,
        args.quick,
        args.work_dir / "workloads",
        args.dense_records,
    )
    results, cache_results = [], []
    ours = next((tool for tool in ready if tool.key == "spliceannot"), None)
    if "cache" in args.workloads and ours is not None:
        dense = workloads.make_workloads(
            ["dense"], genome, genes, args.seed, args.distance, args.scale_sizes,
            args.scale_scorable, args.quick, args.work_dir / "workloads", args.dense_records,
        )  # fmt: skip
    for workload in selected:
        say(
            f"workload {workload.name}: {workload.records:,} records "
            f"({shorten(str(workload.path))})"
        )
        results.append(run_workload(workload, ready, fasta, args))
    if "cache" in args.workloads and ours is not None:
        for workload in dense:
            say(f"workload cache ({workload.name}): cold and warm runs of spliceannot")
            cache_results.append(run_cache(workload, ours, fasta, args))

    summary = report.Report(
        date=date,
        command=command,
        quick=args.quick,
        repeats=args.repeats,
        distance=args.distance,
        seed=args.seed,
        machine=machine.describe(),
        load_before=load_before,
        load_after=machine.load_average(),
        revision=machine.git_revision(),
        tools=ready,
        unavailable=missing,
        fasta=str(fasta),
        gene_table_note=gene_table_note(ready, table),
        results=results,
        cache=cache_results,
    )
    data = report.write(summary, args.results)
    say(f"wrote {args.results} and {data}")
    unexplained = [r.workload.name for r in results if r.fidelity and not r.fidelity.all_explained]
    if unexplained:
        say(f"UNEXPLAINED differences from SpliceAI in: {', '.join(unexplained)}")
    failed = [
        f"{r.workload.name}/{key}" for r in results for key, runs in r.tools.items() if runs.failure
    ]
    if failed:
        say(f"failed runs: {', '.join(failed)} (see the report)")
    return 1 if unexplained or failed or missing else 0


if __name__ == "__main__":
    sys.exit(main())
