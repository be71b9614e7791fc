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
from the cone engine: a background haplotype's window is one pass and the
record's change a cone over it; a combined haplotype is one cone per change
over the genome's tile, so a cis variant far from the record costs only the
part of its cone that reaches the record's outputs.
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
    """The same tracks from the cone engine (a :class:`~spliceannot.engine.cone.ConeRunner`).

    ``background``: the haplotype's reference window is one tile (one pass),
    the record's change a cone over it.  ``combined``: one pass over a tile
    of the genome per record and gene (its reference track), and the whole
    haplotype as one cone per change (the record's and each cis variant's,
    merged where they meet) over that tile.
    """

    def __init__(self, reference, runner, encoding: str = "spliceai") -> None:
        self.reference = reference
        self.runner = runner
        self.encoding = encoding

    def __call__(self, jobs: Sequence[HaplotypeJob], geometry: WindowGeometry) -> list[HaplotypeTracks]:
        half = geometry.width // 2
        half_flank = geometry.flank // 2
        slacks: dict[tuple, int] = {}  # a genome tile reaches beyond the window by the most a haplotype grows
        for hap in jobs:
            if hap.mode == "background":
                continue
            job = hap.job
            grown = sum(abs(len(c.alt) - len(c.ref)) for c in (*hap.cis, _own(job))) + 1
            key = (job.contig, job.strand, job.span, job.pos)
            slacks[key] = max(slacks.get(key, 0), grown)
        tiles: list[np.ndarray] = []
        placed: dict[tuple, _Tile] = {}
        requests: list = []
        substitutions: list = []
        plans = []
        for hap in jobs:
            job = hap.job
            changes = (*hap.cis, _own(job))
            if hap.mode == "background":
                # the haplotype's own window is one tile (one pass), the record's change a cone over it:
                # cheaper here than cones of every cis variant on the genome's tile (measured)
                built = background_windows(masked_fetch(self.reference, job.contig, job.span), _own(job), hap.cis,
                                           width=geometry.width, boundary_distance=hap.boundary_distance)
                window = _Tile(len(tiles), 0, geometry.width, job.strand, self.encoding)
                tiles.append(encode(built.reference, job.strand, self.encoding))
                center = geometry.center
                requests.append(window.request(half_flank, geometry.coverage))
                substitutions.append(window.substitution([Variant(job.contig, center + 1, job.ref, job.alt)],
                                                         half_flank, geometry.coverage + len(job.alt) - len(job.ref)))
                plans.append((len(requests) - 1, len(substitutions) - 1, None, built.boundary_distance))
            else:
                key = (job.contig, job.strand, job.span, job.pos)
                if key not in placed:  # the genome's tile, shared by the record's haplotypes on this gene
                    lo = job.pos - 1 - half - slacks[key]
                    hi = job.pos + half + len(job.ref) + slacks[key]
                    text = masked_fetch(self.reference, job.contig, job.span)(lo, hi)
                    placed[key] = _Tile(len(tiles), lo, hi - lo, job.strand, self.encoding)
                    tiles.append(encode(text, job.strand, self.encoding))
                tile = placed[key]
                positions, first, last = genome_alignment(Edits(changes), job.pos - 1 - geometry.distance,
                                                          job.pos - 1 + geometry.distance)
                requests.append(tile.request(job.pos - 1 - geometry.distance, geometry.coverage))
                substitutions.append(tile.substitution(changes, first, last - first + 1))
                shifted = tuple(tuple(p - first for p in group) for group in positions)
                plans.append((len(requests) - 1, len(substitutions) - 1, shifted, hap.boundary_distance))
        refs, alts = self.runner.run(tiles, requests, substitutions) if jobs else ([], [])
        results = []
        for hap, (request, alternate, positions, boundary) in zip(jobs, plans):
            strand = hap.job.strand
            ref_track, alt_track = _orient(refs[request], strand), _orient(alts[alternate], strand)
            if positions is not None:
                alt_track = align_combined(alt_track, positions)
            results.append((ref_track, alt_track, boundary))
        return results


@dataclass(frozen=True)
class _Tile:
    """A reference tile: ``length`` genome bases from ``start`` (0-based, forward), model orientation."""

    index: int
    start: int
    length: int
    strand: str
    encoding: str

    def request(self, first: int, count: int):
        """The reference outputs of genome bases ``first .. first + count - 1``."""
        from spliceannot.engine.cone import TrackRequest

        offset = first - self.start
        if self.strand == "-":
            offset = self.length - (offset + count)
        return TrackRequest(self.index, offset, count)

    def substitution(self, changes: Sequence[Variant], first: int, count: int):
        """The haplotype ``changes`` (forward, not overlapping) as one substitution of this tile, with the outputs
        of haplotype coordinates ``first .. first + count - 1``."""
        from spliceannot.engine.cone import Change, Substitution

        placed = [(c.pos - 1 - self.start, len(c.ref), c.alt) for c in sorted(changes, key=lambda c: c.pos)]
        grown = sum(len(alt) - ref_len for _, ref_len, alt in placed)
        out = first - self.start
        if self.strand == "-":
            placed = [(self.length - (x + ref_len), ref_len, alt) for x, ref_len, alt in reversed(placed)]
            out = self.length + grown - (out + count)
        (x0, ref_len, alt), rest = placed[0], placed[1:]
        more = tuple(Change(x - x0, n, encode(a, self.strand, self.encoding)) for x, n, a in rest)
        return Substitution(self.index, x0, ref_len, encode(alt, self.strand, self.encoding), out, count, more)
