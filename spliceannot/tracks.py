"""Reference and alternate probability tracks for scored variants.

Two interchangeable ways to get the same numbers:

- :class:`WindowTracks` runs every reference and alternate window through
  the model, exactly as SpliceAI does (the straightforward path);
- :class:`ConeTracks` runs one pass over a *tile* of each transcript's
  masked sequence for the reference tracks of all variants in it, and
  recomputes only the receptive cone of each change for the alternate
  tracks (see :mod:`spliceannot.engine.cone`).

Both return tracks in contig (forward) orientation: the reference track
has ``2 * distance + 1`` rows, the alternate ``2 * distance + 1 + len(ALT) -
len(REF)`` (a geometry that ``covers_ref``, Pangolin's, adds ``len(REF) - 1``
to both), with the model's columns (SpliceAI: neither, acceptor, donor).  Both are called as ``tracks(jobs,
geometry)``: the scorer owns the window geometry (``-D`` and the model's
flank) and hands it over with every call, so one track source (and its
loaded model) serves scorers of any ``-D``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from spliceannot.readers.fasta import Reference
from spliceannot.values import VariantJob
from spliceannot.windows import WindowGeometry, alternate_window, encode, reference_window

__all__ = ["ConeTracks", "Tracks", "WindowTracks", "window_key"]

Tracks = tuple[np.ndarray, np.ndarray]


def _fetch(reference: Reference, contig: str, start: int, end: int) -> str:
    """Bases ``[start, end)`` of ``contig``, ``N`` past its end (a Pangolin window may run past
    it; SpliceAI's never does: such records are not scored)."""
    text = reference.fetch(contig, start, end)
    return text + "N" * (end - start - len(text))


def window_key(job: VariantJob, geometry: WindowGeometry) -> tuple:
    """Jobs with equal keys read identical windows (same variant and strand, same mask)."""
    padding = geometry.padding(job.pos, *job.span, len(job.ref))
    return (job.contig, job.pos, job.ref, job.alt, job.strand, padding)


class WindowTracks:
    """Tracks from whole windows, one reference and one alternate per job.

    Parameters
    ----------
    predict
        Maps one-hot windows ``(length_i, 4)`` to ``(length_i - flank, 3)``
        tracks (``Predictor.predict``).
    """

    def __init__(
        self,
        reference: Reference,
        predict: Callable[[Sequence[np.ndarray]], list[np.ndarray]],
        encoding: str = "spliceai",
    ) -> None:
        self.reference = reference
        self.predict = predict
        self.encoding = encoding

    def __call__(self, jobs: Sequence[VariantJob], geometry: WindowGeometry) -> list[Tracks]:
        ref_keys: dict[tuple, int] = {}
        windows: list[np.ndarray] = []
        plan = []
        for job in jobs:
            reach = geometry.reach(len(job.ref))
            padding = geometry.padding(job.pos, *job.span, len(job.ref))
            key = (job.contig, job.pos, padding, job.strand, reach)
            sequence = _fetch(self.reference, job.contig, geometry.start(job.pos), geometry.end(job.pos, len(job.ref)))
            ref_text = reference_window(sequence, padding)
            if key not in ref_keys:
                ref_keys[key] = len(windows)
                windows.append(encode(ref_text, job.strand, self.encoding))
            alt_text = alternate_window(ref_text, geometry.center, job.ref, job.alt)
            plan.append((ref_keys[key], len(windows)))
            windows.append(encode(alt_text, job.strand, self.encoding))
        outputs = self.predict(windows) if windows else []
        results = []
        for job, (ref_index, alt_index) in zip(jobs, plan):
            ref_track, alt_track = outputs[ref_index], outputs[alt_index]
            if job.strand == "-":
                ref_track, alt_track = ref_track[::-1], alt_track[::-1]
            results.append((ref_track, alt_track))
        return results


class ConeTracks:
    """Tracks from shared reference tiles and alternate cones (exact, faster).

    Parameters
    ----------
    runner
        A :class:`~spliceannot.engine.cone.ConeRunner`.
    max_tile
        Longest tile, in nucleotides, beyond one window (bounds memory:
        every layer's activations of a tile are kept while its variants are
        scored).
    """

    def __init__(self, reference: Reference, runner, encoding: str = "spliceai", max_tile: int = 40_000) -> None:
        self.reference = reference
        self.runner = runner
        self.encoding = encoding
        self.max_tile = max_tile

    def _tiles(self, jobs: Sequence[VariantJob], geometry: WindowGeometry) -> list[tuple[tuple, list[int]]]:
        """Group jobs sharing a transcript mask into tiles of overlapping windows."""
        by_mask: dict[tuple, list[int]] = {}
        for index, job in enumerate(jobs):
            by_mask.setdefault((job.contig, job.strand, *job.span), []).append(index)
        tiles = []
        for mask, members in by_mask.items():
            members.sort(key=lambda i: jobs[i].pos)
            current: list[int] = []
            lo = hi = 0
            for index in members:
                start, end = geometry.start(jobs[index].pos), geometry.end(jobs[index].pos, len(jobs[index].ref))
                if current and start <= hi + geometry.flank and end - lo <= self.max_tile + geometry.width:
                    current.append(index)
                    hi = max(hi, end)
                    continue
                if current:
                    tiles.append(((mask, lo, hi), current))
                current, lo, hi = [index], start, end
            if current:
                tiles.append(((mask, lo, hi), current))
        return tiles

    def __call__(self, jobs: Sequence[VariantJob], geometry: WindowGeometry) -> list[Tracks]:
        from spliceannot.engine.cone import Substitution, TrackRequest

        half_flank = geometry.flank // 2
        coverage = geometry.coverage
        tile_arrays: list[np.ndarray] = []
        tile_ids: dict[tuple, int] = {}
        requests = []
        substitutions = []
        planned = self._tiles(jobs, geometry)
        for (mask, lo, hi), members in planned:
            contig, strand, tx_start, tx_end = mask
            key = (contig, strand, lo, hi, max(lo, tx_start), min(hi, tx_end))
            if key not in tile_ids:
                padding = (max(0, min(hi, tx_start) - lo), max(0, hi - max(lo, tx_end)))
                text = reference_window(_fetch(self.reference, contig, lo, hi), padding)
                tile_ids[key] = len(tile_arrays)
                tile_arrays.append(encode(text, strand, self.encoding))
            tile = tile_ids[key]
            length = hi - lo
            for index in members:
                job = jobs[index]
                variant = job.pos - 1 - lo  # tile coordinate of REF's first base (forward)
                window = geometry.start(job.pos) - lo
                reach = geometry.reach(len(job.ref))
                output_length = coverage + reach + len(job.alt) - len(job.ref)
                alt = encode(job.alt, strand, self.encoding)
                if strand == "-":
                    first_output = length - (window + geometry.width + reach) + half_flank
                    start = length - (variant + len(job.ref))
                else:
                    first_output = window + half_flank
                    start = variant
                requests.append(TrackRequest(tile, first_output, coverage + reach))
                substitutions.append(Substitution(tile, start, len(job.ref), alt, first_output, output_length))
        order = [index for _, members in planned for index in members]
        refs, alts = self.runner.run(tile_arrays, requests, substitutions) if requests else ([], [])
        results: list[Tracks | None] = [None] * len(jobs)
        for index, ref_track, alt_track in zip(order, refs, alts):
            if jobs[index].strand == "-":
                ref_track, alt_track = ref_track[::-1], alt_track[::-1]
            results[index] = (ref_track, alt_track)
        return results  # type: ignore[return-value]
