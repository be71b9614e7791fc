"""Haplotype sequences and their tracks: cones over genome tiles equal plain windows over the
explicitly built haplotype sequences, on real sequence, both strands, SNVs and indels in cis."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from toy import tiny_ensemble

from spliceannot.engine.cone import ConeRunner
from spliceannot.engine.runner import Predictor
from spliceannot.haplotypes.sequence import Edits, genome_alignment, masked_fetch
from spliceannot.haplotypes.tracks import HaplotypeConeTracks, HaplotypeJob, HaplotypeWindowTracks
from spliceannot.readers.fasta import Reference
from spliceannot.values import Span, Variant, VariantJob
from spliceannot.windows import WindowGeometry

EXAMPLE_FASTA = Path(__file__).resolve().parents[1] / "examples" / "chr16_region.fa.gz"
CONTIG = "chr16"


@pytest.fixture(scope="module")
def reference() -> Reference:
    return Reference(EXAMPLE_FASTA)


def naive_haplotype(genome: str, start: int, changes: list[Variant]) -> tuple[str, dict[int, int]]:
    """The haplotype text of ``genome`` (which begins at contig coordinate ``start``) by hand,
    and the haplotype coordinate of every genome base no change touches."""
    out: list[str] = []
    where: dict[int, int] = {}
    cursor = start
    for change in sorted(changes, key=lambda c: c.pos):
        begin = change.pos - 1
        while cursor < begin:
            where[cursor] = start + len(out)
            out.append(genome[cursor - start])
            cursor += 1
        out.extend(change.alt)
        cursor = begin + len(change.ref)
    while cursor < start + len(genome):
        where[cursor] = start + len(out)
        out.append(genome[cursor - start])
        cursor += 1
    return "".join(out), where


def random_changes(reference: Reference, rng, lo: int, hi: int, count: int) -> list[Variant]:
    changes: list[Variant] = []
    taken: list[tuple[int, int]] = []
    while len(changes) < count:
        pos = int(rng.integers(lo, hi))
        kind = int(rng.integers(0, 4))
        ref_len = [1, 1, int(rng.integers(2, 12)), int(rng.integers(2, 5))][kind]
        if any(pos - 1 < b and pos - 1 + ref_len > a for a, b in taken):
            continue
        ref = reference.fetch(CONTIG, pos - 1, pos - 1 + ref_len).upper()
        if kind == 0:
            alt = {"A": "C", "C": "G", "G": "T", "T": "A"}.get(ref, "A")
        elif kind == 1:
            alt = ref + "".join(rng.choice(list("ACGT"), int(rng.integers(1, 9))))
        elif kind == 2:
            alt = ref[0]
        else:
            alt = "".join(rng.choice(list("ACGT"), int(rng.integers(2, 6))))
        changes.append(Variant(CONTIG, pos, ref, alt))
        taken.append((pos - 1, pos - 1 + ref_len))
    return changes


def test_edits_text_and_map_equal_a_haplotype_built_by_hand(reference):
    rng = np.random.default_rng(4)
    start, end = 200_000, 203_000
    genome = reference.fetch(CONTIG, start, end).upper()
    fetch = masked_fetch(reference, CONTIG, Span(0, 10**9))
    for _ in range(20):
        changes = random_changes(reference, rng, start + 200, end - 200, int(rng.integers(1, 7)))
        hand, where = naive_haplotype(genome, start, changes)
        edits = Edits(changes)
        assert edits.text(fetch, start, start + len(hand)).upper() == hand
        for genome_base, haplotype in list(where.items())[::37]:
            assert edits.to_haplotype(genome_base) == haplotype
        # the alignment of genome positions: a kept base maps to itself, a deleted one nowhere
        first, last = start + 300, end - 300
        positions, lo, hi = genome_alignment(edits, first, last)
        for genome_base, group in zip(range(first, last + 1), positions):
            if genome_base in where:
                assert group == (where[genome_base],)
        assert lo <= hi


def test_masked_fetch_reads_n_outside_the_transcript_and_the_contig(reference):
    fetch = masked_fetch(reference, CONTIG, Span(200_010, 200_020))
    text = fetch(200_000, 200_030)
    assert text[:10] == "N" * 10 and text[20:] == "N" * 10
    assert text[10:20] == reference.fetch(CONTIG, 200_010, 200_020)
    assert masked_fetch(reference, CONTIG, Span(0, 10**9))(-5, 2) == "NNNNN" + reference.fetch(CONTIG, 0, 2)


def haplotype_jobs(reference: Reference, geometry: WindowGeometry, count: int, seed: int) -> list[HaplotypeJob]:
    """Records with 1-4 cis variants within reach (some at its very edge), both strands and modes,
    transcripts ending inside the window or not."""
    rng = np.random.default_rng(seed)
    half = geometry.width // 2
    jobs = []
    while len(jobs) < count:
        pos = int(rng.integers(201_000, 204_000))
        own = random_changes(reference, rng, pos, pos + 1, 1)[0]
        if len(own.ref) > 2 * geometry.distance:
            continue
        near = random_changes(reference, rng, pos - half, pos + half, int(rng.integers(1, 5)))
        if rng.random() < 0.3:  # at the edge of reach
            edge = pos - half if rng.random() < 0.5 else pos + half
            near[0] = Variant(CONTIG, edge, reference.fetch(CONTIG, edge - 1, edge).upper(), "ACGT"[len(jobs) % 4])
        own_span = (own.pos - 1, own.pos - 1 + len(own.ref))
        cis, taken = [], [own_span]
        for change in sorted(near, key=lambda c: c.pos):
            span = (change.pos - 1, change.pos - 1 + len(change.ref))
            if any(span[0] < b and span[1] > a for a, b in taken) or change.ref == change.alt:
                continue
            cis.append(change)
            taken.append(span)
        if not cis:
            continue
        strand = "+" if rng.random() < 0.5 else "-"
        if rng.random() < 0.4:
            span = Span(pos - 1 - int(rng.integers(0, half)), pos + int(rng.integers(0, half)))
        else:
            span = Span(150_000, 260_000)
        mode = ("background", "combined")[len(jobs) % 2]
        boundary = int(rng.integers(-geometry.distance, geometry.distance + 1))
        from spliceannot.haplotypes.sequence import applied

        kept = applied(cis, span)
        if not kept:
            continue
        jobs.append(HaplotypeJob(VariantJob(own, strand, span), kept, mode, boundary))
    return jobs


@pytest.mark.parametrize("flank,distance", [(80, 50), (400, 30), (2000, 40)])
def test_cone_haplotypes_equal_plain_windows(reference, flank, distance):
    model = tiny_ensemble(flank, seed=flank + 1)
    geometry = WindowGeometry(flank=flank, distance=distance)
    jobs = haplotype_jobs(reference, geometry, count=16, seed=flank + distance)
    window = HaplotypeWindowTracks(reference, Predictor(model, device="cpu", batch_size=5).predict)(jobs, geometry)
    cone = HaplotypeConeTracks(reference, ConeRunner(model.ensemble, torch.device("cpu"), batch_size=3))(jobs, geometry)
    for hap, (ref_a, alt_a, b_a), (ref_b, alt_b, b_b) in zip(jobs, window, cone):
        assert b_a == b_b
        assert ref_a.shape == ref_b.shape == (geometry.coverage, 3)
        assert alt_a.shape == alt_b.shape
        grow = len(hap.job.alt) - len(hap.job.ref) if hap.mode == "background" else 0
        assert alt_a.shape == (geometry.coverage + grow, 3)
        assert alt_a.dtype == alt_b.dtype
        np.testing.assert_allclose(ref_b, ref_a, atol=2e-6, rtol=0)
        np.testing.assert_allclose(alt_b, alt_a, atol=2e-6, rtol=0)
    # the cis variants change the numbers (the test exercises real differences)
    plain = [VariantJob(h.job.variant, h.job.strand, h.job.span) for h in jobs]
    from spliceannot.tracks import WindowTracks

    alone = WindowTracks(reference, Predictor(model, device="cpu").predict)(plain, geometry)
    moved = [np.abs(r_h - r_a).max() for (r_h, _, _), (r_a, _), h in zip(window, alone, jobs)
             if h.mode == "background" and r_h.shape == r_a.shape]
    assert max(moved) > 1e-3
