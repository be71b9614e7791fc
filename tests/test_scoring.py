"""Delta scores from probability tracks: pure numpy, no model, no files."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from toy import SPLICEAI_HEADER

from spliceannot.entry import INFO_HEADER, format_entry, format_score
from spliceannot.scoring import (
    DeltaScores,
    align_alternate,
    delta_scores,
)

DISTANCE = 5
COVERAGE = 2 * DISTANCE + 1
HALF = COVERAGE // 2
NEITHER, ACCEPTOR, DONOR = 0, 1, 2


def flat(rows: int, value: float = 0.1) -> np.ndarray:
    track = np.zeros((rows, 3), dtype=np.float32)
    track[:, ACCEPTOR] = value
    track[:, DONOR] = value
    track[:, NEITHER] = 1 - 2 * value
    return track


def numbered(rows: int) -> np.ndarray:
    """A float32 track whose every entry is distinct and nonzero."""
    return (np.arange(rows * 3, dtype=np.float32).reshape(rows, 3) + 1) / 1000


def snv(ref: np.ndarray, alt: np.ndarray, *, boundary: int = 99, mask: bool = False) -> DeltaScores:
    return delta_scores(ref, alt, ref_len=1, alt_len=1, boundary_distance=boundary, mask=mask)


# --------------------------------------------------------------------------- alignment


def test_deletion_inserts_float64_zero_rows_after_the_alt_allele():
    deleted = 3  # REF 4 bases, ALT 1
    alt = numbered(COVERAGE - deleted)
    aligned = align_alternate(alt, ref_len=deleted + 1, alt_len=1, coverage=COVERAGE)
    assert aligned.shape == (COVERAGE, 3)
    assert aligned.dtype == np.float64
    # rows up to and including the ALT base are the alternate's own
    np.testing.assert_array_equal(aligned[: HALF + 1], alt[: HALF + 1])
    # then one zero row per deleted base
    np.testing.assert_array_equal(aligned[HALF + 1 : HALF + 1 + deleted], 0.0)
    # then the rest of the alternate track, shifted by the deletion
    np.testing.assert_array_equal(aligned[HALF + 1 + deleted :], alt[HALF + 1 :])


def test_insertion_collapses_inserted_positions_to_per_class_max():
    inserted = 3  # REF 1 base, ALT 4
    alt = numbered(COVERAGE + inserted)
    # make each class peak at a different inserted position
    alt[HALF + 1, NEITHER] = 0.9
    alt[HALF + 2, ACCEPTOR] = 0.8
    alt[HALF + 3, DONOR] = 0.7
    aligned = align_alternate(alt, ref_len=1, alt_len=inserted + 1, coverage=COVERAGE)
    assert aligned.shape == (COVERAGE, 3)
    assert aligned.dtype == np.float32
    np.testing.assert_array_equal(aligned[HALF], np.array([0.9, 0.8, 0.7], dtype=np.float32))
    np.testing.assert_array_equal(aligned[:HALF], alt[:HALF])
    np.testing.assert_array_equal(aligned[HALF + 1 :], alt[HALF + 1 + inserted :])


def test_snv_track_is_used_as_is():
    alt = numbered(COVERAGE)
    assert align_alternate(alt, ref_len=1, alt_len=1, coverage=COVERAGE) is alt


# --------------------------------------------------------------------------- scores


def test_four_scores_and_their_positions():
    ref, alt = flat(COVERAGE), flat(COVERAGE)
    alt[HALF + 3, ACCEPTOR] = 0.6  # acceptor gain of 0.5 at +3
    ref[HALF - 2, ACCEPTOR] = 0.9  # acceptor loss of 0.8 at -2
    alt[HALF - 5, DONOR] = 0.4  # donor gain of 0.3 at -5
    ref[HALF + 5, DONOR] = 0.3  # donor loss of 0.2 at +5
    scores = snv(ref, alt)
    assert scores.positions == (3, -2, -5, 5)
    np.testing.assert_allclose(scores.scores, (0.5, 0.8, 0.3, 0.2), rtol=1e-6)
    assert format_entry("A", "GENE", scores) == "A|GENE|0.50|0.80|0.30|0.20|3|-2|-5|5"


def test_ties_go_to_the_leftmost_position():
    ref, alt = flat(COVERAGE), flat(COVERAGE)
    for offset in (-4, 1, 4):
        alt[HALF + offset, ACCEPTOR] = 0.5
    scores = snv(ref, alt)
    assert scores.acceptor_gain_position == -4


def test_identical_tracks_score_zero_at_the_window_start():
    track = numbered(COVERAGE)
    scores = snv(track, track.copy())
    assert [format_score(v) for v in scores.scores] == ["0.00"] * 4
    assert scores.positions == (-HALF,) * 4


def test_deletion_scores_are_float64_and_see_the_deleted_bases_as_lost():
    ref = flat(COVERAGE)
    ref[HALF + 2, DONOR] = 0.7  # a donor on a deleted base
    alt = flat(COVERAGE - 2)
    scores = delta_scores(ref, alt, ref_len=3, alt_len=1, boundary_distance=0, mask=False)
    assert all(isinstance(v, np.float64) for v in scores.scores)
    assert scores.donor_loss_position == 2
    assert format_score(scores.donor_loss) == "0.70"


def test_snv_scores_keep_float32():
    scores = snv(flat(COVERAGE), flat(COVERAGE))
    assert all(isinstance(v, np.float32) for v in scores.scores)


def test_rounding_uses_the_track_precision_like_spliceai():
    # these float32 probabilities differ by 0.135000005 in float32 arithmetic
    # and by 0.134999999 in float64: SpliceAI prints 0.14 for an SNV and 0.13
    # for a deletion, whose alternate track it widens to float64.
    low, high = np.float32(0.020486763), np.float32(0.15548676)
    assert format(float(high - low), ".2f") != format(float(high) - float(low), ".2f")
    ref, alt = flat(COVERAGE, 0.01), flat(COVERAGE, 0.01)
    ref[HALF - 3, ACCEPTOR], alt[HALF - 3, ACCEPTOR] = low, high
    assert format_score(snv(ref, alt).acceptor_gain) == "0.14"
    deletion_alt = np.delete(alt, [HALF + 1], axis=0)
    scores = delta_scores(ref, deletion_alt, ref_len=2, alt_len=1, boundary_distance=0, mask=False)
    assert scores.acceptor_gain_position == -3
    assert format_score(scores.acceptor_gain) == "0.13"


def test_a_tiny_negative_maximum_prints_minus_zero():
    ref, alt = flat(COVERAGE), flat(COVERAGE)
    alt[:, ACCEPTOR] += np.float32(0.001)  # alternate above reference everywhere
    scores = snv(ref, alt)
    assert scores.acceptor_loss < 0
    assert format_score(scores.acceptor_loss) == "-0.00"
    assert format_entry("T", "G", scores).split("|")[3] == "-0.00"


# --------------------------------------------------------------------------- -M 1


def test_mask_zeroes_a_gain_at_the_annotated_boundary_but_keeps_its_position():
    ref, alt = flat(COVERAGE), flat(COVERAGE)
    alt[HALF + 4, ACCEPTOR] = 0.7  # gain at +4
    alt[HALF - 1, DONOR] = 0.7  # gain at -1
    unmasked = snv(ref, alt, boundary=4, mask=False)
    masked = snv(ref, alt, boundary=4, mask=True)
    assert format_score(unmasked.acceptor_gain) == "0.60"
    assert format_score(masked.acceptor_gain) == "0.00"  # at the boundary: masked
    assert format_score(masked.donor_gain) == "0.60"  # elsewhere: kept
    assert masked.positions == unmasked.positions
    assert masked.acceptor_gain_position == 4


def test_mask_zeroes_a_loss_away_from_the_annotated_boundary():
    ref, alt = flat(COVERAGE), flat(COVERAGE)
    ref[HALF - 3, ACCEPTOR] = 0.8  # loss at -3 (the boundary)
    ref[HALF + 2, DONOR] = 0.8  # loss at +2 (not a boundary)
    masked = snv(ref, alt, boundary=-3, mask=True)
    assert format_score(masked.acceptor_loss) == "0.70"
    assert format_score(masked.donor_loss) == "0.00"
    assert (masked.acceptor_loss_position, masked.donor_loss_position) == (-3, 2)


def test_a_masked_negative_delta_prints_minus_zero():
    ref, alt = flat(COVERAGE), flat(COVERAGE)
    alt[:, DONOR] += np.float32(0.05)  # every donor loss delta is -0.05
    masked = snv(ref, alt, boundary=99, mask=True)  # loss not at the boundary: masked
    assert format_score(masked.donor_loss) == "-0.00"


# --------------------------------------------------------------------------- formatting


def test_mnv_entry_is_dots():
    assert format_entry("TA", "LUC7L", None) == "TA|LUC7L|.|.|.|.|.|.|.|."
    assert format_entry("TA", "LUC7L", None, precision=4) == "TA|LUC7L|.|.|.|.|.|.|.|."


@pytest.mark.parametrize(
    "precision, expected",
    [
        (2, "A|G|0.12|0.00|1.00|0.50|1|-2|3|-4"),
        (4, "A|G|0.1235|0.0001|1.0000|0.5000|1|-2|3|-4"),
        (0, "A|G|0|0|1|0|1|-2|3|-4"),
    ],
)
def test_precision(precision, expected):
    scores = DeltaScores(
        np.float64(0.12345), np.float64(0.0001), np.float64(1.0), np.float64(0.5), 1, -2, 3, -4
    )
    assert format_entry("A", "G", scores, precision) == expected


def test_format_score_rounds_the_float32_value():
    # float32(0.005) is 0.004999999888..., so Python's formatting gives 0.00
    assert format_score(np.float32(0.005)) == "0.00"
    assert format_score(np.float64(0.005)) == "0.01"
    assert format_score(np.float32(0.125)) == "0.12"  # exact tie: round half to even


def test_info_header_is_spliceai_byte_for_byte():
    assert INFO_HEADER == SPLICEAI_HEADER


# --------------------------------------------------------------------------- property


def brute_force(ref, alt, ref_len, alt_len, boundary, mask):
    """SpliceAI's arithmetic written out with Python lists (independent of scoring.py)."""
    half = len(ref) // 2
    rows = [list(map(float, r)) for r in alt]
    if ref_len > 1 and alt_len == 1:
        rows = rows[: half + 1] + [[0.0, 0.0, 0.0] for _ in range(ref_len - 1)] + rows[half + 1 :]
    elif ref_len == 1 and alt_len > 1:
        block = rows[half : half + alt_len]
        rows = (
            rows[:half]
            + [[max(column) for column in zip(*block, strict=True)]]
            + rows[half + alt_len :]
        )
    values, positions = [], []
    for column, sign, gain in (
        (ACCEPTOR, 1, True),
        (ACCEPTOR, -1, False),
        (DONOR, 1, True),
        (DONOR, -1, False),
    ):
        deltas = [sign * (rows[i][column] - float(ref[i][column])) for i in range(len(ref))]
        best = max(deltas)
        position = deltas.index(best) - half
        hit = position == boundary
        values.append(0.0 if mask and (hit if gain else not hit) else best)
        positions.append(position)
    return values, positions


grid = st.integers(min_value=0, max_value=16).map(lambda k: k / 16)  # exact in float32


@settings(max_examples=150, deadline=None)
@given(
    data=st.data(),
    kind=st.sampled_from(["snv", "deletion", "insertion"]),
    extra=st.integers(min_value=1, max_value=4),
    boundary=st.integers(min_value=-HALF - 1, max_value=HALF + 1),
    mask=st.booleans(),
)
def test_delta_scores_match_a_brute_force(data, kind, extra, boundary, mask):
    ref_len, alt_len = {"snv": (1, 1), "deletion": (1 + extra, 1), "insertion": (1, 1 + extra)}[
        kind
    ]
    rows = COVERAGE - ref_len + alt_len
    ref = np.array(
        data.draw(st.lists(st.tuples(grid, grid, grid), min_size=COVERAGE, max_size=COVERAGE)),
        dtype=np.float32,
    )
    alt = np.array(
        data.draw(st.lists(st.tuples(grid, grid, grid), min_size=rows, max_size=rows)),
        dtype=np.float32,
    )
    scores = delta_scores(
        ref, alt, ref_len=ref_len, alt_len=alt_len, boundary_distance=boundary, mask=mask
    )
    values, positions = brute_force(ref, alt, ref_len, alt_len, boundary, mask)
    assert list(scores.positions) == positions
    assert [float(v) for v in scores.scores] == values
