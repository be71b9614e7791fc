"""Haplotype sequences: the genome with several variants applied, and where each base went.

A haplotype is the transcript-masked genome with a set of changes applied
(each a :class:`~spliceannot.values.Variant`: REF's bases replaced by ALT's).
Its coordinates (*haplotype coordinates*) are genome coordinates (0-based)
shifted by the length changes of the edits left of a base: a base before the
first edit keeps its genome coordinate.  :class:`Edits` maps between the two
and builds the text; :func:`background_windows` and :func:`combined_window`
cut the windows the model reads, the way SpliceAI cuts a record's window.

The rules (docs/haplotypes.md):

- Bases outside the transcript read as ``N`` (SpliceAI's mask); a change
  lying wholly outside the transcript is therefore not applied (its bases
  would read as ``N`` either way); one that overlaps the transcript is
  applied whole, its ALT bases shown, as SpliceAI shows a record's ALT.
- ``background``: the reference is the haplotype without the record, the
  alternate the haplotype with it; the window is SpliceAI's window centred
  on the record's first base in the haplotype's coordinates.
- ``combined``: the reference is the genome window (SpliceAI's own), the
  alternate the whole haplotype; every genome position of the scored range
  takes the alternate probability of the haplotype base it became, as
  SpliceAI aligns one variant (:func:`genome_alignment`).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from spliceannot.values import Span, Variant
from spliceannot.windows import alternate_window

Fetch = Callable[[int, int], str]
"""``fetch(start, end)``: masked forward genome text of ``[start, end)`` (0-based), ``N`` past the contig."""


def masked_fetch(reference, contig: str, span: Span) -> Fetch:
    """A :data:`Fetch` of ``contig`` with bases outside ``span`` (and past the contig's ends) read as ``N``."""
    length = reference.length(contig)

    def fetch(start: int, end: int) -> str:
        lo, hi = max(start, span.start, 0), min(end, span.end, length)
        if hi <= lo:
            return "N" * (end - start)
        return "N" * (lo - start) + reference.fetch(contig, lo, hi) + "N" * (end - hi)

    return fetch


def applied(changes: Sequence[Variant], span: Span) -> tuple[Variant, ...]:
    """The changes that overlap the transcript ``span`` (the others read as ``N`` anyway)."""
    return tuple(c for c in changes if c.pos - 1 < span.end and c.pos - 1 + len(c.ref) > span.start)


class Edits:
    """Changes applied to a genome, with the map from genome to haplotype coordinates.

    Parameters
    ----------
    changes
        Sorted, not overlapping one another (REF spans).
    """

    def __init__(self, changes: Sequence[Variant]) -> None:
        self.changes = tuple(sorted(changes, key=lambda c: c.pos))
        self._starts: list[int] = []  # genome start (0-based) of each change
        self._shift_after: list[int] = []  # total length change up to and including each change
        shift = 0
        for change in self.changes:
            self._starts.append(change.pos - 1)
            shift += len(change.alt) - len(change.ref)
            self._shift_after.append(shift)

    def __bool__(self) -> bool:
        return bool(self.changes)

    def _index(self, genome: int) -> int:
        """Index of the last change starting at or before ``genome`` (-1: none)."""
        return bisect.bisect_right(self._starts, genome) - 1

    def shift_before(self, index: int) -> int:
        return self._shift_after[index - 1] if index > 0 else 0

    def locate(self, genome: int) -> tuple[int, int | None, int]:
        """Where genome base ``genome`` (0-based) went.

        Returns
        -------
        tuple
            ``(haplotype, change, offset)``: ``change`` is None for a base no
            change touches (``haplotype`` its coordinate); else the index of
            the change whose REF holds it, ``offset`` the base's index in that
            REF and ``haplotype`` the coordinate of the change's first ALT base.
        """
        index = self._index(genome)
        if index >= 0:
            change = self.changes[index]
            start = change.pos - 1
            if genome < start + len(change.ref):
                return start + self.shift_before(index), index, genome - start
            return genome + self._shift_after[index], None, 0
        return genome, None, 0

    def to_haplotype(self, genome: int) -> int:
        """Haplotype coordinate of genome base ``genome``; a base inside a change's REF goes to
        the same offset in its ALT, or to the ALT's last base when ALT is shorter."""
        haplotype, change, offset = self.locate(genome)
        if change is None:
            return haplotype
        return haplotype + min(offset, len(self.changes[change].alt) - 1)

    def text(self, fetch: Fetch, start: int, end: int) -> str:
        """Haplotype text of haplotype coordinates ``[start, end)``."""
        # genome range that certainly holds it: shifts are bounded by the total length change
        slack = sum(abs(len(c.alt) - len(c.ref)) for c in self.changes) + 1
        lo = min(start - slack, self.changes[0].pos - 2) if self.changes else start
        hi = end + slack
        pieces = []
        cursor = lo
        for change in self.changes:
            begin = change.pos - 1
            if begin >= hi:
                break
            pieces.append(fetch(cursor, begin))
            pieces.append(change.alt)
            cursor = begin + len(change.ref)
        pieces.append(fetch(cursor, hi))
        text = "".join(pieces)
        first = self.to_haplotype(lo)  # lo lies before every change: its own coordinate
        return text[start - first : end - first]


@dataclass(frozen=True)
class HaplotypeWindows:
    """A background haplotype's windows: what the model reads for the record on it.

    Attributes
    ----------
    reference, alternate
        Forward-strand texts: SpliceAI's window on the haplotype without the
        record, and with it (SpliceAI's alignment of REF and ALT applies).
    boundary_distance
        The transcript's nearest exon boundary relative to the record, in the
        haplotype's coordinates.
    """

    reference: str
    alternate: str
    boundary_distance: int


def background_windows(
    fetch: Fetch, variant: Variant, cis: Sequence[Variant], *, width: int, boundary_distance: int
) -> HaplotypeWindows:
    """SpliceAI's windows of ``variant`` on the haplotype that carries ``cis``: the reference
    without ``variant``, the alternate with it, centred on its first base."""
    edits = Edits(cis)
    center = edits.to_haplotype(variant.pos - 1)
    start = center - width // 2
    reference = edits.text(fetch, start, start + width)
    alternate = alternate_window(reference, width // 2, variant.ref, variant.alt)
    boundary = variant.pos - 1 + boundary_distance
    shifted = edits.to_haplotype(boundary) - center
    return HaplotypeWindows(reference, alternate, shifted)


def genome_alignment(edits: Edits, first: int, last: int) -> tuple[list[tuple[int, ...]], int, int]:
    """Haplotype coordinates each genome base ``first..last`` (inclusive, 0-based) takes its
    alternate probability from, and the haplotype range ``[lo, hi]`` they span.

    As SpliceAI aligns one variant: a base keeps its own place; within a
    change, REF's bases take ALT's bases in order, the last REF base that has
    one takes it and every ALT base left over (their maximum: an insertion),
    and REF's bases beyond ALT's length are deleted (no position: zero).
    """
    positions: list[tuple[int, ...]] = []
    for genome in range(first, last + 1):
        haplotype, index, offset = edits.locate(genome)
        if index is None:
            positions.append((haplotype,))
            continue
        change = edits.changes[index]
        ref_len, alt_len = len(change.ref), len(change.alt)
        shared = min(ref_len, alt_len)
        if offset < shared - 1 or (offset == shared - 1 and alt_len <= ref_len):
            positions.append((haplotype + offset,))
        elif offset == shared - 1:
            positions.append(tuple(range(haplotype + offset, haplotype + alt_len)))
        else:
            positions.append(())
    used = [p for group in positions for p in group]
    return positions, min(used), max(used)


def combined_window(
    fetch: Fetch, variant: Variant, changes: Sequence[Variant], *, flank: int, distance: int
) -> tuple[str, tuple[tuple[int, ...], ...]]:
    """The whole haplotype (``changes``, the record's own among them) around ``variant``.

    Returns the alternate text and, per genome position ``pos - distance ..
    pos + distance``, the indices of the outputs (of that text) it takes.
    """
    edits = Edits(changes)
    first = variant.pos - 1 - distance
    positions, lo, hi = genome_alignment(edits, first, variant.pos - 1 + distance)
    text = edits.text(fetch, lo - flank // 2, hi + 1 + flank // 2)
    return text, tuple(tuple(p - lo for p in group) for group in positions)


def align_combined(alt_outputs: np.ndarray, positions: Sequence[Sequence[int]]) -> np.ndarray:
    """Alternate probabilities on the genome's positions: a deleted base gets float64 zeros (and
    the track becomes float64, as SpliceAI widens a deletion's), an insertion its maximum."""
    deleted = any(not group for group in positions)
    out = np.zeros((len(positions), alt_outputs.shape[1]), dtype=np.float64 if deleted else alt_outputs.dtype)
    for row, group in enumerate(positions):
        if len(group) == 1:
            out[row] = alt_outputs[group[0]]
        elif group:
            out[row] = alt_outputs[list(group)].max(axis=0)
    return out
