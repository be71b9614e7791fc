"""The GTF/GFF3 attribute splitter gives what gffutils' own parser gives, under every dialect."""

from __future__ import annotations

from pathlib import Path

import gffutils
import pytest
from gffutils.feature import feature_from_line
from hypothesis import given
from hypothesis import strategies as st

from spliceannot.readers.gff import attribute_splitter

DATA = Path(__file__).parent / "data"


def _line(attributes: str) -> str:
    return f"chr1\tsrc\texon\t1\t10\t.\t+\t.\t{attributes}"


def _gffutils(lines: list[str]) -> tuple[dict, list[dict]]:
    """The dialect gffutils detects from the first ten of ``lines`` (as the reader does), and
    every line's attributes as gffutils parses them under it."""
    dialect = gffutils.DataIterator([feature_from_line(line) for line in lines[:10]]).dialect
    parsed = [
        {
            key: list(values)
            for key, values in feature_from_line(line, dialect=dict(dialect)).attributes.items()
        }
        for line in lines
    ]
    return dialect, parsed


def _ours(dialect: dict, lines: list[str]) -> list[dict]:
    split = attribute_splitter(dialect)
    return [split(line.split("\t")[8]) for line in lines]


@pytest.mark.parametrize(
    "name", ["gencode_like.gtf", "refseq.hg38.region.gtf", "hierarchy.gff3", "odd_features.gtf"]
)
def test_real_files_split_as_gffutils_splits_them(name):
    text = (DATA / name).read_text().split("##FASTA")[0]
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    dialect, expected = _gffutils(lines)
    assert _ours(dialect, lines) == expected


TRICKY = [
    'gene_id "G1"; transcript_id "T1"; tag "basic"; tag "Ensembl_canonical";',
    'gene_id "G1"; note "a; b"; transcript_id "T1";',
    "gene_id G1; transcript_id T1; level 2",
    'gene_id "G1"; product "kinase, subunit 1"; db_xref "a,b,c";',
    ';gene_id "G1";;transcript_id "T1";',
    'gene_id "G1" ; transcript_id "T1" ;',
    "ID=mrna1;Parent=gene1,gene2;Name=A%3BB%2CC;Note=x=y",
    "ID=e1;Parent=mrna1;;flag;Dbxref=GeneID:1,HGNC:2",
    'gene_id ""; transcript_id "T1"; empty',
    'gene_id "G 1 with spaces"; transcript_id "T1"',
]


@pytest.mark.parametrize("text", TRICKY)
def test_tricky_columns(text):
    lines = [_line(text)]
    dialect, expected = _gffutils(lines)
    assert _ours(dialect, lines) == expected


_WORD = st.text(alphabet='abcXYZ019_ .,;="%:-', min_size=0, max_size=12)
_PAIR = st.tuples(
    st.sampled_from(["gene_id", "transcript_id", "tag", "Parent", "ID", "Name", "note"]), _WORD
)
_STYLE = st.sampled_from(['{} "{}"', "{} {}", "{}={}"])
_SEPARATOR = st.sampled_from(["; ", ";", " ; "])


@given(
    st.lists(
        st.tuples(st.lists(_PAIR, min_size=1, max_size=6), st.booleans()), min_size=1, max_size=12
    ),
    _STYLE,
    _SEPARATOR,
)
def test_random_columns_split_as_gffutils_splits_them(rows, style, separator):
    lines = []
    for pairs, trailing in rows:
        text = separator.join(style.format(key, value) for key, value in pairs)
        lines.append(_line(text + (";" if trailing else "")))
    dialect, expected = _gffutils(lines)
    assert _ours(dialect, lines) == expected
