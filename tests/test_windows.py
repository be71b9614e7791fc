"""Reference and alternate windows: geometry, transcript padding, allele substitution."""

from __future__ import annotations

import pysam
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spliceannot.windows import WindowGeometry, alternate_window, reference_window
from toy import FASTA


def test_geometry_matches_spliceai_for_the_released_models():
    geometry = WindowGeometry(flank=10000, distance=50)
    assert (geometry.coverage, geometry.width, geometry.center) == (101, 10101, 5050)
    # SpliceAI fetches [POS - wid//2 - 1, POS + wid//2) (0-based)
    assert (geometry.start(200_000), geometry.end(200_000)) == (200_000 - 5051, 200_000 + 5050)


@pytest.mark.parametrize("flank, distance", [(80, 0), (80, 50), (400, 7), (10000, 4999)])
def test_window_is_centred_on_the_variant(flank, distance):
    geometry = WindowGeometry(flank=flank, distance=distance)
    pos = 1_000_000
    assert geometry.end(pos) - geometry.start(pos) == geometry.width == flank + 2 * distance + 1
    # the variant's first base (0-based pos - 1) sits at index ``center``
    assert geometry.start(pos) + geometry.center == pos - 1


def brute_force_reference(sequence: str, window_start: int, tx_start: int, tx_end: int) -> str:
    """Each base kept when its 0-based contig coordinate lies in [tx_start, tx_end), else N."""
    return "".join(
        base if tx_start <= window_start + i < tx_end else "N" for i, base in enumerate(sequence)
    )


def brute_force_alternate(reference: str, center: int, ref: str, alt: str) -> str:
    out = []
    for i in range(len(reference) - len(ref) + len(alt)):
        if i < center:
            out.append(reference[i])
        elif i < center + len(alt):
            out.append(alt[i - center])
        else:
            out.append(reference[i - len(alt) + len(ref)])
    return "".join(out)


@settings(max_examples=200, deadline=None)
@given(
    data=st.data(),
    flank=st.sampled_from([80, 400]),
    distance=st.integers(min_value=0, max_value=60),
    tx_start=st.integers(min_value=0, max_value=800),
    tx_length=st.integers(min_value=1, max_value=900),
)
def test_padding_matches_a_brute_force_mask(data, flank, distance, tx_start, tx_length):
    geometry = WindowGeometry(flank=flank, distance=distance)
    tx_end = tx_start + tx_length
    pos = data.draw(st.integers(min_value=tx_start + 1, max_value=tx_end), label="pos")  # inside
    sequence = data.draw(st.text("ACGTacgt", min_size=geometry.width, max_size=geometry.width))
    padding = geometry.padding(pos, tx_start, tx_end)
    window = reference_window(sequence, padding)
    assert window == brute_force_reference(sequence, geometry.start(pos), tx_start, tx_end)
    assert len(window) == geometry.width
    assert window[geometry.center] == sequence[geometry.center]  # the variant is never masked


@settings(max_examples=200, deadline=None)
@given(
    reference=st.text("ACGTN", min_size=41, max_size=41),
    ref_len=st.integers(min_value=1, max_value=12),
    alt=st.text("ACGT", min_size=1, max_size=12),
)
def test_alternate_window_matches_a_brute_force_substitution(reference, ref_len, alt):
    center = 20
    ref = reference[center : center + ref_len]
    window = alternate_window(reference, center, ref, alt)
    assert window == brute_force_alternate(reference, center, ref, alt)
    assert len(window) == len(reference) - len(ref) + len(alt)
    assert window[center : center + len(alt)] == alt


def test_windows_on_the_example_genome():
    """LUC7L starts at chr16:188,969 (1-based); a variant 2 bp inside it is padded on the left."""
    geometry = WindowGeometry(flank=80, distance=50)
    tx_start, tx_end = 188968, 229450  # LUC7L in SpliceAI's grch38 table
    fasta = pysam.FastaFile(str(FASTA))
    pos = tx_start + 2
    sequence = fasta.fetch("chr16", geometry.start(pos), geometry.end(pos))
    assert len(sequence) == geometry.width
    window = reference_window(sequence, geometry.padding(pos, tx_start, tx_end))
    first_inside = geometry.center - 1  # the transcript's first base, one before the variant
    assert window[:first_inside] == "N" * first_inside
    assert window[first_inside:] == sequence[first_inside:]
    assert window[first_inside] == fasta.fetch("chr16", tx_start, tx_start + 1)

    # the example VCF's v3 (chr16:189969 T>A) sits at the centre of its window
    sequence = fasta.fetch("chr16", geometry.start(189969), geometry.end(189969))
    assert sequence[geometry.center] == "T"
    alternate = alternate_window(sequence, geometry.center, "T", "A")
    assert alternate[geometry.center] == "A"
    assert alternate[: geometry.center] == sequence[: geometry.center]
    assert alternate[geometry.center + 1 :] == sequence[geometry.center + 1 :]
