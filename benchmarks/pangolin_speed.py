#!/usr/bin/env python3
"""Pangolin speed: Pangolin 5cf94b8 vs spliceannot's `pangolin` drop-in and `annotate -m pangolin`.

One run, on SNVs in the genes of the repository's chr16 example (Pangolin's
database ``tests/data/pangolin/chr16_genes_full.db``), 500 bp apart, 2 kb
apart and isolated:

- (a) whole commands, repeats interleaved: Pangolin with one thread and with
  its default threads, ``spliceannot pangolin --threads 1`` and ``spliceannot
  annotate -m pangolin`` (one process, one thread); wall time, CPU time, peak
  RSS, the measured ratios and the ratio the FLOP count allows
  (``harness/flops.py``);
- (b) ``annotate -m spliceai -m pangolin`` (one pass) against ``-m spliceai``
  then ``-m pangolin`` (two runs), on the 500 bp and isolated workloads, with
  the two outputs' fields compared;
- (c) every ``Pangolin=`` we write compared with Pangolin's, record by record.

Writes ``benchmarks/RESULTS-pangolin.md`` and its ``.json`` twin::

    python3 benchmarks/pangolin_speed.py            # the full run (about 40 min on 2 idle cores)
    python3 benchmarks/pangolin_speed.py --quick    # a smoke run: benchmarks/out/RESULTS-pangolin.quick.md

Standard library only. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import flops, machine
from harness import pangolin_report as report
from harness import pangolin_workloads as pw
from harness.fidelity import data_digest, median
from harness.genome import write_plain_fasta
from harness.measure import RunResult, run_measured
from harness.paths import (
    BENCH_DIR,
    EXAMPLE_FASTA_GZ,
    EXAMPLE_GTF_GZ,
    PEERS_DIR,
    REPO,
    bench_cache,
    shorten,
)
from harness.tools import _package_version, find_spliceannot

#: (key, label) of the tools timed on every density, in run order
SWEEP_TOOLS = (
    ("pangolin-1t", "Pangolin, 1 thread"),
    ("pangolin", "Pangolin, default threads"),
    ("dropin", "spliceannot pangolin"),
    ("annotate", "spliceannot annotate -m pangolin"),
)
#: (key, label) of part (b): one pass against two runs
PASS_TOOLS = (
    ("both", "annotate -m spliceai -m pangolin"),
    ("spliceai", "annotate -m spliceai"),
    ("pangolin-gtf", "annotate -m pangolin"),
)
SPACINGS = (500, 2_000, 0)  # 0: isolated
ONE_PASS_SPACINGS = (500, 0)
SPLICEANNOT_ARGS = "--workers 1 --threads-per-worker 1"
#: Left out of every run's environment: thread settings (set per tool) and run_pangolin.sh's
#: PANGOLIN_SCORE_CACHE, which would reuse scores from earlier runs instead of computing them.
UNSET = ("PANGOLIN_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "PANGOLIN_SCORE_CACHE")


def say(message: str) -> None:
    print(f"[pangolin-bench] {message}", file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run: 2 records, 1 repeat, the report in benchmarks/out/")
    parser.add_argument("--records", type=int, default=12, help="SNVs per density (default %(default)s)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per tool and workload (default %(default)s)")
    parser.add_argument("--seed", type=int, default=16, help="ALT seed (default %(default)s)")
    parser.add_argument("-D", "--distance", type=int, default=50, help="-D / -d for every tool (default %(default)s)")
    parser.add_argument("--skip-one-pass", action="store_true", help="leave out part (b)")
    parser.add_argument("--spliceannot", metavar="PATH", help="the spliceannot executable (default: the repo's .venv)")
    parser.add_argument("--spliceannot-args", default=SPLICEANNOT_ARGS, metavar="ARGS",
                        help="extra `spliceannot annotate` arguments (default %(default)r)")
    parser.add_argument("--pangolin-models", type=Path, metavar="DIR",
                        help="Pangolin's 12 weight files for spliceannot (default $SPLICEANNOT_PANGOLIN_MODELS, "
                        "else ../shared/data/pangolin-models beside the repository)")
    parser.add_argument("--timeout", type=float, metavar="SECONDS", help="give up on a single run after this long")
    parser.add_argument("--work-dir", type=Path, help="workloads and outputs (default $CACHE/bench/pangolin)")
    parser.add_argument("--from-json", type=Path, metavar="FILE",
                        help="re-render the report of FILE (a RESULTS-pangolin.json); nothing is run")
    parser.add_argument("--results", type=Path, help="the Markdown report (default benchmarks/RESULTS-pangolin.md; "
                        "--quick: benchmarks/out/RESULTS-pangolin.quick.md); a .json twin is written beside it")
    args = parser.parse_args(argv)
    if args.quick:
        args.records, args.repeats = 2, 1
    default = BENCH_DIR / ("out/RESULTS-pangolin.quick.md" if args.quick else "RESULTS-pangolin.md")
    args.results = args.results or default
    args.work_dir = args.work_dir or bench_cache() / "pangolin"
    models = os.environ.get("SPLICEANNOT_PANGOLIN_MODELS") or REPO.parent / "shared" / "data" / "pangolin-models"
    args.pangolin_models = (args.pangolin_models or Path(models)).absolute()
    return args


@dataclass
class Runs:
    """Every run of one command on one workload, and the output file of each."""

    key: str
    label: str
    argv: list[str] = field(default_factory=list)
    results: list[RunResult] = field(default_factory=list)
    outputs: list[Path] = field(default_factory=list)
    failure: str | None = None

    def summary(self) -> dict:
        ok = [r for r in self.results if r.returncode == 0]
        cpu = [r.user_s + r.system_s for r in ok]
        return {
            "label": self.label,
            "command": shorten(" ".join(shlex.quote(a) for a in self.argv)),
            "wall_s": [r.wall_s for r in self.results],
            "cpu_s": [r.user_s + r.system_s for r in self.results],
            "peak_rss_mib": [r.peak_rss_mib for r in self.results],
            "median_wall_s": median([r.wall_s for r in ok]) if ok else None,
            "median_cpu_s": median(cpu) if ok else None,
            "max_peak_rss_mib": max(r.peak_rss_mib for r in ok) if ok else None,
            "failure": self.failure,
            "outputs_identical": len({data_digest(p) for p in self.outputs}) == 1 if self.outputs else None,
        }


@dataclass(frozen=True)
class Setup:
    spliceannot: Path
    pangolin_venv: Path
    fasta: Path
    db: Path
    models: Path


class Bench:
    """Builds and times the commands of every tool on one workload."""

    def __init__(self, args: argparse.Namespace, setup: Setup) -> None:
        self.args = args
        self.setup = setup
        base = {k: v for k, v in os.environ.items() if k not in UNSET}
        self.pangolin_env = {**base, "PANGOLIN_VENV": str(setup.pangolin_venv)}
        self.our_env = {**base, "SPLICEANNOT_PANGOLIN_MODELS": str(setup.models)}

    def command(self, key: str, vcf: Path, stem: Path) -> tuple[list[str], dict, Path]:
        """``(argv, env, output file)`` of tool ``key`` on ``vcf``; outputs are named after ``stem``."""
        s, d = self.setup, str(self.args.distance)
        if key in ("pangolin-1t", "pangolin"):
            env = {**self.pangolin_env, **({"PANGOLIN_THREADS": "1"} if key == "pangolin-1t" else {})}
            argv = ["bash", str(PEERS_DIR / "run_pangolin.sh"), str(vcf), str(s.fasta), str(s.db), str(stem), "-d", d]
            return argv, env, Path(f"{stem}.vcf")
        if key == "dropin":
            argv = [str(s.spliceannot), "pangolin", str(vcf), str(s.fasta), str(s.db), str(stem), "-d", d,
                    "--threads", "1", "--device", "cpu"]  # fmt: skip
            return argv, self.our_env, Path(f"{stem}.vcf")
        models = {"annotate": ["pangolin"], "both": ["spliceai", "pangolin"], "spliceai": ["spliceai"],
                  "pangolin-gtf": ["pangolin"]}[key]  # fmt: skip
        annotation = str(s.db) if key == "annotate" else str(EXAMPLE_GTF_GZ)
        argv = [str(s.spliceannot), "annotate", "-I", str(vcf), "-O", f"{stem}.vcf", "-R", str(s.fasta),
                "-A", annotation, "-D", d, "--device", "cpu", "--no-cache",
                *(word for model in models for word in ("-m", model)), *shlex.split(self.args.spliceannot_args)]  # fmt: skip
        return argv, self.our_env, Path(f"{stem}.vcf")

    def run(self, tools: tuple[tuple[str, str], ...], workload: pw.Workload, part: str) -> dict[str, Runs]:
        """Every tool ``repeats`` times, the tools interleaved in each round."""
        out_dir = self.args.work_dir / "runs" / part / workload.name
        out_dir.mkdir(parents=True, exist_ok=True)
        runs = {key: Runs(key, label) for key, label in tools}
        for rep in range(1, self.args.repeats + 1):
            for key, label in tools:
                entry = runs[key]
                if entry.failure:
                    continue
                stem = out_dir / f"{key}.run{rep}"
                argv, env, output = self.command(key, workload.path, stem)
                output.unlink(missing_ok=True)
                entry.argv = entry.argv or argv
                result = run_measured(argv, Path(f"{stem}.stdout"), Path(f"{stem}.stderr"), env=env,
                                      timeout_s=self.args.timeout)  # fmt: skip
                entry.results.append(result)
                say(f"{part} {workload.name} run {rep}/{self.args.repeats} {label}: {result.wall_s:.1f} s, "
                    f"peak RSS {result.peak_rss_mib:.0f} MiB" + ("" if result.returncode == 0 else
                                                                 f", EXIT {result.returncode}"))  # fmt: skip
                if result.returncode != 0 or not output.exists():
                    tail = Path(f"{stem}.stderr").read_text(errors="replace").strip().splitlines()[-3:]
                    entry.failure = f"run {rep} exited {result.returncode}: {' / '.join(tail)}"
                else:
                    entry.outputs.append(output)
        return runs


def _setup(args: argparse.Namespace, log: Path) -> Setup:
    spliceannot = find_spliceannot(args.spliceannot)
    if spliceannot is None:
        raise SystemExit("no spliceannot executable: make the repository's .venv (README.md) or pass --spliceannot")
    if not (args.pangolin_models / "final.1.0.3.v2").is_file():
        raise SystemExit(f"{args.pangolin_models}: Pangolin's weight files are not there (--pangolin-models)")
    say(f"setting up Pangolin 5cf94b8 (log: {shorten(str(log))})")
    with open(log, "ab") as err:
        done = subprocess.run(["bash", str(PEERS_DIR / "setup_pangolin.sh")], stdout=subprocess.PIPE, stderr=err,
                              text=True, check=False, env={**os.environ, "PANGOLIN_MODELS": str(args.pangolin_models)})  # fmt: skip
    if done.returncode != 0 or not done.stdout.split():
        raise SystemExit(f"setup_pangolin.sh exited {done.returncode} (see {log})")
    venv = Path(done.stdout.split()[-1])
    # Pangolin reads the FASTA with pyfastx, which writes its index (.fxi) beside the file on first use:
    # a plain copy in the work directory, indexed here so that no timed run builds the index.
    fasta = write_plain_fasta(EXAMPLE_FASTA_GZ, args.work_dir / "chr16_region.fa")
    subprocess.run([str(venv / "bin" / "python"), "-c", "import pyfastx, sys; pyfastx.Fasta(sys.argv[1])", str(fasta)],
                   check=True)  # fmt: skip
    db = args.work_dir / pw.GENES_DB.name
    db.write_bytes(pw.GENES_DB.read_bytes())  # a copy: no run opens the repository's file
    return Setup(spliceannot, venv, fasta, db, args.pangolin_models)


def flop_bound(workload: pw.Workload, genes: list, contig_length: int, distance: int) -> dict:
    """Pangolin's and spliceannot's FLOP on ``workload`` and their ratio (:mod:`harness.flops`)."""
    record_jobs = flops.pangolin_jobs_of(workload.records, genes, contig_length)
    ours = flops.spliceannot_flop(record_jobs, distance, family=flops.PANGOLIN)
    theirs = flops.pangolin_flop([job for jobs in record_jobs for job in jobs], distance)
    return {
        "jobs": sum(len(jobs) for jobs in record_jobs),
        "tiles": ours["tiles"],
        "pangolin_gflop": theirs / 1e9,
        "spliceannot_gflop": ours["total"] / 1e9,
        "spliceannot_reference_gflop": ours["reference"] / 1e9,
        "spliceannot_alternate_gflop": ours["alternate"] / 1e9,
        "ratio": theirs / ours["total"],
    }


def sweep_row(workload: pw.Workload, runs: dict[str, Runs], bound: dict, load: tuple[str, str]) -> dict:
    """Part (a) of one workload: timings, ratios and part (c), every output against Pangolin's."""
    tools = {key: entry.summary() for key, entry in runs.items()}
    peer = runs["pangolin-1t"].outputs[:1]
    checks = {key: report.compare_field(peer[0], runs[key].outputs[0], "Pangolin")
              for key in ("pangolin", "dropin", "annotate") if peer and runs[key].outputs}  # fmt: skip
    return {"workload": workload.name, "description": workload.description, "records": len(workload.records),
            "flop": bound, "load_before": load[0], "load_after": load[1], "tools": tools, "checks": checks}  # fmt: skip


def pass_row(workload: pw.Workload, runs: dict[str, Runs], peer: Path | None, load: tuple[str, str]) -> dict:
    """Part (b) of one workload: one pass against two runs, and their fields compared."""
    tools = {key: entry.summary() for key, entry in runs.items()}
    pairs = list(zip(tools["spliceai"]["wall_s"], tools["pangolin-gtf"]["wall_s"]))
    separate = [a + b for a, b in pairs] if not (runs["spliceai"].failure or runs["pangolin-gtf"].failure) else []
    checks = {}
    both = runs["both"].outputs[:1]
    for key, field_key in (("spliceai", "SpliceAI"), ("pangolin-gtf", "Pangolin")):
        if both and runs[key].outputs:
            checks[field_key] = report.compare_field(runs[key].outputs[0], both[0], field_key)
    if both and peer:
        checks["Pangolin vs Pangolin's"] = report.compare_field(peer, both[0], "Pangolin")
    return {"workload": workload.name, "records": len(workload.records), "tools": tools,
            "separate_wall_s": separate, "median_separate_wall_s": median(separate) if separate else None,
            "checks": checks, "load_before": load[0], "load_after": load[1]}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.from_json:
        data = json.loads(args.from_json.read_text())
        return write(args.results, data["meta"], data["sweep"], data["one_pass"])
    args.work_dir.mkdir(parents=True, exist_ok=True)
    command = "python3 benchmarks/pangolin_speed.py" + "".join(f" {shlex.quote(a)}" for a in (argv or sys.argv[1:]))
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    load_before = machine.load_average()
    setup = _setup(args, args.work_dir / "setup.log")
    bench = Bench(args, setup)
    sweep = pw.build(EXAMPLE_FASTA_GZ, list(SPACINGS), args.records, args.seed, args.distance,
                     args.work_dir / "workloads")  # fmt: skip
    genes = [(g.strand, g.start1, g.end1) for g in pw.read_genes()]
    contig_length = len(pw.read_sequence(EXAMPLE_FASTA_GZ)[1])
    rows, one_pass, peers = [], [], {}
    for workload in sweep:
        bound = flop_bound(workload, genes, contig_length, args.distance)
        say(f"(a) {workload.name}: {bound['jobs']} jobs, {bound['tiles']} tiles, FLOP-bound ratio {bound['ratio']:.2f}x")
        before = machine.load_average()
        runs = bench.run(SWEEP_TOOLS, workload, "sweep")
        rows.append(sweep_row(workload, runs, bound, (before, machine.load_average())))
        peers[workload.name] = runs["pangolin-1t"].outputs[0] if runs["pangolin-1t"].outputs else None
    if not args.skip_one_pass:
        for workload, spacing in zip(sweep, SPACINGS):
            if spacing in ONE_PASS_SPACINGS:
                say(f"(b) {workload.name}: one pass vs two runs")
                before = machine.load_average()
                runs = bench.run(PASS_TOOLS, workload, "one-pass")
                one_pass.append(pass_row(workload, runs, peers[workload.name], (before, machine.load_average())))
    meta = {
        "date": date,
        "command": command,
        "revision": machine.git_revision(),
        "repeats": args.repeats,
        "records": args.records,
        "seed": args.seed,
        "distance": args.distance,
        "spliceannot_args": args.spliceannot_args,
        "machine": machine.describe(),
        "usable_cpus": len(os.sched_getaffinity(0)),
        "load_before": load_before,
        "load_after": machine.load_average(),
        "tools": {
            "spliceannot": f"{shorten(str(setup.spliceannot))}, torch "
            + _package_version(str(setup.spliceannot.parent / "python"), "torch"),
            "Pangolin": f"5cf94b8 in {shorten(str(setup.pangolin_venv))}, torch "
            + _package_version(str(setup.pangolin_venv / "bin" / "python"), "torch"),
        },
        "isolated_snv_flop_ratio": flops.isolated_ratio(args.distance, flops.PANGOLIN),
        "pangolin_snv_gflop": flops.pangolin_flop([flops.Job(1, "A", "C", "+", 0, 1)], args.distance) / 1e9,
    }
    return write(args.results, meta, rows, one_pass)


def write(results: Path, meta: dict, rows: list[dict], one_pass: list[dict]) -> int:
    """The report and its JSON twin; 0 when every run and every required check passed, else 1."""
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(report.render(meta, rows, one_pass))
    data = results.with_suffix(".json")
    data.write_text(json.dumps({"meta": meta, "sweep": rows, "one_pass": one_pass}, indent=1) + "\n")
    say(f"wrote {results} and {data}")
    return 0 if report.all_good(rows, one_pass) else 1


if __name__ == "__main__":
    sys.exit(main())
