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
from one reference pass per tile of the genome and one cone per haplotype:
every haplotype differs from the genome in one stretch (its first change to
its last), which is the cone's replacement.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from spliceannot.haplotypes.sequence import (
    Edits,
    align_combined,
    background_windows,
    combined_window,
    genome_alignment,
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
    """Reference tiles of the genome and one cone per haplotype sequence (a
    :class:`~spliceannot.engine.cone.ConeRunner`)."""

    def __init__(self, reference, runner, encoding: str = "spliceai") -> None:
        self.reference = reference
        self.runner = runner
        self.encoding = encoding

    def __call__(self, jobs: Sequence[HaplotypeJob], geometry: WindowGeometry) -> list[HaplotypeTracks]:
        from spliceannot.engine.cone import Substitution, TrackRequest

        half = geometry.width // 2
        tiles: list[np.ndarray] = []
        tile_of: dict[tuple, tuple[int, int, int]] = {}  # (contig, strand, span, pos) -> (tile, start, length)
        requests: list = []
        substitutions: list = []
        plans = []
        slacks: dict[tuple, int] = {}  # a tile reaches beyond the window by the most any haplotype grows
        for hap in jobs:
            job = hap.job
            grown = sum(abs(len(c.alt) - len(c.ref)) for c in (*hap.cis, _own(job))) + 1
            tile_key = (job.contig, job.strand, job.span, job.pos)
            slacks[tile_key] = max(slacks.get(tile_key, 0), grown)
        for hap in jobs:
            job = hap.job
            changes = (*hap.cis, _own(job))
            tile_key = (job.contig, job.strand, job.span, job.pos)
            slack = slacks[tile_key]
            if tile_key not in tile_of:
                lo = job.pos - 1 - half - slack
                hi = job.pos + half + len(job.ref) + slack
                text = masked_fetch(self.reference, job.contig, job.span)(lo, hi)
                tile_of[tile_key] = (len(tiles), lo, hi - lo)
                tiles.append(encode(text, job.strand, self.encoding))
            tile, lo, length = tile_of[tile_key]
            fetch = masked_fetch(self.reference, job.contig, job.span)

            def substitution(edits: Edits, out_start: int, out_length: int) -> int:
                """Queue the haplotype ``edits`` (outputs from haplotype coordinate ``out_start``)."""
                first, last = edits.changes[0], edits.changes[-1]
                begin, end = first.pos - 1, last.pos - 1 + len(last.ref)
                text = edits.text(fetch, begin, edits.locate(last.pos - 1)[0] + len(last.alt))
                x0, ref_len, start = begin - lo, end - begin, out_start - lo
                if job.strand == "-":
                    grown = length + len(text) - ref_len
                    sub = Substitution(tile, length - (x0 + ref_len), ref_len, encode(text, "-", self.encoding),
                                       grown - (start + out_length), out_length)
                else:
                    sub = Substitution(tile, x0, ref_len, encode(text, "+", self.encoding), start, out_length)
                substitutions.append(sub)
                return len(substitutions) - 1

            if hap.mode == "background":
                before = Edits(hap.cis)
                center = before.to_haplotype(job.pos - 1)
                coverage = geometry.coverage
                ref_index = substitution(before, center - geometry.distance, coverage)
                alt_index = substitution(Edits(changes), center - geometry.distance,
                                         coverage + len(job.alt) - len(job.ref))
                boundary = before.to_haplotype(job.pos - 1 + hap.boundary_distance) - center
                plans.append(("background", ref_index, alt_index, None, boundary))
            else:
                edits = Edits(changes)
                positions, first, last = genome_alignment(edits, job.pos - 1 - geometry.distance,
                                                          job.pos - 1 + geometry.distance)
                start = job.pos - 1 - geometry.distance - lo
                if job.strand == "-":
                    start = length - (start + geometry.coverage)
                requests.append(TrackRequest(tile, start, geometry.coverage))
                alt_index = substitution(edits, first, last - first + 1)
                shifted = tuple(tuple(p - first for p in group) for group in positions)
                plans.append(("combined", len(requests) - 1, alt_index, shifted, hap.boundary_distance))
        refs, alts = self.runner.run(tiles, requests, substitutions) if jobs else ([], [])
        results = []
        for hap, (mode, ref_index, alt_index, positions, boundary) in zip(jobs, plans):
            strand = hap.job.strand
            alt_track = _orient(alts[alt_index], strand)
            if mode == "background":
                results.append((_orient(alts[ref_index], strand), alt_track, boundary))
            else:
                results.append((_orient(refs[ref_index], strand), align_combined(alt_track, positions), boundary))
        return results
