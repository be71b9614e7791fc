"""RESULTS.md (and a JSON twin) from the measured runs and the output checks."""

from __future__ import annotations

import json
import math
import shlex
from dataclasses import asdict, dataclass, field, is_dataclass
from pathlib import Path

from .fidelity import Fidelity, Relation, median
from .measure import RunResult
from .paths import shorten
from .tools import LABELS, Tool
from .workloads import Workload

MAX_LISTED_DIFFERENCES = 40


@dataclass
class ToolRuns:
    """Every run of one tool on one workload.

    Attributes
    ----------
    tool : Tool
    argv : list of str
        The command line of the first run (later runs differ only in the output name).
    runs : list of RunResult
    failure : str or None
        Why the tool stopped (exit status and the end of its stderr), if it did.
    outputs_identical : bool or None
        Whether every run wrote the same data lines.
    summary : str
        The tool's closing stderr line, where it prints one (spliceannot's counts).
    """

    tool: Tool
    argv: list
    runs: list = field(default_factory=list)
    failure: str | None = None
    outputs_identical: bool | None = None
    summary: str = ""

    @property
    def ok_runs(self) -> list[RunResult]:
        return [run for run in self.runs if run.returncode == 0]

    @property
    def median_wall(self) -> float:
        return median([run.wall_s for run in self.ok_runs])

    @property
    def peak_rss(self) -> float:
        return max((run.peak_rss_mib for run in self.ok_runs), default=math.nan)


@dataclass
class WorkloadResult:
    workload: Workload
    tools: dict = field(default_factory=dict)  # key -> ToolRuns
    fidelity: Fidelity | None = None
    relation: Relation | None = None
    pass_through: dict = field(default_factory=dict)  # key -> fidelity.PassThrough


@dataclass
class CacheResult:
    """Cold and warm runs of spliceannot with a score cache on one workload.

    Each repeat starts from an empty cache file: a cold run fills it, a warm
    run over the same input reads it.
    """

    workload: Workload
    cold: list = field(default_factory=list)  # RunResult
    warm: list = field(default_factory=list)  # RunResult
    identical: bool | None = None  # every output the same as the first cold one
    argv: list = field(default_factory=list)
    failure: str | None = None


@dataclass
class Report:
    date: str
    command: str
    quick: bool
    repeats: int
    distance: int
    seed: int
    machine: dict
    load_before: str
    load_after: str
    revision: str
    tools: list  # Tool
    unavailable: list  # tools.Unavailable
    fasta: str
    gene_table_note: str
    results: list  # WorkloadResult
    cache: list = field(default_factory=list)  # CacheResult


def _num(value: float, digits: int = 1) -> str:
    return "n/a" if value is None or math.isnan(value) else f"{value:,.{digits}f}"


def _ratio(tool: ToolRuns, reference: ToolRuns | None) -> str:
    if reference is None or not tool.ok_runs or not reference.ok_runs:
        return "n/a"
    if reference is tool:
        return "1.0x"
    return f"{reference.median_wall / tool.median_wall:,.1f}x"


def _command(argv: list[str]) -> str:
    return shorten(" ".join(shlex.quote(a) for a in argv))


def _row(*cells: object) -> str:
    return "| " + " | ".join(str(cell) for cell in cells) + " |"


def _walls(runs: ToolRuns) -> str:
    return ", ".join(f"{run.wall_s:.1f}" for run in runs.runs) or "-"


SPEED_HEADER = (
    "tool",
    "records",
    "wall s (median)",
    "wall s (runs)",
    "records/s",
    "peak RSS MiB",
    "vs SpliceAI",
    "vs OpenSpliceAI",
)
SPEED_ALIGN = ("---", "---:", "---:", "---", "---:", "---:", "---:", "---:")
SCALE_HEADER = (
    "workload",
    "records",
    "scorable",
    "tool",
    "wall s (median)",
    "wall s (runs)",
    "records/s",
    "peak RSS MiB",
    "all records out, in order",
)
SCALE_ALIGN = ("---", "---:", "---:", "---", "---:", "---", "---:", "---:", "---")


def _speed_table(result: WorkloadResult) -> list[str]:
    spliceai = result.tools.get("spliceai")
    openspliceai = result.tools.get("openspliceai")
    records = result.workload.records
    lines = [_row(*SPEED_HEADER), _row(*SPEED_ALIGN)]
    for runs in result.tools.values():
        if not runs.ok_runs:
            lines.append(
                _row(runs.tool.label, f"{records:,}", "failed", _walls(runs), "", "", "", "")
            )
            continue
        lines.append(
            _row(
                runs.tool.label,
                f"{records:,}",
                _num(runs.median_wall),
                _walls(runs),
                _num(records / runs.median_wall, 2),
                _num(runs.peak_rss, 0),
                _ratio(runs, spliceai),
                _ratio(runs, openspliceai),
            )
        )
    return lines


def _pass_through_verdict(check) -> str:
    if check is None:
        return "n/a"
    if check.in_order:
        return f"yes ({check.records_out:,} out, {check.annotated:,} annotated)"
    return f"NO: {check.first_mismatch}"


def _scale_table(results: list[WorkloadResult]) -> list[str]:
    lines = [_row(*SCALE_HEADER), _row(*SCALE_ALIGN)]
    for result in results:
        workload = result.workload
        for key, runs in result.tools.items():
            first = (workload.name, f"{workload.records:,}", workload.scorable, runs.tool.label)
            if not runs.ok_runs:
                lines.append(_row(*first, "failed", _walls(runs), "", "", ""))
                continue
            lines.append(
                _row(
                    *first,
                    _num(runs.median_wall),
                    _walls(runs),
                    _num(workload.records / runs.median_wall, 0),
                    _num(runs.peak_rss, 0),
                    _pass_through_verdict(result.pass_through.get(key)),
                )
            )
    return lines


def _fidelity_lines(result: WorkloadResult) -> list[str]:
    fidelity = result.fidelity
    if fidelity is None:
        return []
    classes = ", ".join(f"{kind} {n}" for kind, n in sorted(fidelity.classes.items()))
    if not fidelity.classes and fidelity.same_records:
        verdict = "identical"
    elif fidelity.all_explained:
        verdict = "every difference is a tie, a sign of zero or a rounding boundary"
    else:
        verdict = "UNEXPLAINED DIFFERENCES"
    same = "yes" if fidelity.same_records else "NO"
    summary = (
        f"- **{result.workload.name}**, spliceannot vs SpliceAI 1.3.1: {verdict}. "
        f"{fidelity.records_ours:,} / {fidelity.records_reference:,} records (ours / SpliceAI), "
        f"same records in the same order: {same}; {fidelity.annotated:,} annotated by SpliceAI; "
        f"{fidelity.identical:,} identical INFO values; differences by class: {classes or 'none'}."
    )
    lines = [summary]
    for difference in fidelity.differences[:MAX_LISTED_DIFFERENCES]:
        lines.append(
            f"  - {difference.record} [{difference.kind}]: ours `{difference.ours}`, "
            f"SpliceAI `{difference.reference}`"
        )
    hidden = len(fidelity.differences) - MAX_LISTED_DIFFERENCES
    if hidden > 0:
        lines.append(f"  - ... {hidden} more in the JSON file")
    return lines


def _relation_lines(result: WorkloadResult) -> list[str]:
    relation = result.relation
    if relation is None:
        return []
    name = result.workload.name
    records = f"{relation.records_other:,} / {relation.records_reference:,} records"
    if not relation.entries:
        return [f"- **{name}**, OpenSpliceAI vs SpliceAI: no entries to compare ({records})."]
    diffs = relation.max_abs_diffs
    within = ", ".join(
        f"within {t:.2f}: {relation.fraction_within(t):.0%}" for t in (0.01, 0.05, 0.10)
    )
    same = "yes" if relation.same_records else "NO"
    summary = (
        f"- **{name}**, OpenSpliceAI vs SpliceAI: {records} (same records in the same order: "
        f"{same}), {relation.annotated_other:,} / {relation.annotated_reference:,} annotated; "
        f"{relation.entries:,} allele-gene entries compared, {relation.identical_entries:,} "
        f"identical. Largest |DS difference| per entry: median {_num(median(diffs), 3)}, "
        f"max {_num(max(diffs), 2)}; {within}. Pearson r of all DS values: "
        f"{_num(relation.pearson_r, 3)}. Entries with a DS >= 0.2: SpliceAI "
        f"{relation.high_reference}, OpenSpliceAI {relation.high_other}, both {relation.high_both} "
        f"(same event and DP in {relation.same_dp_when_high})."
    )
    return [summary]


QUICK_NOTE = "**Quick mode** (tiny workloads): a smoke test of the harness, not a measurement."
WALL_NOTE = (
    "- Wall time is the whole command, from process start to exit: interpreter start, imports "
    "and model loading included (SpliceAI and OpenSpliceAI load five models each, as spliceannot "
    "does). records/s = input records / median wall time. `vs SpliceAI` = SpliceAI's median wall "
    "time / the tool's (higher is faster)."
)
RSS_NOTE = (
    "- Peak RSS: `ru_maxrss` of the process tree from `wait4`, the largest over the runs, in MiB."
)
OPENSPLICEAI_NOTE = (
    "- OpenSpliceAI runs its five MANE 10000-nt PyTorch models with `-f 10000 -t pytorch` and the "
    "batch size in its command line (`-b 1` is its original one-window path, larger values its "
    "batched path). Its scores are expected to differ from SpliceAI's: different models."
)
SCALE_NOTE = (
    "Almost every record of these workloads passes through unscored (half on chr16 between "
    "genes, half on chr17, a contig absent from the FASTA), mixed with the same few scorable "
    "records in genes, so they measure how memory and time grow with the length of the stream, "
    "not scoring speed. The peers are not run on them."
)
CLASSES_NOTE = (
    "Classes: *tie* = all four DS equal, only a DP differs where its DS prints 0.00; "
    "*sign of zero* = `-0.00` vs `0.00`; *rounding* = a DS differs by exactly 0.01; "
    "*other* = anything else; *missing* = annotated by one tool only."
)
COMMANDS_NOTE = (
    "`$CACHE` = `${SPLICEANNOT_CACHE:-$HOME/.cache/spliceannot}`, `$REPO` = the repository. "
    "Runs 2.. differ only in the output file name."
)


def _header(report: Report) -> list[str]:
    out = ["# Benchmark results: spliceannot vs SpliceAI 1.3.1 vs OpenSpliceAI 0.0.7", ""]
    if report.quick:
        out += [QUICK_NOTE, ""]
    out += [
        (
            f"Date: {report.date}. Repository: {report.revision}. Runs per tool and workload: "
            f"{report.repeats} (the tables give the median wall time). Written by "
            f"`{report.command}`."
        ),
        "",
        "## Machine",
        "",
        *[f"- {name}: {value}" for name, value in report.machine.items()],
        f"- load average before / after: {report.load_before} / {report.load_after}",
    ]
    for tool in report.tools:
        versions = ", ".join(f"{k} {v}" for k, v in tool.versions.items() if k != "executable")
        out.append(f"- {tool.label}: {versions}")
    out += [f"- {LABELS[u.key]}: not run ({u.reason})" for u in report.unavailable]
    out += [
        "",
        "## What is measured",
        "",
        f"- Every tool annotates the same plain-text VCF with the same uncompressed FASTA (real "
        f"GRCh38 chr16 sequence, `{shorten(report.fasta)}`), `-A grch38` and "
        f"`-D {report.distance}`, on the CPU, each process using every core it is given. "
        + report.gene_table_note,
        WALL_NOTE,
        RSS_NOTE,
        OPENSPLICEAI_NOTE,
        "",
    ]
    return out


def _checks(report: Report, speed: list[WorkloadResult]) -> list[str]:
    out = ["## Fidelity", ""]
    fidelity = [line for r in speed for line in _fidelity_lines(r)]
    out += [*fidelity, "", CLASSES_NOTE] if fidelity else ["No workload ran both tools."]
    out += [""]
    relation = [line for r in speed for line in _relation_lines(r)]
    if relation:
        out += ["### OpenSpliceAI", "", *relation, ""]
    determinism = [
        f"{r.workload.name} / {runs.tool.label}: {'yes' if runs.outputs_identical else 'NO'}"
        for r in report.results
        for runs in r.tools.values()
        if runs.outputs_identical is not None and len(runs.ok_runs) > 1
    ]
    if determinism:
        out += ["Outputs identical across runs: " + "; ".join(determinism) + ".", ""]
    return out


def render(report: Report) -> str:
    """The whole RESULTS.md."""
    speed = [r for r in report.results if r.workload.peers]
    scale = [r for r in report.results if not r.workload.peers]
    out = _header(report)
    for result in speed:
        workload = result.workload
        out += [
            f"## Workload `{workload.name}`",
            "",
            f"{workload.records:,} records ({_kinds(workload)}): {workload.description}.",
            "",
            *_speed_table(result),
            "",
            *[f"- {r.tool.label}: {r.failure}" for r in result.tools.values() if r.failure],
            "",
        ]
    if scale:
        out += ["## Streaming memory (spliceannot only)", "", SCALE_NOTE, ""]
        out += [*_scale_table(scale), ""]
        for r in scale:
            for runs in r.tools.values():
                if runs.summary:
                    out.append(f"- {r.workload.name}: `{runs.summary}`")
                if runs.failure:
                    out.append(f"- {r.workload.name}, {runs.tool.label}: {runs.failure}")
        out += [""]
    out += _cache_section(report.cache)
    out += _checks(report, speed)
    out += ["## Command lines", "", COMMANDS_NOTE, ""]
    for result in report.results:
        out += [f"- `{result.workload.name}`:"]
        out += [f"  - `{_command(runs.argv)}`" for runs in result.tools.values()]
    out += [""]
    return "\n".join(out)


def _cache_section(results: list) -> list[str]:
    if not results:
        return []
    out = [
        "## Score cache (spliceannot only)",
        "",
        "Each repeat starts with an empty cache file: a cold run computes every score and "
        "stores it, a warm run over the same VCF reads them (the speed workloads above run "
        "with `--no-cache`).",
        "",
        _row("workload", "records", "cold wall s (median)", "warm wall s (median)",
             "warm records/s", "cold / warm", "outputs identical"),
        _row("---", "---:", "---:", "---:", "---:", "---:", "---"),
    ]  # fmt: skip
    for result in results:
        cold = median([r.wall_s for r in result.cold if r.returncode == 0])
        warm = median([r.wall_s for r in result.warm if r.returncode == 0])
        speedup = "n/a" if math.isnan(cold) or math.isnan(warm) else f"{cold / warm:,.1f}x"
        rate = _num(result.workload.records / warm, 1) if not math.isnan(warm) else "n/a"
        same = "n/a" if result.identical is None else ("yes" if result.identical else "NO")
        out.append(_row(result.workload.name, f"{result.workload.records:,}", _num(cold), _num(warm), rate, speedup, same))
        if result.failure:
            out.append(f"- {result.workload.name}: {result.failure}")
    out += ["", f"Command: `{_command(results[0].argv)}`", ""]
    return out


def _kinds(workload: Workload) -> str:
    return ", ".join(f"{n} {kind}" for kind, n in workload.kinds.items())


def _jsonable(value):
    if is_dataclass(value):
        return {k: _jsonable(v) for k, v in asdict(value).items()}
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def write(report: Report, markdown: Path) -> Path:
    """Write the report to ``markdown`` and its data as JSON beside it; return the JSON path."""
    markdown.parent.mkdir(parents=True, exist_ok=True)
    markdown.write_text(render(report))
    data = markdown.with_suffix(".json")
    data.write_text(json.dumps(_jsonable(report), indent=1) + "\n")
    return data
