"""RESULTS-pangolin.md from ``pangolin_speed.py``'s rows, and the INFO field comparison it uses."""

from __future__ import annotations

import os
from pathlib import Path

from .fidelity import iter_records
from .report import _row

MAX_EXAMPLES = 5
#: A 1-minute load average above usable CPUs + this marks a workload as disturbed.
LOAD_MARGIN = 0.5
#: Checks that compare different annotations (a GTF against the database): reported, not required.
INFORMATIVE = ("Pangolin vs Pangolin's",)


def compare_field(reference: Path, ours: Path, key: str) -> dict:
    """INFO field ``key`` of two VCFs, record by record and, inside a value, field by field.

    A value is ``,``-separated entries of ``|``-separated fields (Pangolin's
    ``gene|pos:gain|pos:loss|Warnings:``, SpliceAI's ten). Records are paired
    in order; a different CHROM/POS/REF/ALT counts as a missing record.
    ``reordered`` counts the different values whose entries are the same in
    another order.
    """
    theirs, mine = list(iter_records(reference)), list(iter_records(ours))
    out = {"records": len(theirs), "identical": 0, "different": 0, "reordered": 0,
           "missing": abs(len(theirs) - len(mine)), "fields": 0, "fields_different": 0, "examples": []}  # fmt: skip
    for a, b in zip(theirs, mine):
        if a.key != b.key:
            out["missing"] += 1
            continue
        value_a, value_b = a.value(key), b.value(key)
        if value_a == value_b:
            out["identical"] += 1
        else:
            out["different"] += 1
            # the same entries (genes) in another order
            out["reordered"] += sorted((value_a or "").split(",")) == sorted((value_b or "").split(","))
            if len(out["examples"]) < MAX_EXAMPLES:
                out["examples"].append(f"{a.label()}: {value_a} vs {value_b}")
        fields_a = [f for entry in (value_a or "").split(",") for f in entry.split("|")]
        fields_b = [f for entry in (value_b or "").split(",") for f in entry.split("|")]
        out["fields"] += max(len(fields_a), len(fields_b))
        out["fields_different"] += sum(x != y for x, y in zip(fields_a, fields_b)) + abs(len(fields_a) - len(fields_b))
    return out


def _ok(check: dict) -> bool:
    return check["different"] == 0 and check["missing"] == 0 and check["records"] > 0


def all_good(rows: list[dict], one_pass: list[dict]) -> bool:
    """Every run succeeded, every tool wrote the same in each run, and every required check holds."""
    for row in rows + one_pass:
        if any(tool["failure"] or tool["outputs_identical"] is False for tool in row["tools"].values()):
            return False
        if not all(_ok(check) for name, check in row["checks"].items() if name not in INFORMATIVE):
            return False
    return True


def _f(value, digits: int = 1, suffix: str = "") -> str:
    return "n/a" if value is None else f"{value:,.{digits}f}{suffix}"


def _ratio(numerator, denominator) -> float | None:
    return numerator / denominator if numerator and denominator else None


def _check(check: dict | None) -> str:
    if not check:
        return "not compared"
    text = f"{check['identical']}/{check['records']} records identical"
    if check["different"] or check["missing"]:
        reordered = f", {check['reordered']} of them the same genes in another order" if check["reordered"] else ""
        text += (f" (**{check['different']} different{reordered}, {check['missing']} missing**; fields "
                 f"{check['fields'] - check['fields_different']}/{check['fields']} identical; e.g. "
                 + "; ".join(f"`{e}`" for e in check["examples"]) + ")")  # fmt: skip
    return text


def _header(meta: dict) -> list[str]:
    return [
        "# Pangolin speed: Pangolin 5cf94b8 vs spliceannot",
        "",
        (f"Date: {meta['date']}. Repository: {meta['revision']}. Runs per tool and workload: {meta['repeats']}, "
         f"interleaved (the tables give medians). Written by `{meta['command']}`."),
        "",
        "## Machine",
        "",
        *[f"- {name}: {value}" for name, value in meta["machine"].items()],
        f"- load average before / after: {meta['load_before']} / {meta['load_after']}",
        *[f"- {name}: {text}" for name, text in meta["tools"].items()],
        "",
    ]


def _method(meta: dict, rows: list[dict]) -> list[str]:
    d = meta["distance"]
    commands = rows[0]["tools"] if rows else {}
    return [
        "## What is measured",
        "",
        (f"- SNVs on real GRCh38 chr16 sequence (`examples/chr16_region.fa.gz`, a plain copy for every tool) "
         "in the genes of Pangolin's database `tests/data/pangolin/chr16_genes_full.db` (one gene per RefSeq "
         f"transcript), up to {meta['records']} per workload, REF an upper-case FASTA base (Pangolin skips "
         f"soft-masked ones), ALT drawn with seed {meta['seed']}; `-d {d}` / `-D {d}`, the CPU for every tool. "
         "`spaced-N`: half along the + strand genes, half along the - strand genes, N bp apart; `isolated`: one "
         "per gene, each job in a tile of its own."),
        (f"- Pangolin runs through `benchmarks/peers/run_pangolin.sh` with `PANGOLIN_THREADS=1` and with torch's "
         f"default threads ({meta['usable_cpus']} usable CPU(s) here); spliceannot with one thread "
         "(`pangolin --threads 1`; `annotate` with `" + meta["spliceannot_args"] + "` and `--no-cache`). Wall "
         "time is the whole process (imports and the twelve networks' loading included); CPU time is user + "
         "system of the process and its children; peak RSS is `ru_maxrss` from `wait4`."),
        *[f"- {tool['label']}: `{tool['command']}`" for tool in commands.values()],
        ("- **FLOP bound** (`benchmarks/harness/flops.py`): Pangolin runs, for every record and every strand "
         "with a gene containing it, its twelve networks (SpliceAI-10k's trunk, a 12-channel head) on a REF "
         f"window of {10_001 + 2 * d:,} + len(REF) - 1 bases and an ALT window of {10_001 + 2 * d:,} + "
         "len(ALT) - 1 through 'same'-padded convolutions: every layer computes every position, "
         f"{meta['pangolin_snv_gflop']:.0f} GFLOP per SNV and strand. spliceannot computes, per chunk of 256 records and "
         "strand (the windows are plain genome: one mask per strand), one valid pass over each tile of "
         "nearby windows (ConeTracks' rule: a window joins the tile when it starts within 10,000 bases of "
         "its end) plus each job's alternate cone, with the same twelve networks. *FLOP-bound ratio* = "
         "Pangolin's FLOP / spliceannot's; for an SNV alone in its tile it is "
         f"{meta['isolated_snv_flop_ratio']:.2f}x. *Fraction of bound* = measured ratio / FLOP-bound ratio."),
        "",
    ]


def _sweep(rows: list[dict]) -> list[str]:
    out = [
        "## (a) Density sweep",
        "",
        _row("workload", "records", "jobs", "tiles", "Pangolin 1 thread s", "Pangolin default s",
             "spliceannot pangolin s", "annotate -m pangolin s", "Pangolin 1t / drop-in", "Pangolin 1t / annotate",
             "Pangolin default / annotate", "CPU-time ratio (1t / annotate)", "FLOP-bound ratio",
             "fraction of bound (1t / annotate)"),
        _row(*(["---"] + ["---:"] * 13)),
    ]
    for row in rows:
        wall = {key: tool["median_wall_s"] for key, tool in row["tools"].items()}
        cpu = {key: tool["median_cpu_s"] for key, tool in row["tools"].items()}
        bound = row["flop"]["ratio"]
        measured = _ratio(wall["pangolin-1t"], wall["annotate"])
        out.append(_row(
            row["workload"], row["records"], row["flop"]["jobs"], row["flop"]["tiles"],
            *(_f(wall[k]) for k in ("pangolin-1t", "pangolin", "dropin", "annotate")),
            _f(_ratio(wall["pangolin-1t"], wall["dropin"]), 2, "x"), _f(measured, 2, "x"),
            _f(_ratio(wall["pangolin"], wall["annotate"]), 2, "x"), _f(_ratio(cpu["pangolin-1t"], cpu["annotate"]), 2, "x"),
            _f(bound, 2, "x"), _f(measured and 100 * measured / bound, 0, "%"),
        ))  # fmt: skip
    out += ["", _row("workload", "Pangolin GFLOP", "spliceannot GFLOP (tiles + cones)", "Pangolin 1t GFLOP/s",
                     "annotate GFLOP/s", "peak RSS MiB: Pangolin 1t", "Pangolin default", "spliceannot pangolin",
                     "annotate"), _row(*(["---"] + ["---:"] * 8))]  # fmt: skip
    for row in rows:
        flop, tools = row["flop"], row["tools"]
        out.append(_row(
            row["workload"], _f(flop["pangolin_gflop"], 0),
            f"{flop['spliceannot_gflop']:,.0f} ({flop['spliceannot_reference_gflop']:,.0f} + "
            f"{flop['spliceannot_alternate_gflop']:,.0f})",
            _f(_ratio(flop["pangolin_gflop"], tools["pangolin-1t"]["median_wall_s"])),
            _f(_ratio(flop["spliceannot_gflop"], tools["annotate"]["median_wall_s"])),
            *(_f(tools[k]["max_peak_rss_mib"], 0) for k in ("pangolin-1t", "pangolin", "dropin", "annotate")),
        ))  # fmt: skip
    return out + _wall_times(rows)


def _one_pass(rows: list[dict]) -> list[str]:
    if not rows:
        return []
    out = [
        "## (b) SpliceAI and Pangolin in one pass",
        "",
        ("`annotate -m spliceai -m pangolin` against `annotate -m spliceai` followed by `annotate -m pangolin` "
         "(`-A examples/chr16_genes.gtf.gz`: SpliceAI needs one of our annotations; each transcript is a "
         "Pangolin gene). *Two runs* is the sum of the two runs of each round (median over rounds)."),
        "",
        _row("workload", "records", "one pass s", "-m spliceai s", "-m pangolin s", "two runs s",
             "two runs / one pass", "peak RSS MiB (one pass / spliceai / pangolin)", "SpliceAI= equal",
             "Pangolin= equal"),
        _row(*(["---"] + ["---:"] * 7 + ["---", "---"])),
    ]
    for row in rows:
        tools, checks = row["tools"], row["checks"]
        out.append(_row(
            row["workload"], row["records"], *(_f(tools[k]["median_wall_s"]) for k in ("both", "spliceai", "pangolin-gtf")),
            _f(row["median_separate_wall_s"]),
            _f(_ratio(row["median_separate_wall_s"], tools["both"]["median_wall_s"]), 2, "x"),
            " / ".join(_f(tools[k]["max_peak_rss_mib"], 0) for k in ("both", "spliceai", "pangolin-gtf")),
            *(_check(checks.get(name)) for name in ("SpliceAI", "Pangolin")),
        ))  # fmt: skip
    return out + _wall_times(rows)


def _checks(rows: list[dict], one_pass: list[dict]) -> list[str]:
    out = ["## (c) Output checks", "", "`Pangolin=` of each tool against Pangolin's (its first 1-thread run):", ""]
    labels = {"pangolin": "Pangolin, default threads", "dropin": "spliceannot pangolin", "annotate": "annotate -m pangolin"}
    for row in rows:
        same = ", ".join(f"{t['label']}: {t['outputs_identical']}" for t in row["tools"].values())
        out.append(f"- {row['workload']}: " + "; ".join(
            f"{labels[key]} {_check(row['checks'].get(key))}" for key in labels) + f". Each tool's runs identical: {same}")  # fmt: skip
    for row in one_pass:
        out.append(f"- {row['workload']}, one pass with `-A` the GTF, against Pangolin's with the database: "
                   f"{_check(row['checks'].get(INFORMATIVE[0]))} (informative: another annotation file)")  # fmt: skip
    return out + [""]


def _notes(rows: list[dict], one_pass: list[dict]) -> list[str]:
    cpus = os.cpu_count() or 1
    busy = sorted({row["workload"] for row in rows + one_pass
                   if max(float(row["load_before"].split(",")[0]), float(row["load_after"].split(",")[0]))
                   > cpus + LOAD_MARGIN})  # fmt: skip
    if not busy:
        return []
    return ["## Notes", "", (f"- **Disturbed**: the 1-minute load average passed {cpus} (this machine's CPUs) by more "
            f"than {LOAD_MARGIN} around {', '.join(busy)}: other processes competed for the cores, so those wall "
            "times are not comparable with a quiet machine's."), ""]  # fmt: skip


def render(meta: dict, rows: list[dict], one_pass: list[dict]) -> str:
    """The whole report."""
    parts = _header(meta) + _method(meta, rows) + _sweep(rows) + _one_pass(one_pass) + _checks(rows, one_pass)
    return "\n".join(parts + _notes(rows, one_pass)).rstrip() + "\n"


def _wall_times(rows: list[dict]) -> list[str]:
    """Every run's wall time, in run order, per workload and tool (a failed run says why)."""
    out = ["", "Wall times of every run (s), in run order:", ""]
    for row in rows:
        for tool in row["tools"].values():
            failed = f" (FAILED: {tool['failure']})" if tool["failure"] else ""
            out.append(f"- {row['workload']} {tool['label']}: {', '.join(f'{w:.1f}' for w in tool['wall_s'])}{failed}")
    return out + [""]
