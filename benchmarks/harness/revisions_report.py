"""RESULTS-refactor.md: the report of ``revisions.py`` (two spliceannot revisions side by side)."""

from __future__ import annotations

import shlex

from .compare import RUN_HEADERS, SIDES
from .paths import shorten
from .report import _row
from .serve_requests import TIMING_FIELDS


def fmt_num(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None else f"{value:,.{digits}f}"


def verdict(difference: str | None) -> str:
    return "identical" if difference is None else "DIFFERS"


def _loads(part: dict) -> str:
    rounds = zip(*(part["runs"][n] for n in SIDES))
    return ", ".join(f"{b['load']} / {a['load']}" for b, a in rounds)


def _executable_line(name: str, about: dict) -> str:
    return (f"- {name}: `{shorten(about['executable'])}` ({about['label']}, torch "
            f"{about['torch']}, Python {about['python']}), installed from "
            f"`{about['installed_from']}`{' (editable)' if about['editable'] else ''}, "
            f"revision {about.get('revision', '?')}")


def _what_was_run(data: dict) -> list[str]:
    lines = []
    for part in data["timing"]:
        first = part["runs"]["after"][0] if part["runs"]["after"] else {}
        env = "".join(f"{k}={v} " for k, v in first.get("env", {}).items())
        argv = shorten(shlex.join(first.get("argv", [])))
        lines.append(f"- {part['name']} (after's first run; before's differs only in the "
                     f"executable and the output paths): `{env}{argv}`")
    for check in data["checks"]:
        if "command" in check:
            lines.append(f"- {check['name']}: `{check['command']}`, run in the repository's root "
                         "by each executable (`-O` to a file of its own) with an empty "
                         "`SPLICEANNOT_CACHE` each, so that both compute every score")
        elif "requests" in check:
            argv = shorten(shlex.join(check["runs"]["after"]["argv"]))
            lines.append(
                f"- {check['name']}: `{argv}` on stdin/stdout, {check['requests']} request lines "
                "(SNVs, a `chr`-less contig name, a deletion, an insertion, a multi-allelic record "
                "as a list and as text, an MNV, per-request `distance`/`mask`, unscored records, "
                "bad requests, a blank line, `health`, an unknown `op`, `shutdown`); the replies "
                f"compared line by line, without `health`'s {' and '.join(TIMING_FIELDS)}")
        elif "workload" in check:
            same = check["ray_same_as_local_engine"]
            relation = {True: "the same as", False: "NOT the same as"}.get(same, "not compared to")
            lines.append(f"- {check['name']}: the {check['workload']} workload as run.py runs it, "
                         "plus `--engine ray --workers 1` (a local Ray cluster started by the "
                         f"command); each side's Ray output is also {relation} its local engine's")
    return lines


def render(data: dict) -> str:
    meta = data["meta"]
    out = [
        "# Two revisions side by side: the same outputs, and the speed of each",
        "",
        (f"Date: {meta['date']}. Written by `{meta['command']}` in {meta['total_s'] / 60:.1f} "
         f"min. Timed runs: {meta['repeats']} per executable and workload, interleaved (before, "
         "after, before, after, ...); the table gives medians."),
        "",
        "## Machine and executables",
        "",
        *[f"- {name}: {value}" for name, value in meta["machine"].items()],
        f"- load average before / after: {meta['load_before']} / {meta['load_after']}",
        f"- repository at the start / end: {meta['revision_start']} / {meta['revision_end']}",
        *[_executable_line(name, meta["executables"][name]) for name in SIDES],
        "",
        "## Timing",
        "",
        _row("workload", "what", "before s", "after s", "after / before", "before s (runs)",
             "after s (runs)", "CPU s before / after", "peak RSS MiB before / after",
             "load (1 min) at each run start, before / after", "outputs"),
        _row("---", "---", "---:", "---:", "---:", "---", "---", "---:", "---:", "---", "---"),
    ]
    for part in data["timing"]:
        wall, cpu, rss = part["median_wall_s"], part["median_cpu_s"], part["peak_rss_mib"]
        out.append(_row(
            part["name"], part["what"], fmt_num(wall["before"]), fmt_num(wall["after"]),
            f"**{part['ratio']:.3f}**" if part["ratio"] else "n/a",
            ", ".join(fmt_num(r["wall_s"]) for r in part["runs"]["before"]),
            ", ".join(fmt_num(r["wall_s"]) for r in part["runs"]["after"]),
            f"{fmt_num(cpu['before'])} / {fmt_num(cpu['after'])}",
            f"{rss['before']:.0f} / {rss['after']:.0f}", _loads(part), verdict(part["difference"]),
        ))  # fmt: skip
    out += ["", "## Same outputs", "", _row("check", "result", "first difference"),
            _row("---", "---", "---")]  # fmt: skip
    for part in data["timing"]:
        out.append(_row(f"{part['name']}: every run's files vs before's first run",
                        verdict(part["difference"]), part["difference"] or ""))
    for check in data["checks"]:
        out.append(_row(check["name"], verdict(check["difference"]), check["difference"] or ""))
    headers = ", ".join(f"`{h.decode().rstrip('=')}`" for h in RUN_HEADERS)
    out += ["", "## What was run", "", *_what_was_run(data), "",
            (f"VCFs are compared line by line without the header lines that name the run "
             f"({headers}); predict's files (the BED and the four bigWigs) byte for byte.")]
    return "\n".join(out).rstrip() + "\n"


def print_table(data: dict) -> None:
    """The summary on stdout: medians, ratios and every check's verdict."""
    print(f"{'workload':<12} {'before s':>9} {'after s':>9} {'after/before':>13}  outputs")
    for part in data["timing"]:
        wall = part["median_wall_s"]
        ratio = f"{part['ratio']:.3f}" if part["ratio"] else "n/a"
        print(f"{part['name']:<12} {fmt_num(wall['before']):>9} {fmt_num(wall['after']):>9} "
              f"{ratio:>13}  {verdict(part['difference'])}")
    for check in data["checks"]:
        print(f"{check['name']:<46} {verdict(check['difference'])}  {check['difference'] or ''}")
