"""SpliceAI-style gene tables: reading, overlap lookup, boundary distances, contig names."""

from __future__ import annotations

import gzip

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spliceannot.errors import InputError
from spliceannot.readers.annotation import (
    Annotation,
    Transcript,
    load_annotation,
    nearest_boundary_distance,
    read_table,
)
from spliceannot.readers.contigs import ContigMatcher, aliases
from toy import table_text

ROWS = [
    # name, chrom, strand, tx_start (0-based), tx_end, exon starts (0-based), exon ends
    ("LATE", "16", "+", 5000, 9000, (5000, 7000), (6000, 9000)),
    ("EARLY", "16", "-", 1000, 8000, (1000, 4000, 7500), (2000, 5000, 8000)),
    ("OTHER", "chrX", "+", 1000, 3000, (1000,), (3000,)),
    ("NESTED", "16", "+", 5500, 5600, (5500,), (5600,)),
    ("MITO", "MT", "+", 100, 900, (100, 500), (300, 900)),
]


@pytest.fixture
def table(tmp_path):
    path = tmp_path / "genes.txt"
    path.write_text(table_text(ROWS))
    return path


def test_read_table_parses_rows_in_file_order(table):
    transcripts = read_table(table)
    assert [t.name for t in transcripts] == ["LATE", "EARLY", "OTHER", "NESTED", "MITO"]
    early = transcripts[1]
    assert early == Transcript(
        "EARLY", "16", "-", 1000, 8000, (1000, 4000, 7500), (2000, 5000, 8000)
    )


def test_read_table_reads_gzip(tmp_path, table):
    packed = tmp_path / "genes.txt.gz"
    with gzip.open(packed, "wt") as handle:
        handle.write(table.read_text())
    assert read_table(packed) == read_table(table)
    assert len(load_annotation(str(packed))) == len(ROWS)


def test_read_table_names_file_and_line_of_a_bad_row(tmp_path):
    path = tmp_path / "bad.txt"
    text = table_text(ROWS[:2]) + "BROKEN\t16\t+\tnot-a-number\t10\t1,\t10,\n"
    path.write_text(text)
    with pytest.raises(InputError, match=r"bad\.txt:4:"):
        read_table(path)


def test_read_table_rejects_a_file_without_the_columns(tmp_path):
    path = tmp_path / "plain.txt"
    path.write_text("just some text\n")
    with pytest.raises(InputError, match=r"plain\.txt:1: not a SpliceAI-style table"):
        read_table(path)


def test_builtin_grch38_table_is_read():
    annotation = load_annotation("grch38")
    rows = annotation.overlapping("chr16", 189969)
    assert [annotation.transcripts[r].name for r in rows] == ["LUC7L"]
    assert annotation.transcripts[rows[0]].strand == "-"


# --------------------------------------------------------------------------- overlap


def names_at(annotation: Annotation, chrom: str, pos: int) -> list[str]:
    return [annotation.transcripts[r].name for r in annotation.overlapping(chrom, pos)]


def test_overlapping_keeps_file_order_not_start_order(table):
    annotation = Annotation(read_table(table))
    # LATE starts after EARLY but comes first in the file
    assert names_at(annotation, "16", 5550) == ["LATE", "EARLY", "NESTED"]
    assert annotation.overlapping("16", 5550) == [0, 1, 3]


def test_overlapping_uses_one_based_inclusive_bounds(table):
    annotation = Annotation(read_table(table))
    # EARLY is [1000, 8000) 0-based: 1-based positions 1001..8000
    assert "EARLY" not in names_at(annotation, "16", 1000)
    assert "EARLY" in names_at(annotation, "16", 1001)
    assert "EARLY" in names_at(annotation, "16", 8000)
    assert "EARLY" not in names_at(annotation, "16", 8001)
    assert names_at(annotation, "16", 999) == []
    assert names_at(annotation, "22", 5000) == []


def test_overlapping_matches_chr_prefixed_and_mitochondrial_names(table):
    annotation = Annotation(read_table(table))
    assert names_at(annotation, "chr16", 1500) == names_at(annotation, "16", 1500) == ["EARLY"]
    assert names_at(annotation, "X", 2000) == ["OTHER"]
    for name in ("chrM", "M", "MT", "chrMT"):
        assert names_at(annotation, name, 200) == ["MITO"], name


intervals = st.tuples(
    st.sampled_from(["1", "chr2"]),
    st.integers(min_value=0, max_value=400),
    st.integers(min_value=1, max_value=150),
)


@settings(max_examples=120, deadline=None)
@given(
    rows=st.lists(intervals, min_size=1, max_size=30),
    queries=st.lists(
        st.tuples(
            st.sampled_from(["1", "chr1", "chr2", "2", "3"]),
            st.integers(min_value=0, max_value=560),
        ),
        min_size=1,
        max_size=25,
    ),
)
def test_overlapping_matches_a_brute_force_scan(rows, queries):
    transcripts = [
        Transcript(f"T{i}", chrom, "+", start, start + length, (start,), (start + length,))
        for i, (chrom, start, length) in enumerate(rows)
    ]
    annotation = Annotation(transcripts)
    canonical = {"1": "1", "chr1": "1", "chr2": "chr2", "2": "chr2", "3": "3"}
    for chrom, pos in queries:
        expected = [
            i
            for i, t in enumerate(transcripts)
            if t.chrom == canonical[chrom] and t.tx_start < pos <= t.tx_end
        ]
        assert annotation.overlapping(chrom, pos) == expected


# --------------------------------------------------------------------------- boundaries


def test_boundaries_are_one_based_exon_first_and_last_bases(table):
    early = read_table(table)[1]
    np.testing.assert_array_equal(early.boundaries(), [1001, 2000, 4001, 5000, 7501, 8000])


def test_boundary_distance_is_signed(table):
    annotation = Annotation(read_table(table))
    assert annotation.boundary_distance(1, 1990) == 10  # exon 1 ends at 2000
    assert annotation.boundary_distance(1, 4010) == -9  # exon 2 starts at 4001


def test_boundary_distance_tie_goes_to_the_negative_side():
    # boundaries 100 and 110: position 105 is 5 from both
    assert nearest_boundary_distance(np.array([100, 110]), 105) == -5
    transcript = Transcript(
        "T", "1", "+", 0, 300, (0, 109), (100, 300)
    )  # boundaries 1, 100, 110, 300
    annotation = Annotation([transcript])
    assert annotation.boundary_distance(0, 105) == -5


def test_boundary_distance_without_exons_is_zero():
    assert nearest_boundary_distance(np.array([], dtype=np.int64), 50) == 0


# --------------------------------------------------------------------------- contig names


def test_contig_aliases():
    assert aliases("chr1") == ["1"]
    assert aliases("1") == ["chr1"]
    assert set(aliases("MT")) == {"chrM", "chrMT", "M"}
    assert set(aliases("chrM")) == {"chrMT", "M", "MT"}


@pytest.mark.parametrize(
    "names, query, expected",
    [
        ({"chr1", "chr2"}, "1", "chr1"),
        ({"1", "2"}, "chr2", "2"),
        ({"chrM"}, "MT", "chrM"),
        ({"MT"}, "chrM", "MT"),
        ({"chrMT"}, "M", "chrMT"),
        ({"1", "chr1"}, "chr1", "chr1"),  # an exact name wins over an alias
        ({"1", "chr1"}, "1", "1"),
        ({"chr1"}, "chr10", None),
        ({"chr1"}, "hr1", None),
        ({"chr1"}, "X", None),
    ],
)
def test_contig_matcher(names, query, expected):
    matcher = ContigMatcher(names)
    assert matcher.resolve(query) == expected
    assert (query in matcher) == (expected is not None)
