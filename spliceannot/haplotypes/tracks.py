"""Probability tracks of haplotype jobs: plain windows, or cones over the genome's tiles.

A haplotype job is one record's ALT on one transcript with the other
variants of a haplotype in the sequence (:class:`HaplotypeJob`).  Both
sources return, per job, ``(reference, alternate, boundary_distance)``
in forward orientation, ready for :func:`spliceannot.scoring.delta_scores`:

- ``background``: the reference track has ``2 * distance + 1`` rows, the
  alternate ``len(ALT) - len(REF)`` more (SpliceAI's alignment applies);
- ``combined``: both have ``2 * distance + 1`` rows, the alternate already
  on the genome's positions (score it as an equal-length change).

:class:`HaplotypeWindowTracks` runs the windows of
:mod:`spliceannot.haplotypes.sequence` through the model as they are;
:class:`HaplotypeConeTracks` gets the same numbers (to float32 rounding)
through the cone engine: a background haplotype's reference window is one
pass, the record's own change a cone over it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from spliceannot.haplotypes.sequence import (
    align_combined,
    background_windows,
    combined_window,
    masked_fetch,
)
from spliceannot.values import Variant, VariantJob
from spliceannot.windows import WindowGeometry, encode

MODES = ("background", "combined")

HaplotypeTracks = tuple[np.ndarray, np.ndarray, int]


@dataclass(frozen=True)
class HaplotypeJob:
    """The record's ALT (``job``, forward, on the FASTA's contig) with ``cis`` in the sequence.

    ``cis``: the other variants applied (already limited to those that overlap
    the transcript), sorted, none overlapping ``job``'s REF.
    ``boundary_distance``: the transcript's nearest exon boundary relative to
    the record on the genome.
    """

    job: VariantJob
    cis: tuple[Variant, ...]
    mode: str
    boundary_distance: int

    def key(self) -> tuple:
        """Jobs with equal keys read identical sequences."""
        return (self.job.contig, self.job.pos, self.job.ref, self.job.alt, self.job.strand, self.job.span,
                self.cis, self.mode, self.boundary_distance)


def _own(job: VariantJob) -> Variant:
    return Variant(job.contig, job.pos, job.ref, job.alt)


def _orient(track: np.ndarray, strand: str) -> np.ndarray:
    return track[::-1] if strand == "-" else track


class HaplotypeWindowTracks:
    """Whole windows through the model (``predict``: one-hot windows -> tracks)."""

    def __init__(self, reference, predict: Callable[[Sequence[np.ndarray]], list[np.ndarray]],
                 encoding: str = "spliceai") -> None:
        self.reference = reference
        self.predict = predict
        self.encoding = encoding

    def __call__(self, jobs: Sequence[HaplotypeJob], geometry: WindowGeometry) -> list[HaplotypeTracks]:
        windows: list[np.ndarray] = []
        plans = []
        for hap in jobs:
            job = hap.job
            fetch = masked_fetch(self.reference, job.contig, job.span)
            if hap.mode == "background":
                built = background_windows(fetch, _own(job), hap.cis, width=geometry.width,
                                           boundary_distance=hap.boundary_distance)
                texts, positions, boundary = (built.reference, built.alternate), None, built.boundary_distance
            else:
                start = geometry.start(job.pos)
                alternate, positions = combined_window(fetch, _own(job), (*hap.cis, _own(job)),
                                                       flank=geometry.flank, distance=geometry.distance)
                texts, boundary = (fetch(start, start + geometry.width), alternate), hap.boundary_distance
            plans.append((len(windows), positions, boundary))
            windows.extend(encode(text, job.strand, self.encoding) for text in texts)
        outputs = self.predict(windows) if windows else []
        results = []
        for hap, (first, positions, boundary) in zip(jobs, plans):
            ref_track = _orient(outputs[first], hap.job.strand)
            alt_track = _orient(outputs[first + 1], hap.job.strand)
            if positions is not None:
                alt_track = align_combined(alt_track, positions)
            results.append((ref_track, alt_track, boundary))
        return results


class HaplotypeConeTracks:
    """The same windows through a :class:`~spliceannot.engine.cone.ConeRunner`: each haplotype's
    reference window is one tile (one pass), the record's own change a cone over it (background);
    the genome window, shared by every haplotype of a record and gene, is one tile (combined)."""

    def __init__(self, reference, runner, encoding: str = "spliceai") -> None:
        self.reference = reference
        self.runner = runner
        self.encoding = encoding

    def __call__(self, jobs: Sequence[HaplotypeJob], geometry: WindowGeometry) -> list[HaplotypeTracks]:
        from spliceannot.engine.cone import Substitution, TrackRequest

        half_flank = geometry.flank // 2
        tiles: list[np.ndarray] = []
        tile_ids: dict[tuple, int] = {}
        requests: list = []
        substitutions: list = []
        plans = []

        def tile(key: tuple, text: str, strand: str) -> int:
            if key not in tile_ids:
                tile_ids[key] = len(tiles)
                tiles.append(encode(text, strand, self.encoding))
            return tile_ids[key]

        def request(index: int, outputs: int) -> int:
            """All outputs of a tile (it is exactly ``flank`` longer than them)."""
            requests.append(TrackRequest(index, half_flank, outputs))
            return len(requests) - 1

        for hap in jobs:
            job = hap.job
            fetch = masked_fetch(self.reference, job.contig, job.span)
            if hap.mode == "background":
                built = background_windows(fetch, _own(job), hap.cis, width=geometry.width,
                                           boundary_distance=hap.boundary_distance)
                index = tile(("background", hap.key()), built.reference, job.strand)
                ref_len, grow = len(job.ref), len(job.alt) - len(job.ref)
                start = geometry.center if job.strand == "+" else geometry.width - (geometry.center + ref_len)
                substitutions.append(Substitution(index, start, ref_len, encode(job.alt, job.strand, self.encoding),
                                                  half_flank, geometry.coverage + grow))
                plans.append((request(index, geometry.coverage), len(substitutions) - 1, None,
                              built.boundary_distance))
            else:
                begin = geometry.start(job.pos)
                genome = tile(("genome", job.contig, job.strand, job.span, job.pos),
                              fetch(begin, begin + geometry.width), job.strand)
                alternate, positions = combined_window(fetch, _own(job), (*hap.cis, _own(job)),
                                                       flank=geometry.flank, distance=geometry.distance)
                haplotype = tile(("combined", hap.key()), alternate, job.strand)
                plans.append((request(genome, geometry.coverage), request(haplotype, len(alternate) - geometry.flank),
                              positions, hap.boundary_distance))
        refs, alts = self.runner.run(tiles, requests, substitutions) if jobs else ([], [])
        results = []
        for hap, (ref_index, alt_index, positions, boundary) in zip(jobs, plans):
            strand = hap.job.strand
            ref_track = _orient(refs[ref_index], strand)
            if positions is None:
                results.append((ref_track, _orient(alts[alt_index], strand), boundary))
            else:
                results.append((ref_track, align_combined(_orient(refs[alt_index], strand), positions), boundary))
        return results
