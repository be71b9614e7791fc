"""Pangolin's arithmetic and printing (spliceannot.pangolin.numbers), on made-up tracks."""

from __future__ import annotations

import numpy as np

from spliceannot.pangolin.numbers import NO_SITES_WARNING, gene_entry, loss_and_gain, realign, tissue_deltas


def _tracks(n_ref: int, n_alt: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.random((n_ref, 12), dtype=np.float32), rng.random((n_alt, 12), dtype=np.float32)


def test_deletion_pads_with_float64_zeros_after_the_first_base():
    alt = np.arange(5, dtype=np.float32) + 1  # d = 2, a 3-base REF -> ref track 2d + 3 = 7
    out = realign(alt, 7, 2)
    assert out.dtype == np.float64
    assert out.tolist() == [1, 2, 3, 0, 0, 4, 5]


def test_insertion_collapses_to_the_maximum_at_the_variant():
    alt = np.array([1, 2, 9, 3, 7, 4, 5], dtype=np.float32)  # d = 2, 2 inserted bases -> ref track 5
    out = realign(alt, 5, 2)
    assert out.dtype == np.float32
    assert out.tolist() == [1, 2, 9, 4, 5]


def test_tissue_means_then_min_and_max_over_tissues():
    ref, alt = _tracks(5, 5)
    table = tissue_deltas(ref, alt, 2)
    expected = np.stack([np.mean([alt[:, 3 * t + r] - ref[:, 3 * t + r] for r in range(3)], axis=0) for t in range(4)])
    assert table.dtype == np.float32 and np.array_equal(table, expected)
    loss, gain = loss_and_gain(ref, alt, 2)
    assert np.array_equal(loss, table.min(axis=0)) and np.array_equal(gain, table.max(axis=0))


def test_scores_print_as_the_rounded_float32_or_float64():
    loss = np.array([0.0, -0.3, 0.0], dtype=np.float32)
    gain = np.array([0.0, 0.0, 0.01], dtype=np.float32)
    entry = gene_entry("G", [], loss.copy(), gain.copy(), pos=100, distance=1, mask=False)
    assert entry == "G|1:0.009999999776482582|0:-0.30000001192092896|Warnings:"
    entry = gene_entry("G", [], loss.astype(np.float64), gain.astype(np.float64), pos=100, distance=1, mask=False)
    assert entry == "G|1:0.01|0:-0.3|Warnings:"


def test_mask_without_exons_warns_and_keeps_only_gains():
    loss = np.array([-0.5, -0.2, 0.1], dtype=np.float32)
    gain = np.array([0.2, 0.0, 0.0], dtype=np.float32)
    entry = gene_entry("G", [], loss, gain, pos=100, distance=1, mask=True)
    assert entry == f"G|-1:0.20000000298023224|-1:0.0|Warnings:{NO_SITES_WARNING}"


def test_masking_in_place_shows_in_the_next_gene_of_the_strand():
    loss = np.array([-0.5, -0.2, -0.4], dtype=np.float32)
    gain = np.array([0.5, 0.3, 0.0], dtype=np.float32)
    # gene A has an exon end at position 100 (index 1): loss kept there, zeroed elsewhere
    first = gene_entry("A", [100, 200], loss, gain, pos=100, distance=1, mask=True)
    # gene B (no masking of its own) sees A's masked arrays: Pangolin's shared arrays
    second = gene_entry("B", [], loss, gain, pos=100, distance=1, mask=False)
    assert first == "A|-1:0.5|0:-0.20000000298023224|Warnings:"
    assert second == "B|-1:0.5|0:-0.20000000298023224|Warnings:"


def test_cutoff_lists_gains_then_losses():
    loss = np.array([-0.5, 0.0, -0.1], dtype=np.float32)
    gain = np.array([0.0, 0.3, 0.2], dtype=np.float32)
    entry = gene_entry("G", [], loss, gain, pos=100, distance=1, mask=False, cutoff=0.2)
    assert entry == "G|0:0.30000001192092896|1:0.20000000298023224|-1:-0.5|Warnings:"


def test_score_exons_prints_both_ends_and_na_out_of_range():
    loss = np.array([-0.5, 0.0, -0.1], dtype=np.float32)
    gain = np.array([0.0, 0.3, 0.2], dtype=np.float32)
    entry = gene_entry("G", [99, 150, 10, 20], loss, gain, pos=100, distance=1, mask=False, score_exons=True)
    assert entry == "G_sites1|-1:-0.5|G_sites2|50:NA|Warnings:"
