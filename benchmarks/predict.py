#!/usr/bin/env python3
"""Benchmark ``spliceannot predict`` against OpenSpliceAI 0.0.7's ``openspliceai predict``.

One command fetches augustus-doc (Drosophila chr2R), cuts a slice of it,
runs both genome predictors on it (CPU, the five-model 10000-nt ensembles,
repeats interleaved), measures the machine's fp32 matmul/convolution rate
with torch in the same run, and writes ``benchmarks/RESULTS-predict.md``
and a ``.json`` twin:

    python3 benchmarks/predict.py                         # the default measurement
    python3 benchmarks/predict.py --length 20000 --repeats 1 --results /tmp/smoke.md
    python3 benchmarks/predict.py --threads 1,2 --length 0   # the whole arm, two thread counts

Standard library only. See benchmarks/README.md ("Genome-wide prediction").
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import shlex
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import machine, tools
from harness import predict_peers as peers
from harness.measure import run_measured
from harness.paths import BENCH_DIR, bench_cache, shorten

TOOL_KEYS = ("spliceannot", "openspliceai")
DEFAULT_LENGTH = 500_000
OPENSPLICEAI_THRESHOLD = 0.01
AGREEMENT_CUT = 0.5
OPENSPLICEAI_SPLIT = 1_500_000  # openspliceai predict --split-threshold default


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def _thread_list(text: str) -> list[int]:
    values = [int(x) for x in text.split(",") if x.strip()]
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"thread counts must be positive integers (got {text!r})")
    return list(dict.fromkeys(values))


def _tool_list(text: str) -> list[str]:
    chosen = [x.strip() for x in text.split(",") if x.strip()]
    if not chosen or any(x not in TOOL_KEYS for x in chosen):
        raise argparse.ArgumentTypeError(f"choose from {', '.join(TOOL_KEYS)} (got {text!r})")
    return chosen


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--length", type=int, default=DEFAULT_LENGTH, metavar="N",
                        help="bases of chr2R to predict (default %(default)s; 0: to the end)")
    parser.add_argument("--offset", type=int, default=None, metavar="N",
                        help="0-based first base of the slice (default: the first base not N)")
    parser.add_argument("--repeats", type=int, default=3,
                        help="runs per tool and thread count, interleaved (default %(default)s)")
    parser.add_argument("--threads", type=_thread_list, default=None, metavar="N[,N...]",
                        help="CPU threads for both tools; a list runs each (default: all usable "
                             f"cores, {usable_cores()} here)")
    parser.add_argument("--tools", type=_tool_list, default=list(TOOL_KEYS),
                        help="comma-separated subset of %(default)s")
    parser.add_argument("--spliceannot", metavar="PATH",
                        help="the spliceannot executable (default: $SPLICEANNOT_BIN, the repo's "
                             ".venv, PATH; if none, the repo's .venv is created as README.md does)")
    parser.add_argument("--spliceannot-args", default="", metavar="ARGS",
                        help="extra `spliceannot predict` arguments, e.g. '--chunk-size 100000'")
    parser.add_argument("--device", default="cpu",
                        help="spliceannot --device (default %(default)s)")
    parser.add_argument("--openspliceai-threshold", type=float, default=OPENSPLICEAI_THRESHOLD,
                        metavar="P", help="openspliceai predict --threshold (default %(default)s)")
    parser.add_argument("--microbench-seconds", type=float, default=1.5, metavar="S",
                        help="seconds per torch microbenchmark kernel and thread count "
                             "(default %(default)s; 0 skips the microbenchmark)")
    parser.add_argument("--timeout", type=float, metavar="SECONDS",
                        help="give up on a single run after this long")
    parser.add_argument("--work-dir", type=Path, default=None,
                        help="the slice and the tools' outputs (default $CACHE/bench/predict)")
    parser.add_argument("--results", type=Path, default=BENCH_DIR / "RESULTS-predict.md",
                        help="the Markdown report (default %(default)s); a .json twin beside it")
    args = parser.parse_args(argv)
    if args.length < 0 or args.repeats < 1:
        parser.error("--length must be >= 0 and --repeats >= 1")
    args.threads = args.threads or [usable_cores()]
    args.work_dir = args.work_dir or bench_cache() / "predict"
    return args


def say(message: str) -> None:
    print(f"[predict-bench] {message}", file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------- setup


def setup_spliceannot(args: argparse.Namespace, log: Path) -> dict:
    executable = tools.find_spliceannot(args.spliceannot) or tools.install_spliceannot(log)
    python = tools._script_python(executable)
    version = subprocess.run([str(executable), "--version"], check=True, capture_output=True,
                             text=True).stdout.strip().split()[-1]
    return {
        "label": f"spliceannot {version}",
        "executable": str(executable),
        "python": python,
        "torch": tools._package_version(python, "torch"),
        "python_version": tools._python_version(python),
    }


def setup_openspliceai(log: Path) -> dict:
    code, lines = tools._run_setup("setup_openspliceai.sh", log)
    if code == 3:
        raise RuntimeError("its MANE 10000-nt models were not found: set OPENSPLICEAI_MODELS_SRC "
                           "to a directory holding model_10000nt_rs1[0-4].pt")
    if code != 0 or len(lines) < 2:
        raise RuntimeError(f"setup_openspliceai.sh exited {code} (see {log})")
    venv, models = Path(lines[-2]), Path(lines[-1])
    python = str(venv / "bin" / "python")
    return {
        "label": tools.LABELS["openspliceai"],
        "executable": str(venv / "bin" / "openspliceai"),
        "models": str(models),
        "model_files": sorted(p.name for p in models.glob("*.pt")),
        "python": python,
        "torch": tools._package_version(python, "torch"),
        "python_version": tools._python_version(python),
    }


# ----------------------------------------------------------------------------- one run


def command(key: str, tool: dict, fasta: str, out: Path, threads: int, slice_length: int,
            args: argparse.Namespace) -> tuple[list[str], dict]:
    """The argv and the added environment of one run writing under ``out``."""
    env = {"OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    if key == "spliceannot":
        argv = [tool["executable"], "predict", "-R", fasta, "-m", "spliceai",
                "--bed", str(out / "sites.bed"), "--bigwig", str(out / "tracks"),
                "--device", args.device, "--threads", str(threads), "--no-progress",
                *shlex.split(args.spliceannot_args)]  # fmt: skip
        return argv, env
    env["CUDA_VISIBLE_DEVICES"] = ""
    argv = [tool["executable"], "predict", "-i", fasta, "-m", tool["models"], "-f", "10000",
            "-o", str(out), "-t", f"{args.openspliceai_threshold:g}"]  # fmt: skip
    if slice_length > OPENSPLICEAI_SPLIT:
        # 0.0.7 splits longer records, and then writes nothing for them without -a
        # ("Undefined strand None"): keep the slice whole
        argv += ["--split-threshold", str(slice_length)]
    return argv, env


def run_once(key: str, tool: dict, fasta: str, out: Path, threads: int, slice_length: int,
             args: argparse.Namespace) -> dict:
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    argv, added = command(key, tool, fasta, out, threads, slice_length, args)
    stdout, stderr = out / "stdout.txt", out / "stderr.txt"
    result = run_measured(argv, stdout, stderr, env={**os.environ, **added},
                          timeout_s=args.timeout)
    record = {
        "wall_s": result.wall_s, "user_s": result.user_s, "system_s": result.system_s,
        "cpu_s": result.user_s + result.system_s, "peak_rss_mib": result.peak_rss_mib,
        "returncode": result.returncode, "out": str(out),
    }  # fmt: skip
    err_text = stderr.read_text(errors="replace")
    out_text = stdout.read_text(errors="replace")
    if key == "spliceannot":
        summary = peers.parse_our_summary(err_text)
        record["positions"] = summary.get("positions", 2 * slice_length)
        record["strands"] = summary.get("strands", {})
        record["compute_s"] = summary.get("compute_s")
        record["outputs"] = [str(out / "sites.bed")]
    else:
        steps = peers.parse_openspliceai_steps(out_text)
        record["positions"] = slice_length  # one strand: the sequence as given
        record["strands"] = {"+": slice_length}
        record["steps_s"] = steps
        record["compute_s"] = next((v for k, v in steps.items() if k.startswith("Step 4")), None)
        folder = peers.openspliceai_output_dir(out)
        record["outputs"] = [str(folder / "acceptor_predictions.bed"),
                             str(folder / "donor_predictions.bed")]
    present = all(Path(p).exists() for p in record["outputs"])
    if result.returncode != 0 or not present:
        tail = " / ".join((err_text or out_text).strip().splitlines()[-4:])
        record["failure"] = f"exit {result.returncode}" + ("" if present else ", no output")
        record["failure"] += f": {tail[-600:]}"
    else:
        record["digest"] = peers.data_digest([Path(p) for p in record["outputs"]])
    return record


def trim_outputs(record: dict, keep: bool) -> None:
    """Delete the bulky files of a run (bigWigs, OpenSpliceAI's HDF5 inputs) unless ``keep``."""
    if keep:
        return
    out = Path(record["out"])
    for pattern in ("tracks.*.bw", "*/datafile.h5", "*/dataset.h5", "*/*_split.fa*"):
        for path in out.glob(pattern):
            path.unlink(missing_ok=True)


# ----------------------------------------------------------------------------- summary


def median(values: list[float]) -> float:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else math.nan


def summarize(runs: list[dict], flop_per_position: int, executed_flop: float) -> dict:
    ok = [r for r in runs if "failure" not in r]
    if not ok:
        return {"ok": False}
    positions = ok[0]["positions"]
    wall = median([r["wall_s"] for r in ok])
    compute = median([r.get("compute_s") for r in ok])
    rate = positions / wall
    return {
        "ok": True,
        "positions": positions,
        "strands": ok[0]["strands"],
        "wall_s": wall,
        "walls": [r["wall_s"] for r in runs],
        "cpu_s": median([r["cpu_s"] for r in ok]),
        "peak_rss_mib": max(r["peak_rss_mib"] for r in ok),
        "compute_s": compute,
        "positions_per_s": rate,
        "positions_per_s_compute": positions / compute if compute and compute > 0 else math.nan,
        "effective_gflops": rate * flop_per_position / 1e9,
        "executed_gflops": executed_flop / wall / 1e9,
        "executed_per_useful": executed_flop / (positions * flop_per_position),
        "identical_outputs": len({r.get("digest") for r in ok}) == 1 if len(ok) == len(runs)
        else None,
    }


def machine_rates(bench: dict | None) -> dict:
    if not bench or not bench.get("results"):
        return {}
    results = bench["results"]
    best = max(results, key=lambda r: r["gflops"])
    by_threads = {}
    for r in results:
        if r["threads"] not in by_threads or r["gflops"] > by_threads[r["threads"]]["gflops"]:
            by_threads[r["threads"]] = r
    return {"best": best, "by_threads": by_threads}


# ----------------------------------------------------------------------------- report


def _num(value, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:,.{digits}f}"


def _pct(part, whole) -> str:
    if not whole or math.isnan(whole) or part is None or math.isnan(part):
        return "n/a"
    return f"{100 * part / whole:.1f}%"


def _row(*cells) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def _cmd(argv: list[str]) -> str:
    return shorten(" ".join(shlex.quote(a) for a in argv))


def write_report(data: dict, path: Path) -> Path:
    s, accounting, rates = data["slice"], data["flop_accounting"], data["machine_rate"]
    per_position = accounting["flop_per_position"]
    best = rates.get("best")
    lines = [
        "# Genome-wide prediction: spliceannot predict vs OpenSpliceAI 0.0.7 predict",
        "",
        f"- date: {data['date']}",
        f"- command: `{data['command']}`",
        f"- repository: {data['revision']}",
        f"- load average before / after: {data['load_before']} / {data['load_after']}",
        *(f"- {k}: {v}" for k, v in data["machine"].items()),
        f"- input: {s['contig']} bases {s['offset'] + 1:,}-{s['offset'] + s['length']:,} "
        f"({s['length']:,} nt of {s['contig_length']:,}; {s['non_acgt']:,} not ACGT) from "
        f"augustus-doc `{Path(s['source']).name}`, written as `{shorten(s['fasta'])}` "
        f"(sha256 of the bases {s['sha256'][:16]}...)",
        f"- repeats: {data['repeats']} per tool and thread count, interleaved; "
        f"threads: {', '.join(map(str, data['threads']))}",
    ]
    for key, tool in data["tools"].items():
        lines.append(f"- {tool['label']}: torch {tool['torch']}, Python {tool['python_version']}")
    for key, reason in data["unavailable"].items():
        lines.append(f"- {key}: NOT RUN: {reason}")
    lines += ["", "## Commands", ""]
    for key, argv in data["commands"].items():
        lines += [f"{data['tools'][key]['label']} (environment: "
                  f"{' '.join(f'{k}={v!r}' for k, v in data['environments'][key].items())}):",
                  "", "```", _cmd(argv), "```", ""]
    lines += ["## Throughput", ""]
    header = ("tool", "threads", "strands", "positions", "wall s (median)", "wall s (runs)",
              "CPU s (median)", "peak RSS MiB")  # fmt: skip
    lines += [_row(*header), _row(*(["---"] * 3 + ["---:"] * (len(header) - 3)))]
    rate_header = ("tool", "threads", "positions/s", "effective GFLOP/s", "% of machine rate",
                   "% of best rate at these threads", "executed GFLOP/s",
                   "positions/s (prediction step)", "effective GFLOP/s (prediction step)",
                   "% of machine rate (prediction step)")  # fmt: skip
    rate_lines = [_row(*rate_header), _row(*(["---"] * 2 + ["---:"] * (len(rate_header) - 2)))]
    top = best["gflops"] if best else math.nan
    for entry in data["results"]:
        label = data["tools"][entry["tool"]]["label"]
        summary = entry["summary"]
        walls = ", ".join(f"{r['wall_s']:.1f}" for r in entry["runs"])
        if not summary.get("ok"):
            lines.append(_row(label, entry["threads"], "", "", "failed", walls, "", ""))
            continue
        lines.append(_row(
            label, entry["threads"], "+ and -" if len(summary["strands"]) == 2 else "+ only",
            f"{summary['positions']:,}", _num(summary["wall_s"]), walls,
            _num(summary["cpu_s"]), _num(summary["peak_rss_mib"], 0),
        ))  # fmt: skip
        same = rates.get("by_threads", {}).get(entry["threads"])
        same_rate = same["gflops"] if same else math.nan
        step_gflops = summary["positions_per_s_compute"] * per_position / 1e9
        rate_lines.append(_row(
            label, entry["threads"], _num(summary["positions_per_s"], 0),
            _num(summary["effective_gflops"], 2), _pct(summary["effective_gflops"], top),
            _pct(summary["effective_gflops"], same_rate), _num(summary["executed_gflops"], 2),
            _num(summary["positions_per_s_compute"], 0), _num(step_gflops, 2),
            _pct(step_gflops, top),
        ))  # fmt: skip
    lines += ["", *rate_lines]
    lines.append("")
    for ratio in data["ratios"]:
        lines.append(
            f"- {ratio['threads']} thread(s): spliceannot / OpenSpliceAI = "
            f"**{ratio['wall']:.2f}x** positions/s (whole commands), "
            f"{_num(ratio['compute'], 2)}x in the prediction step alone; per base of the "
            f"genome {ratio['wall'] / 2:.2f}x (genome bases per second: spliceannot covers "
            "both strands in that time, OpenSpliceAI one)."
        )
    lines += ["", "## The machine's fp32 rate (torch, in spliceannot's environment)", ""]
    bench = data.get("microbenchmark")
    if bench and bench.get("results"):
        lines += [_row("kernel", "threads", "GFLOP/s"), _row("---", "---:", "---:")]
        for r in bench["results"]:
            lines.append(_row(r["kernel"], r["threads"], _num(r["gflops"], 1)))
        lines += ["", f"Machine rate = the best of these: **{best['gflops']:.1f} GFLOP/s** "
                      f"({best['kernel']}, {best['threads']} thread(s)). Each kernel ran "
                      f"about {data['microbench_seconds']:g} s; the fastest repetition counts. "
                      f"torch {bench['torch']}."]
    else:
        lines.append("Not measured (--microbench-seconds 0 or it failed).")
    lines += [
        "", "## FLOP accounting", "",
        f"One SpliceAI-10k network per output position: {accounting['dilated_convs']} dilated "
        f"convolutions (16 residual units x 2), 32->32 channels, kernel widths 11 (x16), "
        f"21 (x8), 41 (x8): 2 x 32 x 32 x {accounting['kernel_taps']} kernel taps = "
        f"{accounting['flop_dilated']:,} FLOP; the 1x1 convolutions "
        + ", ".join(f"{k} {v:,}" for k, v in accounting["flop_pointwise"].items())
        + f" FLOP; total **{accounting['flop_per_model']:,} FLOP per model**, "
        f"x {accounting['members']} members = **{accounting['flop_per_position']:,} FLOP "
        f"({accounting['flop_per_position'] / 1e6:.2f} MFLOP) per position** (multiply-adds "
        "counted as 2 FLOP; biases, BatchNorm, activations, residual adds and softmax left out).",
    ]
    check = (bench or {}).get("model_check") or {}
    if "flop_per_model" in check:
        verdict = "agrees" if check["flop_per_model"] == accounting["flop_per_model"] else "DIFFERS"
        lines.append(f"Counted from spliceannot's own module (2 x the weights of its "
                     f"{check['convs']} Conv1d layers, {check['dilated_convs']} dilated): "
                     f"{check['flop_per_model']:,} FLOP per model, which {verdict}.")
    lines += [
        "",
        "*Effective* GFLOP/s = positions/s x that figure (useful work only). *Executed* "
        "GFLOP/s counts what each tool computes: spliceannot's valid convolutions on chunks "
        "of 50,000 outputs read 10,000 extra bases per chunk "
        f"({_num(data['executed_per_useful'].get('spliceannot'), 3)}x the useful FLOP here); "
        "OpenSpliceAI's windows of 5,000 outputs read 15,000 bases and its 'same'-padded "
        "convolutions compute all 15,000 in every layer "
        f"({_num(data['executed_per_useful'].get('openspliceai'), 3)}x).",
        "",
        "## Do the two agree? (sanity check)", "",
    ]
    agree = data.get("agreement")
    if agree:
        for name, a in agree.items():
            lines.append(
                f"- {name}: {a['ours']} spliceannot calls >= {AGREEMENT_CUT} on +, "
                f"{a['theirs']} OpenSpliceAI calls >= {AGREEMENT_CUT}; at the same base (0 bp): "
                f"{a['both']} = {_pct(a['both'], a['ours'])} of ours, "
                f"{_pct(a['both'], a['theirs'])} of theirs; OpenSpliceAI gives "
                f"{_pct(a['ours_in_their_bed'], 1.0)} of our calls at least its BED threshold "
                f"({data['openspliceai_threshold']:g})."
            )
        lines += ["", "Different models (Illumina's SpliceAI-10k vs OpenSpliceAI's MANE-trained "
                      "ones, both human-trained, here on fly sequence): agreement shows that both "
                      "read the same strand and coordinates, not that either is right. "
                      "OpenSpliceAI's BED gives an acceptor as the base before the model's "
                      "position (`ACCEPTOR_WINDOW = (-1, 0)`) and a donor at it; the positions "
                      "are shifted back before comparing."]
    else:
        lines.append("Not available (a tool did not run).")
    lines += ["", "## Notes", "", *data["notes"], "", "## Every run", "",
              _row("tool", "threads", "run", "wall s", "CPU s", "peak RSS MiB", "exit", "detail"),
              _row("---", "---:", "---:", "---:", "---:", "---:", "---:", "---")]
    for entry in data["results"]:
        for index, run in enumerate(entry["runs"], start=1):
            detail = run.get("failure", "")
            if not detail and run.get("steps_s"):
                detail = "; ".join(f"{k} {v:.1f} s" for k, v in run["steps_s"].items())
            elif not detail and run.get("compute_s") is not None:
                detail = f"predict and write {run['compute_s']:.1f} s"
            lines.append(_row(data["tools"][entry["tool"]]["label"], entry["threads"], index,
                              _num(run["wall_s"]), _num(run["cpu_s"]),
                              _num(run["peak_rss_mib"], 0), run["returncode"], detail))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    twin = path.with_suffix(".json")
    twin.write_text(json.dumps(data, indent=2, default=str) + "\n")
    return twin


def notes(data: dict) -> list[str]:
    threshold = data["openspliceai_threshold"]
    return [
        "- Both tools run on the CPU with the same thread count (`--threads N` and "
        "`OMP_NUM_THREADS=N` for spliceannot; `OMP_NUM_THREADS=N`, which sets torch's "
        "intra-op pool, for OpenSpliceAI, which has no thread option).",
        "- **Strands.** spliceannot predicts both strands (the minus strand as the model on the "
        "reverse complement). `openspliceai predict` without `-a` scores each FASTA record on "
        "the strand as given (it prints so), i.e. the forward strand only. Positions = bases x "
        "strands each tool predicted, so positions/s compares the work per strand; per base of "
        "genome spliceannot's advantage is half the ratio.",
        "- **OpenSpliceAI's settings**, chosen for its fastest CPU run: `-f 10000` with the five "
        "MANE 10000-nt models (a directory: the ensemble mean), its default 'turbo' path "
        f"(no `-p`: predictions go straight to BED), `-t {threshold:g}` (its default 1e-6 writes "
        "almost every position through a per-position Python loop), `CUDA_VISIBLE_DEVICES=` "
        "(CPU). Its batch size (12 windows of 15,000 bases) is fixed in its code, and its "
        "HDF5 intermediate files (`--hdf-threshold 0`) are its default. It splits records "
        "over `--split-threshold` (1,500,000) into overlapping pieces, and 0.0.7 then writes "
        "nothing for them without `-a` ('Undefined strand None'), so a longer slice gets "
        "`--split-threshold <its length>` (more memory, same computation).",
        "- **spliceannot's settings**: its defaults (`--chunk-size 50000 --batch-size 4`, "
        "BatchNorm folded into the convolutions), writing four full-resolution bigWig tracks "
        "(every position, both classes and strands) and a BED of the sites >= 0.01.",
        "- Wall time is the whole command: process start, imports, model loading, reading and "
        "encoding the input, prediction and writing; CPU time and peak RSS are the process "
        "tree's (`wait4`). The prediction-step column uses each tool's own timer "
        "(spliceannot's closing line; OpenSpliceAI's `--- Step 4o ... seconds ---`).",
        "- Outputs identical across runs: "
        + "; ".join(f"{data['tools'][e['tool']]['label']} with {e['threads']} thread(s) "
                    f"{'yes' if e['summary'].get('identical_outputs') else 'no/n.a.'}"
                    for e in data["results"]) + ".",
    ]


# ----------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.work_dir.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(args.work_dir / "runs", ignore_errors=True)  # outputs of an earlier run
    log = args.work_dir / "setup.log"
    command_line = "python3 benchmarks/predict.py" + "".join(
        f" {shlex.quote(a)}" for a in (argv if argv is not None else sys.argv[1:]))
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    load_before = machine.load_average()

    say("fetching augustus-doc (cached after the first run)")
    source = peers.chr2r_path(peers.augustus_doc())
    the_slice = peers.write_slice(source, args.offset, args.length, args.work_dir / "input")
    say(f"slice: {the_slice.length:,} nt of {the_slice.contig} from {the_slice.offset + 1:,} "
        f"-> {shorten(the_slice.fasta)}")

    ready, unavailable = {}, {}
    for key in args.tools:
        say(f"setting up {key} (log: {shorten(str(log))})")
        try:
            ready[key] = setup_spliceannot(args, log) if key == "spliceannot" \
                else setup_openspliceai(log)
        except (RuntimeError, OSError, FileNotFoundError, subprocess.CalledProcessError) as error:
            say(f"{key} is not available: {error}")
            unavailable[key] = str(error)
    if not ready:
        return 1

    bench = None
    if args.microbench_seconds > 0:
        python = ready.get("spliceannot", ready.get("openspliceai"))["python"]
        counts = sorted({1, usable_cores(), *args.threads})
        say(f"torch microbenchmark ({', '.join(map(str, counts))} thread(s))")
        try:
            bench = peers.microbenchmark(python, counts, args.microbench_seconds)
        except (subprocess.CalledProcessError, ValueError, OSError) as error:
            say(f"microbenchmark failed: {error}")
    accounting = peers.flop_accounting()
    per_position = accounting["flop_per_position"]

    runs = {(key, t): [] for t in args.threads for key in ready}
    commands, environments = {}, {}
    for key, tool in ready.items():
        argv_, env = command(key, tool, the_slice.fasta,
                             args.work_dir / "runs" / f"{key}.t{args.threads[0]}.run1",
                             args.threads[0], the_slice.length, args)
        commands[key], environments[key] = argv_, env
    failed = set()
    for rep in range(1, args.repeats + 1):
        for threads in args.threads:
            for key, tool in ready.items():
                if (key, threads) in failed:
                    continue
                out = args.work_dir / "runs" / f"{key}.t{threads}.run{rep}"
                record = run_once(key, tool, the_slice.fasta, out, threads, the_slice.length, args)
                runs[(key, threads)].append(record)
                trim_outputs(record, keep=rep == 1)
                rate = record["positions"] / record["wall_s"]
                say(f"run {rep}/{args.repeats} {key} x{threads}: {record['wall_s']:.1f} s wall, "
                    f"{record['cpu_s']:.1f} s CPU, {record['positions']:,} positions, "
                    f"{rate:,.0f} positions/s, peak RSS {record['peak_rss_mib']:.0f} MiB"
                    + (f", FAILED {record['failure']}" if "failure" in record else ""))
                if "failure" in record:
                    failed.add((key, threads))
        if rep == 1 and args.repeats > 1:
            spent = sum(r[0]["wall_s"] for r in runs.values() if r)
            say(f"one round took {spent / 60:.1f} min; about {spent * (args.repeats - 1) / 60:.0f} "
                "min to go")

    lengths = [the_slice.length, the_slice.length]
    executed = {
        "spliceannot": peers.spliceannot_executed_flop(lengths),
        "openspliceai": peers.openspliceai_executed_flop(the_slice.length),
    }
    results = []
    for (key, threads), records in runs.items():
        summary = summarize(records, per_position, executed[key])
        results.append({"tool": key, "threads": threads, "summary": summary, "runs": records})
    ratios = []
    for threads in args.threads:
        ours = next((r["summary"] for r in results
                     if r["tool"] == "spliceannot" and r["threads"] == threads), {})
        theirs = next((r["summary"] for r in results
                       if r["tool"] == "openspliceai" and r["threads"] == threads), {})
        if ours.get("ok") and theirs.get("ok"):
            ratios.append({
                "threads": threads,
                "wall": ours["positions_per_s"] / theirs["positions_per_s"],
                "compute": ours["positions_per_s_compute"] / theirs["positions_per_s_compute"],
            })  # fmt: skip
    agree = None
    first = args.threads[0]
    ours_run = next((r for r in runs.get(("spliceannot", first), []) if "failure" not in r), None)
    theirs_run = next((r for r in runs.get(("openspliceai", first), []) if "failure" not in r),
                      None)
    if ours_run and theirs_run:
        agree = peers.agreement(peers.read_our_bed(Path(ours_run["outputs"][0])),
                                peers.read_openspliceai_beds(Path(theirs_run["out"])),
                                AGREEMENT_CUT)

    data = {
        "date": date, "command": command_line, "revision": machine.git_revision(),
        "machine": machine.describe(), "load_before": load_before,
        "load_after": machine.load_average(), "repeats": args.repeats, "threads": args.threads,
        "slice": the_slice.__dict__, "tools": ready, "unavailable": unavailable,
        "commands": commands, "environments": environments,
        "openspliceai_threshold": args.openspliceai_threshold,
        "microbench_seconds": args.microbench_seconds, "microbenchmark": bench,
        "machine_rate": machine_rates(bench), "flop_accounting": accounting,
        "executed_per_useful": {
            key: executed[key] / (per_position * (2 if key == "spliceannot" else 1)
                                  * the_slice.length) for key in executed},
        "results": results, "ratios": ratios, "agreement": agree,
    }  # fmt: skip
    data["notes"] = notes(data)
    twin = write_report(data, args.results)
    say(f"wrote {args.results} and {twin}")
    for ratio in ratios:
        say(f"{ratio['threads']} thread(s): spliceannot / OpenSpliceAI = {ratio['wall']:.2f}x "
            f"positions/s")
    return 1 if failed or unavailable else 0


if __name__ == "__main__":
    sys.exit(main())
