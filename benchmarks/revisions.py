#!/usr/bin/env python3
"""Two revisions of spliceannot side by side: the same outputs, and the speed of each.

Runs a ``before`` and an ``after`` executable, interleaved, on the workloads of
``run.py`` (dense, sparse) and ``predict.py``, and checks that every output is
the same byte for byte: those runs, the README's first ``annotate`` command,
``serve``'s replies to a fixed set of requests and ``annotate --engine ray``.
Writes ``benchmarks/RESULTS-refactor.md`` and its ``.json`` twin:

    python3 benchmarks/revisions.py --before OLD/bin/spliceannot --after .venv/bin/spliceannot
    python3 benchmarks/revisions.py --before OLD --after NEW --repeats 1 --dense-records 10 \\
        --predict-length 20000 --results benchmarks/out/RESULTS-refactor.smoke.md

Standard library only. See benchmarks/README.md ("Two revisions").
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import predict as predict_bench
from harness import machine, tools, workloads
from harness import predict_peers as peers
from harness.compare import SIDES, comparable, compare_files, compare_runs, first_difference
from harness.fidelity import median
from harness.genome import read_gene_table, read_genome, write_plain_fasta
from harness.measure import run_measured
from harness.paths import BENCH_DIR, EXAMPLE_FASTA_GZ, REPO, bench_cache
from harness.revisions_report import print_table, render
from harness.serve_requests import serve_requests, without_timing

PARTS = ("dense", "sparse", "predict", "readme", "serve", "ray")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--before", required=True, type=Path, metavar="EXE",
                        help="the spliceannot executable of the old revision")
    parser.add_argument("--after", required=True, type=Path, metavar="EXE",
                        help="the spliceannot executable of the new revision")
    parser.add_argument("--repeats", type=int, default=3,
                        help="timed runs per executable and workload (default %(default)s)")
    parser.add_argument("--only", default=",".join(PARTS),
                        help="comma-separated subset of %(default)s")
    parser.add_argument("--dense-records", type=int, default=150, metavar="N",
                        help="first N records of run.py's dense workload (default %(default)s)")
    parser.add_argument("--predict-length", type=int, default=predict_bench.DEFAULT_LENGTH,
                        metavar="N", help="bases of chr2R for predict, as predict.py --length "
                        "(default %(default)s)")
    parser.add_argument("--predict-threads", type=int, default=predict_bench.usable_cores(),
                        metavar="N", help="predict --threads (default: all usable cores, "
                        "%(default)s here)")
    parser.add_argument("--seed", type=int, default=16, help="workload seed (default %(default)s)")
    parser.add_argument("-D", "--distance", type=int, default=50, help="-D (default %(default)s)")
    parser.add_argument("--device", default="cpu",
                        help="spliceannot --device (default %(default)s)")
    parser.add_argument("--timeout", type=float, default=1800, metavar="SECONDS",
                        help="give up on a single run after this long (default %(default)s)")
    parser.add_argument("--work-dir", type=Path, default=None,
                        help="outputs of the runs (default $CACHE/bench/revisions)")
    parser.add_argument("--results", type=Path, default=BENCH_DIR / "RESULTS-refactor.md",
                        help="the Markdown report (default %(default)s); a .json twin beside it")
    args = parser.parse_args(argv)
    args.only = [part.strip() for part in args.only.split(",") if part.strip()]
    if args.repeats < 1 or not set(args.only) <= set(PARTS):
        parser.error(f"--repeats must be >= 1 and --only a subset of {','.join(PARTS)}")
    args.work_dir = args.work_dir or bench_cache() / "revisions"
    return args


def say(message: str) -> None:
    print(f"[revisions] {message}", file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------- the executables


def _git(directory: str, *words: str) -> str | None:
    result = subprocess.run(["git", "-C", directory, *words], check=False, capture_output=True,
                            text=True)  # fmt: skip
    return result.stdout.strip() if result.returncode == 0 else None


def describe_source(executable: Path) -> dict:
    """Where the executable's package was installed from (pip's ``direct_url.json``), its commit."""
    python = tools._script_python(executable)
    code = ("import importlib.metadata as m; "
            "print(m.distribution('spliceannot').read_text('direct_url.json') or '{}')")
    try:
        url = json.loads(subprocess.run([python, "-I", "-c", code], capture_output=True, text=True,
                                        check=True).stdout)  # fmt: skip
    except (OSError, subprocess.CalledProcessError, json.JSONDecodeError):
        url = {}
    source = url.get("url", "").removeprefix("file://")
    info = {"installed_from": source or "?",
            "editable": bool(url.get("dir_info", {}).get("editable"))}
    commit = _git(source, "rev-parse", "--short=12", "HEAD") if source else None
    if commit:
        dirty = _git(source, "status", "--porcelain", "--untracked-files=no")
        info["revision"] = commit + (" + local changes" if dirty else "")
    return info


def setup_side(side: str, executable: Path, args: argparse.Namespace, log: Path) -> dict:
    """How run.py runs ``annotate`` and predict.py ``predict`` with this executable."""
    annotate_tool = tools.setup_spliceannot(str(executable), args.device, [], log)
    if isinstance(annotate_tool, tools.Unavailable):
        raise SystemExit(f"--{side} {executable}: {annotate_tool.reason}")
    predict_args = argparse.Namespace(spliceannot=str(executable), device=args.device,
                                      spliceannot_args="", timeout=args.timeout)
    about = {"label": annotate_tool.label, **annotate_tool.versions,
             **describe_source(executable)}
    return {"annotate": annotate_tool, "executable": str(annotate_tool.prefix[0]),
            "predict": predict_bench.setup_spliceannot(predict_args, log),
            "predict_args": predict_args, "about": about}  # fmt: skip


# ----------------------------------------------------------------------------- timed runs


def annotate_once(tool: tools.Tool, vcf: Path, out: Path, fasta: Path, args: argparse.Namespace,
                  extra: tuple[str, ...] = (), cwd: Path | None = None,
                  ) -> tuple[dict, list[Path]]:  # fmt: skip
    """One measured ``annotate`` of ``vcf`` into ``out`` (``.vcf``), as run.py runs it.

    ``extra`` is added to run.py's command line; ``cwd`` runs it in that directory.
    """
    out.unlink(missing_ok=True)
    argv = [*tool.argv(vcf, out, fasta, "grch38", args.distance), *extra]
    if cwd is not None:
        argv = ["env", "-C", str(cwd), *argv]
    load = machine.load_average().split(",")[0]
    stem = out.with_suffix("")
    run = run_measured(argv, Path(f"{stem}.stdout"), Path(f"{stem}.stderr"),
                       env={**os.environ, **tool.env}, timeout_s=args.timeout)  # fmt: skip
    record = {**asdict(run), "cpu_s": run.user_s + run.system_s, "load": load, "argv": argv}
    if run.returncode != 0 or not out.exists():
        tail = Path(f"{stem}.stderr").read_text(errors="replace").strip().splitlines()[-3:]
        record["failure"] = f"exit {run.returncode}: {' / '.join(tail)}"
    return record, [out] if out.exists() else []


def predict_once(side: dict, the_slice: peers.Slice, out: Path,
                 args: argparse.Namespace) -> tuple[dict, list[Path]]:  # fmt: skip
    """One measured ``predict``, as predict.py runs it; its outputs are all the files it wrote."""
    load = machine.load_average().split(",")[0]
    how = ("spliceannot", side["predict"], the_slice.fasta, out, args.predict_threads,
           the_slice.length, side["predict_args"])  # fmt: skip
    record = predict_bench.run_once(*how)
    argv, env = predict_bench.command(*how)
    record.update(load=load, argv=argv, env=env)
    files = sorted(p for p in out.iterdir() if p.name not in ("stdout.txt", "stderr.txt"))
    return record, files


def time_parts(parts: list[dict], sides: dict, args: argparse.Namespace) -> None:
    """Round after round, each part run by ``before`` and then by ``after``; medians, ratios."""
    for rep in range(1, args.repeats + 1):
        for part in parts:
            for name in SIDES:
                run_dir = args.work_dir / part["name"] / f"{name}-run{rep}"
                run_dir.mkdir(parents=True, exist_ok=True)
                record, files = part["run"](sides[name], run_dir)
                part["runs"][name].append(record)
                part["outputs"][name].append(files)
                say(f"{part['name']} round {rep}/{args.repeats} {name}: "
                    f"{record['wall_s']:.1f} s wall, {record['cpu_s']:.1f} s CPU, "
                    f"load {record['load']}"
                    + (f", FAILED {record['failure']}" if "failure" in record else ""))
    for part in parts:
        runs = part["runs"]
        ok = {n: [r for r in runs[n] if "failure" not in r] for n in SIDES}
        part["median_wall_s"] = {n: median([r["wall_s"] for r in ok[n]]) if ok[n] else None
                                 for n in SIDES}  # fmt: skip
        part["median_cpu_s"] = {n: median([r["cpu_s"] for r in ok[n]]) if ok[n] else None
                                for n in SIDES}  # fmt: skip
        part["peak_rss_mib"] = {n: max(r["peak_rss_mib"] for r in runs[n]) for n in SIDES}
        before, after = part["median_wall_s"]["before"], part["median_wall_s"]["after"]
        part["ratio"] = after / before if before and after else None
        failed = [f"{n} run {i}" for n in SIDES for i, r in enumerate(runs[n], 1)
                  if "failure" in r]  # fmt: skip
        part["difference"] = (f"failed: {', '.join(failed)}" if failed
                              else compare_runs(part["outputs"]))  # fmt: skip


# ----------------------------------------------------------------------------- other checks


def readme_command() -> list[str]:
    """The arguments (after the executable) of the README's first ``spliceannot annotate``."""
    block = (REPO / "README.md").read_text().split("```bash", 1)[1].split("```", 1)[0]
    line = next(line for line in block.splitlines() if "spliceannot annotate" in line)
    return shlex.split(line.split("&&")[-1])[1:]


def check_readme(sides: dict, out_dir: Path, args: argparse.Namespace) -> dict:
    """The README's example, run in the repository's root by each side with its own empty cache."""
    words = readme_command()
    outputs, runs = {}, {}
    for name in SIDES:
        cache = out_dir / f"{name}.cache"
        shutil.rmtree(cache, ignore_errors=True)
        outputs[name] = out_dir / f"{name}.example.annotated.vcf"
        outputs[name].unlink(missing_ok=True)
        argv = [sides[name]["executable"], *words]
        argv[argv.index("-O") + 1] = str(outputs[name])
        run = run_measured(["env", "-C", str(REPO), *argv], out_dir / f"{name}.stdout",
                           out_dir / f"{name}.stderr",
                           env={**os.environ, "SPLICEANNOT_CACHE": str(cache)},
                           timeout_s=args.timeout)  # fmt: skip
        runs[name] = {**asdict(run), "argv": argv}
        say(f"README example {name}: {run.wall_s:.1f} s, exit {run.returncode}")
    failed = [n for n in SIDES if runs[n]["returncode"] != 0]
    difference = (f"exit status: {', '.join(failed)}" if failed
                  else compare_files(outputs["before"], outputs["after"]))  # fmt: skip
    dropped = {n: comparable(p)[1] for n, p in outputs.items() if p.exists()}
    return {"name": "README example", "command": "spliceannot " + shlex.join(words),
            "runs": runs, "dropped_headers": dropped, "difference": difference}  # fmt: skip


def _serve(argv: list[str], requests: list[str], timeout: float) -> tuple[int, str, str]:
    try:
        done = subprocess.run(argv, input="\n".join(requests) + "\n", capture_output=True,
                              text=True, timeout=timeout, check=False)  # fmt: skip
    except subprocess.TimeoutExpired as error:
        out, err = (s.decode(errors="replace") if isinstance(s, bytes) else s or ""
                    for s in (error.stdout, error.stderr))  # fmt: skip
        return 124, out, err
    return done.returncode, done.stdout, done.stderr


def check_serve(sides: dict, requests: list[str], out_dir: Path, args: argparse.Namespace) -> dict:
    """``serve`` on stdin/stdout: the same requests to each side, the replies line by line."""
    replies, runs = {}, {}
    for name in SIDES:
        argv = [sides[name]["executable"], "serve", "-R", str(EXAMPLE_FASTA_GZ), "-A", "grch38",
                "--no-cache", "--device", args.device]  # fmt: skip
        start = time.perf_counter()
        returncode, stdout, stderr = _serve(argv, requests, args.timeout)
        (out_dir / f"{name}.replies.jsonl").write_text(stdout)
        (out_dir / f"{name}.stderr").write_text(stderr)
        replies[name] = [without_timing(line) for line in stdout.splitlines()]
        runs[name] = {"wall_s": time.perf_counter() - start, "returncode": returncode,
                      "argv": argv, "replies": len(replies[name])}  # fmt: skip
        say(f"serve {name}: {runs[name]['wall_s']:.1f} s, {len(replies[name])} replies, "
            f"exit {returncode}")
    failed = [n for n in SIDES if runs[n]["returncode"] != 0]
    difference = (f"exit status: {', '.join(failed)}" if failed
                  else first_difference(replies["before"], replies["after"], unit="reply"))
    (out_dir / "requests.jsonl").write_text("\n".join(requests) + "\n")
    return {"name": "serve replies", "requests": len(requests), "runs": runs,
            "difference": difference}


def check_ray(sides: dict, sparse: workloads.Workload, fasta: Path, out_dir: Path,
              args: argparse.Namespace) -> dict:  # fmt: skip
    """``annotate --engine ray --workers 1`` on the sparse workload; also vs the local engine.

    Run in ``out_dir``: Ray puts the driver's working directory first on its workers'
    ``sys.path``, so in a source tree the actors of another installation would import
    that tree's package instead of their own.
    """
    files, runs = {}, {}
    for name in SIDES:
        for engine, extra in (("ray", ("--engine", "ray", "--workers", "1")), ("local", ())):
            out = out_dir / f"{name}.{engine}.vcf"
            record, _ = annotate_once(sides[name]["annotate"], sparse.path, out, fasta, args, extra,
                                      cwd=out_dir)  # fmt: skip
            runs[f"{name} {engine}"], files[(name, engine)] = record, out
            say(f"Ray check {name} {engine}: {record['wall_s']:.1f} s, exit {record['returncode']}")
    failed = [key for key, record in runs.items() if "failure" in record]
    difference = (f"failed: {', '.join(failed)}" if failed
                  else compare_files(files[("before", "ray")], files[("after", "ray")]))
    same_as_local = None if failed else all(
        compare_files(files[(n, "local")], files[(n, "ray")]) is None for n in SIDES)
    return {"name": "annotate --engine ray", "workload": sparse.name, "runs": runs,
            "ray_same_as_local_engine": same_as_local, "difference": difference}


# ----------------------------------------------------------------------------- main


def build_parts(args: argparse.Namespace, dense, sparse, fasta: Path) -> list[dict]:
    """The timed workloads selected by ``--only``: a name, a description and how to run it."""
    parts = []
    for workload in (dense, sparse):
        if workload.name.split("-")[0] in args.only:
            parts.append({
                "name": workload.name, "what": f"annotate, {workload.records} records",
                "run": lambda side, run_dir, w=workload: annotate_once(
                    side["annotate"], w.path, run_dir / "out.vcf", fasta, args),
            })  # fmt: skip
    if "predict" in args.only:
        the_slice = peers.write_slice(peers.chr2r_path(peers.augustus_doc()), None,
                                      args.predict_length, args.work_dir / "predict-input")
        parts.append({
            "name": "predict",
            "what": f"predict, {the_slice.length:,} bases of chr2R, both strands, "
                    f"{args.predict_threads} thread(s)",
            "run": lambda side, run_dir: predict_once(side, the_slice, run_dir, args),
        })  # fmt: skip
    for part in parts:
        part.update(runs={n: [] for n in SIDES}, outputs={n: [] for n in SIDES})
    return parts


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    args.work_dir.mkdir(parents=True, exist_ok=True)
    command = "python3 benchmarks/revisions.py" + "".join(
        f" {shlex.quote(a)}" for a in (argv if argv is not None else sys.argv[1:]))
    meta = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "command": command, "repeats": args.repeats, "machine": machine.describe(),
            "load_before": machine.load_average(), "revision_start": machine.git_revision()}
    log = args.work_dir / "setup.log"
    sides = {name: setup_side(name, getattr(args, name), args, log) for name in SIDES}
    meta["executables"] = {name: sides[name]["about"] for name in SIDES}

    fasta = write_plain_fasta(EXAMPLE_FASTA_GZ, bench_cache() / "chr16_region.fa")
    genome = read_genome(EXAMPLE_FASTA_GZ)
    table = tools.find_gene_table([sides["after"]["annotate"]])
    genes = read_gene_table(table, genome.contig)
    dense, sparse = workloads.make_workloads(
        ["dense", "sparse"], genome, genes, args.seed, args.distance, [], 0, False,
        bench_cache() / "workloads", args.dense_records)
    parts = build_parts(args, dense, sparse, fasta)
    time_parts(parts, sides, args)

    checks = []
    for name in ("readme", "serve", "ray"):
        if name not in args.only:
            continue
        out_dir = args.work_dir / name
        out_dir.mkdir(parents=True, exist_ok=True)
        if name == "readme":
            checks.append(check_readme(sides, out_dir, args))
        elif name == "serve":
            (every_dense,) = workloads.make_workloads(
                ["dense"], genome, genes, args.seed, args.distance, [], 0, False,
                bench_cache() / "workloads")  # all of it, whatever --dense-records
            requests = serve_requests(genome, every_dense.path)
            checks.append(check_serve(sides, requests, out_dir, args))
        else:
            checks.append(check_ray(sides, sparse, fasta, out_dir, args))

    meta.update(load_after=machine.load_average(), revision_end=machine.git_revision(),
                total_s=time.perf_counter() - started)
    for part in parts:
        del part["run"]
        part["outputs"] = {n: [[str(p) for p in files] for files in part["outputs"][n]]
                           for n in SIDES}  # fmt: skip
    data = {"meta": meta, "timing": parts, "checks": checks}
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(render(data))
    twin = args.results.with_suffix(".json")
    twin.write_text(json.dumps(data, indent=1, default=str) + "\n")
    print_table(data)
    say(f"wrote {args.results} and {twin} ({meta['total_s'] / 60:.1f} min in all)")
    differs = [item["name"] for item in parts + checks if item["difference"] is not None]
    if differs:
        say(f"NOT the same: {', '.join(differs)}")
    return 1 if differs else 0


if __name__ == "__main__":
    sys.exit(main())
