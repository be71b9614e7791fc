"""The fast engine (reference tiles + cones) equals the plain per-window forward pass."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from spliceannot.engine._device import resolve_device
from spliceannot.engine.cone import ConeRunner
from spliceannot.engine.runner import Predictor
from spliceannot.readers.fasta import Reference
from spliceannot.tracks import ConeTracks, WindowTracks
from spliceannot.values import Span, Variant, VariantJob
from spliceannot.windows import WindowGeometry
from toy import tiny_ensemble

EXAMPLE_FASTA = Path(__file__).resolve().parents[1] / "examples" / "chr16_region.fa.gz"


def random_jobs(reference: Reference, geometry: WindowGeometry, count: int, seed: int) -> list[VariantJob]:
    """SNVs, insertions and deletions on both strands, some with transcript ends inside the window."""
    rng = np.random.default_rng(seed)
    contig = "chr16"
    jobs = []
    lo, hi = 200_000, 200_000 + 6_000
    for index in range(count):
        pos = int(rng.integers(lo, hi))
        kind = index % 4
        ref_len, alt_len = [(1, 1), (1, int(rng.integers(2, 8))), (int(rng.integers(2, 2 * geometry.distance)), 1),
                            (1, 1)][kind]
        ref = reference.fetch(contig, pos - 1, pos - 1 + ref_len).upper()
        alt = "".join(rng.choice(list("ACGT"), alt_len))
        if ref_len == 1 and alt_len == 1 and alt == ref:
            alt = {"A": "C", "C": "G", "G": "T", "T": "A"}.get(ref, "A")
        if alt_len > 1:
            alt = ref + alt[1:]
        if ref_len > 1:
            alt = ref[0]
        strand = "+" if rng.random() < 0.5 else "-"
        if rng.random() < 0.5:  # transcript ends inside the window
            tx_start = pos - 1 - int(rng.integers(0, geometry.width // 2))
            tx_end = pos + int(rng.integers(0, geometry.width // 2))
        else:
            tx_start, tx_end = lo - 50_000, hi + 50_000
        jobs.append(VariantJob(Variant(contig, pos, ref, alt), strand, Span(tx_start, tx_end)))
    return jobs


@pytest.fixture(scope="module")
def reference() -> Reference:
    return Reference(EXAMPLE_FASTA)


@pytest.mark.parametrize("flank,distance", [(80, 50), (400, 50), (2000, 30), (400, 4)])
def test_cone_tracks_equal_window_tracks(reference, flank, distance):
    model = tiny_ensemble(flank, seed=flank)
    geometry = WindowGeometry(flank=flank, distance=distance)
    predictor = Predictor(model, device="cpu", batch_size=7)
    window = WindowTracks(reference, predictor.predict)
    cone = ConeTracks(reference, ConeRunner(model.ensemble, torch.device("cpu"), batch_size=3), max_tile=3_000)
    jobs = random_jobs(reference, geometry, count=24, seed=flank + distance)
    expected = window(jobs, geometry)
    got = cone(jobs, geometry)
    for job, (ref_a, alt_a), (ref_b, alt_b) in zip(jobs, expected, got):
        assert ref_a.shape == ref_b.shape == (geometry.coverage, 3)
        assert alt_a.shape == alt_b.shape == (geometry.coverage + len(job.alt) - len(job.ref), 3)
        np.testing.assert_allclose(ref_b, ref_a, atol=2e-6, rtol=0)
        np.testing.assert_allclose(alt_b, alt_a, atol=2e-6, rtol=0)
    # the test must exercise real differences between reference and alternate
    d = distance
    snvs = [(r, a) for job, (r, a) in zip(jobs, expected) if len(job.ref) == len(job.alt)]
    assert max(np.abs(a[d - 3 : d + 4] - r[d - 3 : d + 4]).max() for r, a in snvs) > 1e-3


def test_batch_size_does_not_change_tracks(reference):
    model = tiny_ensemble(400, seed=9)
    geometry = WindowGeometry(flank=400, distance=50)
    jobs = random_jobs(reference, geometry, count=12, seed=9)
    results = []
    for batch in (1, 64):
        runner = ConeRunner(model.ensemble, torch.device("cpu"), batch_size=batch)
        results.append(ConeTracks(reference, runner)(jobs, geometry))
    for (r1, a1), (r2, a2) in zip(*results):
        np.testing.assert_allclose(r1, r2, atol=1e-6, rtol=0)
        np.testing.assert_allclose(a1, a2, atol=1e-6, rtol=0)


def test_minus_strand_is_the_reverse_complement_of_plus(reference):
    """A minus-strand job equals a plus-strand job on the reverse-complemented genome."""
    model = tiny_ensemble(80, seed=2)
    geometry = WindowGeometry(flank=80, distance=20)
    predictor = Predictor(model, device="cpu")
    window = WindowTracks(reference, predictor.predict)
    pos = 201_000
    ref = reference.fetch("chr16", pos - 1, pos).upper()
    alt = {"A": "G", "C": "T", "G": "A", "T": "C"}[ref]
    (ref_minus, alt_minus), = window([VariantJob(Variant("chr16", pos, ref, alt), "-", Span(0, 400_000))], geometry)
    # score the same variant by hand on the reverse complement
    start, end = geometry.start(pos), geometry.end(pos)
    text = reference.fetch("chr16", start, end)
    comp = {"A": "T", "C": "G", "G": "C", "T": "A"}
    rc = "".join(comp.get(b.upper(), "N") for b in reversed(text))
    center = len(rc) - 1 - geometry.center
    alt_rc = rc[:center] + comp[alt] + rc[center + 1:]
    from spliceannot.encoding import one_hot

    ref_hand, alt_hand = predictor.predict([one_hot(rc), one_hot(alt_rc)])
    np.testing.assert_allclose(ref_minus, ref_hand[::-1], atol=1e-6, rtol=0)
    np.testing.assert_allclose(alt_minus, alt_hand[::-1], atol=1e-6, rtol=0)


def test_device_choice():
    assert resolve_device("cpu").type == "cpu"
    assert resolve_device("auto").type in ("cpu", "cuda")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError):
            resolve_device("cuda")
    with pytest.raises(ValueError):
        resolve_device("tpu")


@pytest.mark.parametrize("temperature", [1.7, (1.0, 0.6, 2.5)])
def test_cone_and_window_apply_a_calibrated_temperature_alike(reference, temperature):
    model = tiny_ensemble(80, seed=5)
    plain = tiny_ensemble(80, seed=5)
    model.ensemble.temperature = temperature
    geometry = WindowGeometry(flank=80, distance=50)
    jobs = random_jobs(reference, geometry, count=8, seed=3)
    window = WindowTracks(reference, Predictor(model, device="cpu", batch_size=4).predict)(jobs, geometry)
    cone = ConeTracks(reference, ConeRunner(model.ensemble, torch.device("cpu"), batch_size=3),
                      max_tile=3_000)(jobs, geometry)
    uncalibrated = WindowTracks(reference, Predictor(plain, device="cpu").predict)(jobs, geometry)
    for (ref_a, alt_a), (ref_b, alt_b), (ref_u, _) in zip(window, cone, uncalibrated):
        np.testing.assert_allclose(ref_b, ref_a, atol=2e-6, rtol=0)
        np.testing.assert_allclose(alt_b, alt_a, atol=2e-6, rtol=0)
    assert max(np.abs(r - u).max() for (r, _), (u, _) in zip(window, uncalibrated)) > 1e-3


@pytest.mark.parametrize("flank", [80, 400])
def test_a_substitution_with_several_changes_equals_the_edited_sequence(reference, flank):
    """Several changes in one substitution (one cone each, merged where they meet) give the outputs of
    a plain pass over the sequence with every change applied."""
    from spliceannot.encoding import one_hot
    from spliceannot.engine.cone import Change, Substitution

    model = tiny_ensemble(flank, seed=flank + 7)
    rng = np.random.default_rng(flank)
    text = reference.fetch("chr16", 210_000, 210_000 + 4 * flank + 600).upper()
    runner = ConeRunner(model.ensemble, torch.device("cpu"), batch_size=2)
    predictor = Predictor(model, device="cpu")
    for trial in range(6):
        gaps = sorted(rng.choice(np.arange(flank, len(text) - flank - 40), size=3, replace=False))
        edits = []
        for index, at in enumerate(gaps):
            ref_len = [1, 1, 4][(index + trial) % 3]
            alt = "".join(rng.choice(list("ACGT"), [1, 5, 2][(index + trial) % 3]))
            if edits and at < edits[-1][0] + edits[-1][1] + 1:
                continue
            edits.append((int(at), ref_len, alt))
        edited, cursor = [], 0
        for at, ref_len, alt in edits:
            edited.append(text[cursor:at] + alt)
            cursor = at + ref_len
        edited = "".join(edited) + text[cursor:]
        grown = len(edited) - len(text)
        first, count = flank // 2, len(edited) - flank  # every output of the edited sequence
        x0 = edits[0][0]
        more = tuple(Change(at - x0, n, one_hot(alt)) for at, n, alt in edits[1:])
        sub = Substitution(0, x0, edits[0][1], one_hot(edits[0][2]), first, count, more)
        _, (got,) = runner.run([one_hot(text)], [], [sub])
        (expected,) = predictor.predict([one_hot(edited)])
        assert got.shape == expected.shape == (len(text) + grown - flank, 3)
        np.testing.assert_allclose(got, expected, atol=2e-6, rtol=0)
