"""``spliceannot annotate`` end to end with a tiny seeded model.

Most runs go through click's CliRunner; the pipes, stdin/stdout and
``| head`` go through real subprocesses of the installed command.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest
from toy import (
    CLI_DATA,
    FASTA,
    SPLICEAI_HEADER,
    VARIANTS,
    VARIANTS_GZ,
    bcftools,
    data_lines,
    example_lines,
    info_value,
    key_columns,
    parse_entries,
    parse_summary,
    read_text,
    spliceai_by_id,
    split_vcf,
    table_text,
    write_subset,
)

from spliceannot import __version__
from spliceannot.outcome import (
    CHROM_END,
    NO_ALT,
    NO_CONTIG,
    NO_GENE,
    NO_SCORABLE_ALT,
    REF_MISMATCH,
    REF_TOO_LONG,
)

# Records of examples/variants.vcf that SpliceAI leaves unscored (see examples/README.md).
UNSCORED = set("v1 v34 v116 v181 v194 v215 v216 v224 v247 v248 v249 v250".split())


def run_cli(args, *, input=None):
    from click.testing import CliRunner

    from spliceannot.cli import main

    return CliRunner().invoke(main, [str(a) for a in args], input=input)


def annotate_ok(base_args, *args) -> str:
    """Run annotate to stdout and return the VCF text (asserting success)."""
    result = run_cli([*base_args, *args])
    assert result.exit_code == 0, result.stderr + repr(result.exception)
    return result.stdout


@pytest.fixture(scope="module")
def full_run(base_args, tmp_path_factory):
    """The whole example VCF annotated into a file: (output text, stderr)."""
    out = tmp_path_factory.mktemp("full") / "out.vcf"
    result = run_cli([*base_args, "-I", VARIANTS, "-O", out])
    assert result.exit_code == 0, result.stderr + repr(result.exception)
    return out.read_text(), result.stderr


@pytest.fixture(scope="module")
def subset(tmp_path_factory) -> Path:
    """The first 40 example records plus a few special ones (a two-gene SNV, <DEL>, chr17)."""
    header, data = example_lines()
    wanted = {"v81", "v82", "v215", "v250"}
    lines = data[:40] + [l for l in data[40:] if l.split("\t")[2] in wanted]
    path = tmp_path_factory.mktemp("subset") / "subset.vcf"
    path.write_text("".join(header + lines))
    return path


# --------------------------------------------------------------------------- records


def test_every_record_is_written_in_input_order(full_run):
    text, _ = full_run
    _, expected = example_lines()
    assert key_columns(data_lines(text)) == key_columns(expected)


def test_unscored_records_are_byte_identical_and_scored_ones_only_gain_info(full_run):
    text, _ = full_run
    _, expected = example_lines()
    unscored = set()
    for got, want in zip(data_lines(text), expected, strict=True):
        want = want.rstrip("\n")
        value = info_value(got)
        if value is None:
            assert got == want
            unscored.add(want.split("\t")[2])
        else:
            assert got.split("\t")[:7] == want.split("\t")[:7]
            assert got.split("\t")[7] == f"SpliceAI={value}"  # input INFO was "."
    assert unscored == UNSCORED


def test_scores_are_not_all_zero(full_run):
    text, _ = full_run
    maxima = [
        max(e["ds"])
        for v in spliceai_by_id(text).values()
        if v
        for e in parse_entries(v)
        if e["ds"]
    ]
    assert len(maxima) > 200
    assert sum(m >= 0.05 for m in maxima) > len(maxima) // 2


def test_entries_are_alt_major_then_table_order(full_run):
    info = spliceai_by_id(full_run[0])
    assert info["v5"] == "TA|LUC7L|.|.|.|.|.|.|.|."  # REF and ALT both longer than 1
    entries = parse_entries(info["v82"])  # ACAGGC > GCAGGC,A over FAM234A and AC004754.3
    assert [(e["alt"], e["name"]) for e in entries] == [
        ("GCAGGC", "FAM234A"),
        ("GCAGGC", "AC004754.3"),
        ("A", "FAM234A"),
        ("A", "AC004754.3"),
    ]
    assert entries[0]["ds"] is None and entries[2]["ds"] is not None
    assert [e["alt"] for e in parse_entries(info["v7"])] == ["C", "T"]


def test_header_keeps_the_input_and_adds_spliceai_lines(full_run):
    header, _ = split_vcf(full_run[0])
    input_header = [l.rstrip("\n") for l in example_lines()[0]]
    assert header.count(SPLICEAI_HEADER) == 1
    assert f"##spliceannotVersion={__version__}" in header
    assert any(l.startswith("##spliceannotCommand=") for l in header)
    assert header[-1] == input_header[-1]  # the #CHROM line, last
    kept = [l for l in header if l in input_header]
    assert kept == input_header  # every input header line, in order
    assert header.index(SPLICEAI_HEADER) < header.index(f"##spliceannotVersion={__version__}")


def test_summary_line_of_the_examples(full_run):
    summary = parse_summary(full_run[1])
    assert (summary["read"], summary["written"], summary["scored"], summary["passed"]) == (
        250,
        250,
        238,
        12,
    )
    assert sum(summary["reasons"].values()) == 12


def test_summary_counts_every_reason(base_args, edge_table, tmp_path):
    source = CLI_DATA / "reasons.vcf"
    out = tmp_path / "out.vcf"
    args = list(base_args)
    args[args.index("-A") + 1] = str(edge_table)
    result = run_cli([*args, "-I", source, "-O", out])
    assert result.exit_code == 0, result.stderr
    summary = parse_summary(result.stderr)
    assert summary["reasons"] == {
        CHROM_END: 2,
        NO_GENE: 1,
        REF_MISMATCH: 2,
        NO_SCORABLE_ALT: 2,
        NO_ALT: 1,
        REF_TOO_LONG: 1,
        NO_CONTIG: 1,
    }
    assert (summary["read"], summary["written"], summary["scored"], summary["passed"]) == (
        12,
        12,
        2,
        10,
    )
    # passed-through records are unchanged; only snv and mnv gain SpliceAI
    got = data_lines(out.read_text())
    want = data_lines(source.read_text())
    assert [l.split("\t")[2] for l in got] == [l.split("\t")[2] for l in want]
    annotated = {l.split("\t")[2] for l in got if info_value(l) is not None}
    assert annotated == {"snv", "mnv"}
    for g, w in zip(got, want, strict=True):
        if info_value(g) is not None:  # SpliceAI is appended to the INFO already there
            assert g == w + ";SpliceAI=" + info_value(g)
    assert [g for g in got if info_value(g) is None] == [
        w for w in want if w.split("\t")[2] not in annotated
    ]


def test_samples_and_other_fields_pass_through(base_args, tmp_path):
    source = tmp_path / "samples.vcf"
    records = [
        "chr16\t189969\tv3\tT\tA\t31.5\tPASS\tDB\tGT:DP\t0/1:12\t1|1:.",
        "chr16\t100000\tv1\tN\tA\t.\t.\t.\tGT\t./.\t0/0",
    ]
    source.write_text(
        "##fileformat=VCFv4.2\n##contig=<ID=chr16,length=397118>\n"
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n'
        '##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Depth">\n'
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\tS2\n"
        + "\n".join(records)
        + "\n"
    )
    scored, passed = data_lines(annotate_ok(base_args, "-I", source))
    value = info_value(scored)
    assert value and value.startswith("A|LUC7L|")
    fields = records[0].split("\t")
    fields[7] = "DB;SpliceAI=" + value  # an undeclared flag stays as it was
    assert scored == "\t".join(fields)
    assert passed == records[1]


def test_a_vcf_without_records_gives_a_header(base_args, tmp_path):
    source = tmp_path / "empty.vcf"
    source.write_text("##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n")
    result = run_cli([*base_args, "-I", source])
    assert result.exit_code == 0, result.stderr
    header, data = split_vcf(result.stdout)
    assert data == [] and SPLICEAI_HEADER in header and header[-1].startswith("#CHROM")
    assert parse_summary(result.stderr)["read"] == 0


# --------------------------------------------------------------------------- invariance


INVARIANCE_CASES = [
    ["--batch-size", "1"],
    ["--batch-size", "64"],
    ["--chunk-size", "1"],
    ["--compute", "window"],
    ["--threads", "2"],
    ["--workers", "2", "--chunk-size", "5"],
]


@pytest.fixture(scope="module")
def subset_default(base_args, subset):
    return data_lines(annotate_ok(base_args, "-I", subset))


@pytest.mark.parametrize("options", INVARIANCE_CASES, ids=" ".join)
def test_output_does_not_depend_on_batching_or_compute_path(
    base_args, subset, subset_default, options
):
    assert data_lines(annotate_ok(base_args, "-I", subset, *options)) == subset_default


def test_a_model_directory_is_the_same_ensemble(
    base_args, tiny_model, subset, subset_default, tmp_path
):
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "tiny.safetensors").write_bytes(tiny_model.read_bytes())
    args = list(base_args)
    args[args.index("-m") + 1] = str(tmp_path / "models")
    assert data_lines(annotate_ok(args, "-I", subset)) == subset_default


@pytest.mark.parametrize("ident", ["v3", "v4", "v9", "v22", "v81"])
def test_a_variant_alone_scores_as_inside_the_full_vcf(base_args, full_run, tmp_path, ident):
    alone = write_subset(tmp_path / "one.vcf", [ident])
    got = data_lines(annotate_ok(base_args, "-I", alone))
    assert len(got) == 1
    assert info_value(got[0]) == spliceai_by_id(full_run[0])[ident]


def test_chromosome_names_without_chr_match_the_fasta_and_are_kept(
    base_args, subset, subset_default, tmp_path
):
    text = subset.read_text().replace("ID=chr16,", "ID=16,").replace("ID=chr17,", "ID=17,")
    renamed = tmp_path / "nochr.vcf"
    renamed.write_text("\n".join(l.removeprefix("chr") for l in text.splitlines()) + "\n")
    got = data_lines(annotate_ok(base_args, "-I", renamed))
    assert [l.split("\t")[0] for l in got] == [l.split("\t")[0][3:] for l in subset_default]
    assert [l.split("\t", 1)[1] for l in got] == [l.split("\t", 1)[1] for l in subset_default]


def test_mitochondrial_names_match_across_vcf_fasta_and_table(tiny_model, tmp_path):
    rng = random.Random(7)
    sequence = "".join(rng.choice("ACGT") for _ in range(1200))
    (tmp_path / "mito.fa").write_text(
        ">chrM\n" + "\n".join(sequence[i : i + 60] for i in range(0, 1200, 60)) + "\n"
    )
    (tmp_path / "mito.txt").write_text(
        table_text([("MT-GENE", "MT", "+", 100, 1100, (100, 700), (500, 1100))])
    )
    alt = "A" if sequence[499] != "A" else "C"
    outputs = {}
    for name in ("MT", "chrM", "M"):
        vcf = tmp_path / f"{name}.vcf"
        vcf.write_text(
            f"##fileformat=VCFv4.2\n##contig=<ID={name},length=1200>\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
            f"{name}\t500\tm1\t{sequence[499]}\t{alt}\t.\tPASS\t.\n"
        )
        result = run_cli(
            [
                "annotate",
                "-I",
                vcf,
                "-R",
                tmp_path / "mito.fa",
                "-A",
                tmp_path / "mito.txt",
                "-m",
                tiny_model,
            ]
        )
        assert result.exit_code == 0, result.stderr
        (line,) = data_lines(result.stdout)
        assert line.split("\t")[0] == name
        outputs[name] = info_value(line)
    assert outputs["MT"] is not None and outputs["MT"].split("|")[1] == "MT-GENE"
    assert outputs["MT"] == outputs["chrM"] == outputs["M"]


def test_mask_only_zeroes_scores(base_args, subset, subset_default):
    masked = data_lines(annotate_ok(base_args, "-I", subset, "-M", "1"))
    assert key_columns(masked) == key_columns(subset_default)
    zeroed = 0
    for got, plain in zip(masked, subset_default, strict=True):
        if info_value(plain) is None:
            assert info_value(got) is None
            continue
        for m, p in zip(
            parse_entries(info_value(got)), parse_entries(info_value(plain)), strict=True
        ):
            assert m["dp"] == p["dp"]  # positions are reported even when masked
            if p["ds"] is None:
                continue
            for masked_score, score in zip(m["ds"], p["ds"], strict=True):
                assert masked_score in (score, 0.0)
                zeroed += masked_score != score
    assert zeroed > 0


def test_distance_bounds_the_positions(base_args, subset):
    entries = [
        e
        for l in data_lines(annotate_ok(base_args, "-I", subset, "-D", "7"))
        if info_value(l)
        for e in parse_entries(info_value(l))
        if e["dp"]
    ]
    assert entries
    assert all(-7 <= p <= 7 for e in entries for p in e["dp"])


def test_precision_prints_more_decimals_of_the_same_scores(base_args, subset, subset_default):
    precise = data_lines(annotate_ok(base_args, "-I", subset, "--precision", "4"))
    compared = 0
    for got, plain in zip(precise, subset_default, strict=True):
        if info_value(plain) is None:
            continue
        for fine, coarse in zip(
            info_value(got).split(","), info_value(plain).split(","), strict=True
        ):
            fine_fields, coarse_fields = fine.split("|"), coarse.split("|")
            assert fine_fields[6:] == coarse_fields[6:]
            for f, c in zip(fine_fields[2:6], coarse_fields[2:6], strict=True):
                if c == ".":
                    continue
                assert len(f.split(".")[1]) == 4 and len(c.split(".")[1]) == 2
                assert abs(float(f) - float(c)) <= 0.005 + 1e-9
                compared += 1
    assert compared > 100


# --------------------------------------------------------------------------- formats


@pytest.mark.usefixtures("need_bcftools")
def test_vcf_bgzipped_and_bcf_outputs_carry_the_same_annotation(base_args, subset, tmp_path):
    queries = {}
    for name, options in (
        ("out.vcf", []),
        ("out.vcf.gz", []),
        ("out.bcf", []),
        ("out.ubcf", ["--output-type", "u"]),
    ):
        out = tmp_path / name
        result = run_cli([*base_args, "-I", subset, "-O", out, *options])
        assert result.exit_code == 0, result.stderr
        viewed = data_lines(bcftools("view", str(out)))
        assert key_columns(viewed) == key_columns(data_lines(subset.read_text()))
        queries[name] = bcftools("query", "-f", "%ID %INFO/SpliceAI\n", str(out))
    assert queries["out.vcf"].count("|") > 100
    assert queries["out.vcf"] == queries["out.vcf.gz"] == queries["out.bcf"] == queries["out.ubcf"]
    with open(tmp_path / "out.vcf.gz", "rb") as handle:
        assert handle.read(4) == b"\x1f\x8b\x08\x04"  # BGZF, not plain gzip
    assert read_text(tmp_path / "out.vcf.gz") == (tmp_path / "out.vcf").read_text()


@pytest.mark.usefixtures("need_bcftools")
def test_write_index(base_args, subset, tmp_path):
    for name, suffix in (("out.vcf.gz", ".tbi"), ("out.bcf", ".csi")):
        out = tmp_path / name
        result = run_cli([*base_args, "-I", subset, "-O", out, "--write-index"])
        assert result.exit_code == 0, result.stderr
        assert (tmp_path / (name + suffix)).is_file()
        region = bcftools("view", "-H", "-r", "chr16:190000-191000", str(out))
        assert [l.split("\t")[2] for l in data_lines(region)] == ["v4", "v5", "v6"]


def test_regions_on_an_indexed_input(base_args, full_run):
    text = annotate_ok(base_args, "-I", VARIANTS_GZ, "--regions", "chr16:190000-196000,chr17")
    got = data_lines(text)
    expected = [
        l
        for l in data_lines(full_run[0])
        if (l.startswith("chr16\t") and 190000 <= int(l.split("\t")[1]) <= 196000)
        or l.startswith("chr17\t")
    ]
    assert len(expected) > 5
    assert got == expected


@pytest.mark.usefixtures("need_bcftools")
def test_per_allele_fields_are_numeric_and_filterable(base_args, subset, subset_default, tmp_path):
    out = tmp_path / "out.bcf"
    result = run_cli([*base_args, "-I", subset, "-O", out, "--per-allele-fields"])
    assert result.exit_code == 0, result.stderr
    header = bcftools("view", "-h", str(out))
    for key in ("DS_AG", "DS_AL", "DS_DG", "DS_DL", "DS_MAX"):
        assert f"##INFO=<ID=SpliceAI_{key},Number=A,Type=Float," in header
    for key in ("DP_AG", "DP_AL", "DP_DG", "DP_DL"):
        assert f"##INFO=<ID=SpliceAI_{key},Number=A,Type=Integer," in header
    assert not any("SpliceAI_" in l for l in subset_default)  # opt-in only
    # SpliceAI_DS_MAX per ALT = the largest delta score over genes
    rows = bcftools(
        "query", "-f", "%ID\t%ALT\t%INFO/SpliceAI_DS_MAX\t%INFO/SpliceAI\n", str(out)
    ).splitlines()
    expected_max = {}
    for row in rows:
        ident, alts, ds_max, value = row.split("\t")
        if value == ".":
            assert ds_max == "."
            continue
        per_alt = {}
        for entry in parse_entries(value):
            if entry["ds"] is not None:
                per_alt[entry["alt"]] = max(per_alt.get(entry["alt"], -1.0), *entry["ds"])
        got = [None if x == "." else float(x) for x in ds_max.split(",")]
        assert got == [per_alt.get(alt) for alt in alts.split(",")]
        expected_max[ident] = max(per_alt.values(), default=None)
    for threshold in ("0.0", "0.255"):
        kept = data_lines(bcftools("filter", "-i", f"INFO/SpliceAI_DS_MAX>{threshold}", str(out)))
        want = [i for i, m in expected_max.items() if m is not None and m > float(threshold)]
        assert [l.split("\t")[2] for l in kept] == want
        assert 0 < len(want) < len(rows)


# --------------------------------------------------------------------------- real processes


@pytest.fixture(scope="module")
def subset_by_id(subset_default):
    return {l.split("\t")[2]: info_value(l) for l in subset_default}


def test_bcftools_pipe_in_and_bcf_out(run_shell, tiny_model, subset, subset_by_id, tmp_path):
    """bcftools in, BCF out, with SpliceAI's bundled grch38 table (the chr16 table's source)."""
    done = run_shell(
        f"set -o pipefail; bcftools view {subset} "
        f"| spliceannot annotate -R {FASTA} -A grch38 -m {tiny_model} "
        "| bcftools view -Ob -o out.bcf",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert spliceai_by_id(bcftools("view", str(tmp_path / "out.bcf"))) == subset_by_id


@pytest.mark.usefixtures("need_bcftools")
def test_bcf_input(base_args, subset, subset_default, tmp_path):
    bcftools("view", "-Ob", "-o", str(tmp_path / "in.bcf"), str(subset))
    got = data_lines(annotate_ok(base_args, "-I", tmp_path / "in.bcf"))
    assert [info_value(l) for l in got] == [info_value(l) for l in subset_default]
    assert key_columns(got) == key_columns(subset_default)


def test_stdin_and_stdout_are_the_defaults(run_shell, base_args, subset, subset_default, tmp_path):
    command = " ".join(str(a) for a in base_args)
    done = run_shell(f"spliceannot {command} < {subset} > out.vcf", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert data_lines((tmp_path / "out.vcf").read_text()) == subset_default
    assert len(done.stderr.strip().splitlines()) == 1  # just the summary
    assert parse_summary(done.stderr)["read"] == len(subset_default)


def test_head_closes_the_pipe_quietly(run_shell, base_args, tmp_path):
    # enough unscored records (outside every gene) to overflow the pipe buffer
    header, data = example_lines()
    filler = [f"chr16\t{100000 + i}\tf{i}\tN\tA\t.\tPASS\t.\n" for i in range(6000)]
    (tmp_path / "big.vcf").write_text("".join(header + data[1:20] + filler))
    command = " ".join(str(a) for a in base_args)
    done = run_shell(
        f'spliceannot {command} -I big.vcf | head -n 3; echo "status ${{PIPESTATUS[0]}}"',
        cwd=tmp_path,
    )
    lines = done.stdout.splitlines()
    assert len(lines) == 4 and lines[0] == "##fileformat=VCFv4.2"
    assert lines[-1] in ("status 0", "status 141")  # 141: ended by SIGPIPE, as bcftools is
    assert (
        "Traceback" not in done.stderr and "Error" not in done.stderr and "error" not in done.stderr
    )


def test_bad_input_in_a_real_process_exits_2_without_traceback(run_shell, base_args, tmp_path):
    command = " ".join(str(a) for a in base_args)
    done = run_shell(f"spliceannot {command} -I missing.vcf -O out.vcf", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "spliceannot annotate: error: missing.vcf: input VCF not found"
    ]
    assert not (tmp_path / "out.vcf").exists()


# --------------------------------------------------------------------------- bad input


def malformed(directory: Path) -> tuple[Path, int]:
    header, data = example_lines()
    fields = data[99].split("\t")
    fields[1] = "abc"  # non-numeric POS
    data[99] = "\t".join(fields)
    path = directory / "malformed.vcf"
    path.write_text("".join(header + data))
    return path, len(header) + 100


def bad_case(kind: str, directory: Path, base_args: list[str]) -> tuple[list, str]:
    """(arguments, text the error must contain) for one kind of bad input."""
    args = list(base_args)

    def replace(flag, value):
        args[args.index(flag) + 1] = value

    if kind == "missing input":
        return args + ["-I", directory / "nope.vcf"], "nope.vcf"
    if kind == "input is a directory":
        (directory / "indir").mkdir()
        return args + ["-I", directory / "indir"], "indir"
    if kind == "empty input":
        (directory / "empty.vcf").write_text("")
        return args + ["-I", directory / "empty.vcf"], "empty.vcf"
    if kind == "FASTA as input":
        return args + ["-I", FASTA], FASTA.name
    if kind == "missing FASTA":
        replace("-R", directory / "genome.fa")
        return args + ["-I", VARIANTS], "genome.fa"
    if kind == "unknown annotation":
        replace("-A", "grch39")
        return args + ["-I", VARIANTS], "grch39"
    if kind == "malformed line":
        path, line = malformed(directory)
        return args + ["-I", path], f"malformed.vcf:{line}:"
    if kind == "pt file holding a list":
        import torch

        torch.save([1, 2, 3], directory / "weights.pt")
        replace("-m", directory / "weights.pt")
        return args + ["-I", VARIANTS], "weights.pt"
    if kind == "pt state_dict of another network":
        import torch

        torch.save({"layer.weight": torch.zeros(2, 2)}, directory / "other.pt")
        replace("-m", directory / "other.pt")
        return args + ["-I", VARIANTS], "other.pt"
    if kind == "missing model":
        replace("-m", directory / "none.safetensors")
        return args + ["-I", VARIANTS], "none.safetensors"
    if kind == "model directory without weights":
        (directory / "models").mkdir()
        replace("-m", directory / "models")
        return args + ["-I", VARIANTS], "models"
    if kind == "regions without an index":
        return args + ["-I", VARIANTS, "--regions", "chr16:1-1000"], "variants.vcf"
    if kind == "index of plain VCF":
        return args + ["-I", VARIANTS, "--write-index"], "--write-index"
    raise ValueError(kind)


BAD_INPUTS = [
    "missing input",
    "input is a directory",
    "empty input",
    "FASTA as input",
    "missing FASTA",
    "unknown annotation",
    "malformed line",
    "pt file holding a list",
    "pt state_dict of another network",
    "missing model",
    "model directory without weights",
    "regions without an index",
    "index of plain VCF",
]


def assert_clean_failure(result, out: Path, mentions: str | None = None, *, one_line: bool = True):
    assert result.exit_code == 2, (result.exit_code, result.stderr, repr(result.exception))
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    if one_line:
        assert len(lines) == 1, result.stderr
        assert lines[0].startswith("spliceannot annotate: error: ")
    if mentions is not None:
        assert str(mentions) in result.stderr
    assert not out.exists()
    assert not [
        p for p in out.parent.iterdir() if p.name.startswith(f".{out.name}.")
    ]  # no temp file


@pytest.mark.parametrize("kind", BAD_INPUTS)
def test_bad_input_is_one_line_exit_2_and_no_output(base_args, tmp_path, kind):
    args, mentions = bad_case(kind, tmp_path, base_args)
    out = tmp_path / "out" / "out.vcf"
    out.parent.mkdir()
    result = run_cli([*args, "-O", out])
    assert_clean_failure(result, out, mentions)


def test_malformed_line_keeps_an_existing_output(base_args, tmp_path):
    path, line = malformed(tmp_path)
    out = tmp_path / "out.vcf"
    out.write_text("earlier result\n")
    result = run_cli([*base_args, "-I", path, "-O", out])
    assert result.exit_code == 2
    assert f"malformed.vcf:{line}: malformed VCF record" in result.stderr
    assert out.read_text() == "earlier result\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["malformed.vcf", "out.vcf"]


def test_distance_out_of_range_is_a_usage_error(base_args, tmp_path):
    out = tmp_path / "out.vcf"
    result = run_cli([*base_args, "-I", VARIANTS, "-O", out, "-D", "5000"])
    assert_clean_failure(result, out, "-D", one_line=False)
    assert "5000 is not in the range 0<=x<=4999" in result.stderr


@pytest.mark.parametrize("where", ["missing directory", "read-only directory", "a directory"])
def test_unwritable_output(base_args, tmp_path, where):
    if where == "missing directory":
        out = tmp_path / "missing" / "out.vcf"
    elif where == "read-only directory":
        if os.geteuid() == 0:
            pytest.skip("root writes into read-only directories")
        (tmp_path / "locked").mkdir(mode=0o555)
        out = tmp_path / "locked" / "out.vcf"
    else:
        out = tmp_path / "outdir"
        out.mkdir()
    result = run_cli([*base_args, "-I", VARIANTS, "-O", out])
    assert result.exit_code == 2
    assert "Traceback" not in result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert str(out) in line
    if out.is_dir():
        assert list(out.iterdir()) == []
    else:
        assert not out.exists()


def test_the_shared_options_bound_d_as_the_scorer_does():
    from spliceannot.commands.options import MAX_DISTANCE
    from spliceannot.windows import MAX_DISTANCE as scorer_limit

    assert MAX_DISTANCE == scorer_limit


def test_parsed_options_become_the_settings_they_describe():
    from spliceannot.commands.options import scorer_settings
    from spliceannot.encoding import iupac_encoding
    from spliceannot.factory import ScorerSpec
    from spliceannot.pipeline import AnnotateSettings

    parsed = {"reference": "g.fa", "annotation": "grch38", "distance": 60, "mask": 1, "iupac": "n",
              "precomputed": ["a.vcf.gz"]}  # fmt: skip
    spec = scorer_settings(**parsed)
    assert spec == ScorerSpec(reference="g.fa", annotation="grch38", distance=60, mask=True,
                              encoding=iupac_encoding("n"), precomputed=("a.vcf.gz",))  # fmt: skip
    settings = scorer_settings(AnnotateSettings, **parsed, workers=1)
    assert type(settings) is AnnotateSettings and settings.workers == 1
    assert ScorerSpec.of(settings) == spec
