"""PyvcfText: a VCF written back as PyVCF 0.6.8 writes it for Pangolin, byte for byte.

``tests/data/pangolin/pyvcf/NAME.expected.vcf`` is what PyVCF wrote for
``NAME.vcf`` (``benchmarks/pyvcf_roundtrip.py``, run with the Pangolin peer's
Python): the Pangolin INFO header added, ``Pangolin=SCORES`` set on the records
with an even index.  The ``raises_*.vcf`` inputs are ones PyVCF raises on (see
that folder's README); they have no expected output.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from spliceannot.pangolin.vcf_text import PyvcfText, breakend, hash_pairs, metadata_line

DATA = Path(__file__).parent / "data" / "pangolin" / "pyvcf"
PANGOLIN = ("Pangolin", ".", "String",
            "Pangolin splice scores. Format: gene|pos:score_change|pos:score_change|warnings,...")
SCORES = "G|1:0.5|-2:-0.1|Warnings:"
INPUTS = sorted(path for path in DATA.glob("*.vcf") if not path.name.endswith(".expected.vcf"))
ROUNDTRIP = [path for path in INPUTS if not path.name.startswith("raises_")]
RAISES = [path for path in INPUTS if path.name.startswith("raises_")]
PEER_PYTHON = Path(os.environ.get("PANGOLIN_VENV", Path.home() / ".cache/spliceannot/peers/pangolin-5cf94b8"),
                   "bin", "python")


def split_vcf(path: Path) -> tuple[list[str], list[str]]:
    """Header lines (up to the column line, blank ones included) and data lines, line ends removed."""
    lines = path.read_bytes().decode("utf-8").split("\n")
    if lines[-1] == "":
        lines.pop()
    lines = [line.removesuffix("\r") for line in lines]
    start = next((index for index, line in enumerate(lines)
                  if line.strip() and not line.lstrip().startswith("#")), len(lines))
    return lines[:start], lines[start:]


def pangolin_text(path: Path) -> str:
    """The whole output, as Pangolin writes it: every other record scored, blank lines skipped."""
    header, data = split_vcf(path)
    text = PyvcfText(header, [PANGOLIN])
    out = [text.header()]
    records = [line for line in data if line.strip()]
    for index, line in enumerate(records):
        out.append(text.record(line, {"Pangolin": SCORES} if index % 2 == 0 else {}))
    return "".join(out)


def one(header: str, line: str, info: dict[str, str] | None = None) -> str:
    """One record of a small VCF (samples S1, S2); ``header`` holds the ``##`` lines, '~' for tabs."""
    columns = "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\tS2"
    text = PyvcfText([*header.splitlines(), columns], [PANGOLIN])
    return text.record(line.replace("~", "\t"), info or {}).rstrip("\n").replace("\t", "~")


@pytest.mark.parametrize("path", ROUNDTRIP, ids=lambda path: path.name)
def test_same_bytes_as_pyvcf(path):
    expected = path.with_name(path.name.removesuffix(".vcf") + ".expected.vcf").read_bytes()
    assert pangolin_text(path).encode("utf-8") == expected


def test_every_input_has_an_expected_output_or_raises():
    assert len(ROUNDTRIP) >= 9 and len(RAISES) >= 15
    for path in INPUTS:
        expected = path.with_name(path.name.removesuffix(".vcf") + ".expected.vcf")
        assert expected.exists() != path.name.startswith("raises_"), path.name


@pytest.mark.parametrize("path", RAISES, ids=lambda path: path.name)
def test_what_pyvcf_raises_on_is_named_and_rendered(path):
    header, data = split_vcf(path)
    text = PyvcfText(header, [PANGOLIN])
    problems = text.header_problems + [problem for line in data for problem in text.record_problems(line)]
    assert problems
    rendered = [text.record(line, {"Pangolin": SCORES}) for line in data]
    assert all(line.endswith("\n") for line in rendered)


@pytest.mark.skipif(not PEER_PYTHON.is_file(), reason="no Pangolin peer virtualenv (benchmarks/peers)")
def test_expected_files_are_pyvcf_output(tmp_path):
    script = Path(__file__).parents[1] / "benchmarks" / "pyvcf_roundtrip.py"
    run = subprocess.run([str(PEER_PYTHON), str(script), "--out-dir", str(tmp_path), *map(str, INPUTS)],
                         check=False, capture_output=True, text=True)
    assert run.returncode == 1  # the raises_* inputs
    failed = {line.split(":")[0] for line in run.stderr.splitlines() if "records ->" not in line}
    assert failed == {path.name for path in RAISES}
    for path in ROUNDTRIP:
        name = path.name.removesuffix(".vcf") + ".expected.vcf"
        assert (tmp_path / name).read_bytes() == (DATA / name).read_bytes(), name


def test_header_regrouped_and_rewritten():
    header = PyvcfText([
        "##fileformat=VCFv4.1", "##source=a", "##contig=<ID=1,length=5,md5=x>", "##fileformat=VCFv4.2",
        '##INFO=<ID=X,Number=-1,Type=Float,Description="x",Source="s",Version="2">', "##source=b",
        '##FILTER=<ID=q,Description="q">', '##INFO=<ID=Pangolin,Number=1,Type=Integer,Description="old">',
        '##INFO=<ID=Y, Number=02, Type=Flag, Description="y">', "##note", "#CHROM  POS\tID",
    ], [PANGOLIN]).header()
    assert header.splitlines() == [
        "##fileformat=VCFv4.2", "##source=a", "##source=b", "##note=none",
        '##INFO=<ID=X,Number=A,Type=Float,Description="x">',
        f'##INFO=<ID=Pangolin,Number=.,Type=String,Description="{PANGOLIN[3]}">',
        '##INFO=<ID=Y,Number=2,Type=Flag,Description="y">',
        '##FILTER=<ID=q,Description="q">', "##contig=<ID=1,length=5>", "#CHROM\tPOS\tID",
    ]


def test_metadata_quirks():
    assert hash_pairs('A=[1,2],B="x,y",C') == {"A": "[1", "2],B": '"x,y"', "C": ""}
    assert metadata_line("##cmd=view --expr=<x> in.vcf") == ("cmd", "##cmd=<view --expr=<x> in.vcf>")
    assert metadata_line("##key=") == ("key=", "##key==none")
    assert metadata_line("###k=v") == ("#k", "###k=v")


@pytest.mark.parametrize(("alt", "written"), [
    ("G]17:0198982]", "G]17:198982]"), ("[17:5[A", "[17:5[A"), ("G]1:5[", "G[1:5["),
    ("A[1:2[T", "A[1:2["), ("]<ctg1>:1]N", "]<ctg1>:1]N"),
])
def test_breakend_rebuilt(alt, written):
    assert breakend(alt) == written


@pytest.mark.parametrize(("qual", "written"), [
    (".", "."), ("0", "."), ("-0.0", "."), ("50", "50"), ("007", "7"), ("50.0", "50.0"), ("1e3", "1000.0"),
    ("29.50", "29.5"), ("abc", "."), ("NaN", "nan"),
])
def test_qual(qual, written):
    assert one("", f"1~5~.~A~G~{qual}~PASS~.").split("~")[5] == written


INFO_HEADER = """##INFO=<ID=DP,Number=1,Type=Integer,Description="d">
##INFO=<ID=AF,Number=A,Type=Float,Description="a">
##INFO=<ID=DB,Number=0,Type=Flag,Description="f">
##INFO=<ID=TXT,Number=1,Type=String,Description="t">
##INFO=<ID=CNT,Number=.,Type=Integer,Description="c">"""


@pytest.mark.parametrize(("info", "written"), [
    ("ZZ=1;AF=0.10;YY;DP=007", "DP=7;AF=0.1;YY;ZZ=1"),  # header order, then undefined keys by name
    ("DB=1;TXT=a,b;CNT=1,2.5", "DB;TXT=a;CNT=1.0,2.5"),  # a Flag's value, all but Number=1's first, floats
    ("MQ=60;END=010;H2=x", "END=10;H2;MQ=60.0"),  # types of undefined reserved keys
    ("DP=1;DP=2;;AF=1E3,.", "DP=2;AF=1000.0,.;"),  # last repeat wins; an empty entry stays
])
def test_info_values_and_order(info, written):
    assert one(INFO_HEADER, f"1~5~.~A~G~.~.~{info}").split("~")[7] == written


def test_info_set_replaces_and_sorts_before_undefined_keys():
    replaced = one(INFO_HEADER, "1~5~.~A~G~.~.~ZZ=1;Pangolin=old;DP=3", {"Pangolin": SCORES})
    assert replaced.split("~")[7] == f"DP=3;Pangolin={SCORES};ZZ=1"
    assert one(INFO_HEADER, "1~5~.~A~G~.~.~.", {"Pangolin": SCORES}).split("~")[7] == f"Pangolin={SCORES}"


FORMAT_HEADER = """##FORMAT=<ID=GT,Number=1,Type=String,Description="g">
##FORMAT=<ID=AD,Number=R,Type=Integer,Description="a">
##FORMAT=<ID=DP,Number=1,Type=Integer,Description="d">
##FORMAT=<ID=VAF,Number=A,Type=Float,Description="v">"""


@pytest.mark.parametrize(("samples", "written"), [
    ("GT:AD:DP~0/1~:5", "GT:AD:DP~0/1:.:.~:5:."),  # missing values filled; an empty GT stays empty
    ("GT:AD:DP~0/1::007~./.:1,.:.", "GT:AD:DP~0/1:.:7~./.:1,.:."),
    ("GT:VAF~0|1:.50,1e-3~1/1:.25", "GT:VAF~0|1:0.5,0.001~1/1:0.25"),
    ("DP:GT~5:0/1~3:0/0", "DP:GT~0/1:0/1~0/0:0/0"),  # GT printed first, over the first value
    ("GTX:DP~1:5~.:6", "GTX:DP~./.:5~./.:6"),  # no GT key, but 'GT' in the FORMAT text
    (".~0/1~0/0", ""),  # FORMAT '.': no FORMAT, no samples
    ("GT~0/1~0/0~1/1", "GT~0/1~0/0"),  # one column per header sample at most
])
def test_samples(samples, written):
    line = one(FORMAT_HEADER, f"1~5~.~A~G~.~.~.~{samples}")
    assert line.split("~", 8)[8:] == ([written] if written else [])


def test_columns_split_on_spaces_and_blank_lines_dropped():
    # the space in INFO ends the column: 'b' becomes FORMAT, 'GT' the first sample, '0/0' is dropped
    assert one("", "  1 5\t.  A\tG\t.\t.\tX=a b~GT~0/1~0/0 ") == "1~5~.~A~G~.~.~X=a~b~GT~0/1"
    assert PyvcfText(["#CHROM"], []).record(" \t ", {}) == ""


@pytest.mark.parametrize(("line", "problem"), [
    ("1~5~.~A~G~.~.~DP=abc", "DP=abc"), ("1~x~.~A~G~.~.~.", "POS"), ("1~5~.~A~G,~.~.~.", "empty ALT"),
    ("1~5~.~A~G~.~.~.~GT:1X~0/1", "identifiers"), ("1~5~.~A~G~.~.~.~GT~0/1:5", "more values"),
    ("1~5~.~A~G~.", "fewer than 8"), ("1~5~.~A~G~.~.~.~DP:GT~5", "no GT"),
])
def test_record_problems_name_what_pyvcf_raises_on(line, problem):
    text = PyvcfText([*INFO_HEADER.splitlines(), "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1"],
                     [PANGOLIN])
    problems = text.record_problems(line.replace("~", "\t"))
    assert len(problems) == 1 and problem in problems[0]
    assert text.record(line.replace("~", "\t"), {}) == line.replace("~", "\t") + "\n"  # kept as written
    assert text.record_problems("1\t5\t.\tA\tG\t.\t.\tDP=5") == []
