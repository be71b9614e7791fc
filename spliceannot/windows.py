"""Reference and alternate sequence windows around a variant.

This is the one place that turns a variant and a transcript into the text
the model reads, the way SpliceAI 1.3.1 does it:

- the window is ``flank + 2 * distance + 1`` nt wide (``wid``), centred so
  that the variant's first base sits at index ``wid // 2``;
- bases outside the transcript are replaced by ``N``;
- the alternate window is the reference window with REF replaced by ALT.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Variant:
    """One ALT of a VCF record.  ``pos`` is 1-based (VCF POS)."""

    chrom: str
    pos: int
    ref: str
    alt: str


@dataclass(frozen=True)
class WindowGeometry:
    """Where the window of a variant lies on its contig.

    Attributes
    ----------
    width
        ``flank + 2 * distance + 1``.
    start
        0-based first base of the window on the contig; the window is
        ``[start, start + width)``.
    """

    flank: int
    distance: int

    @property
    def coverage(self) -> int:
        """Scored positions: ``2 * distance + 1``."""
        return 2 * self.distance + 1

    @property
    def width(self) -> int:
        return self.flank + self.coverage

    @property
    def center(self) -> int:
        """Index of the variant's first base in the window."""
        return self.width // 2

    def start(self, pos: int) -> int:
        """0-based contig coordinate of the window's first base for 1-based ``pos``."""
        return pos - self.width // 2 - 1

    def end(self, pos: int) -> int:
        """0-based exclusive contig coordinate of the window's end."""
        return pos + self.width // 2

    def padding(self, pos: int, tx_start: int, tx_end: int) -> tuple[int, int]:
        """N-padding (left, right) that masks bases outside ``[tx_start, tx_end)``.

        ``tx_start`` is 0-based, ``tx_end`` exclusive (the table convention).
        """
        half = self.width // 2
        return max(half + tx_start + 1 - pos, 0), max(half - tx_end + pos, 0)


def reference_window(sequence: str, padding: tuple[int, int]) -> str:
    """The reference window: contig ``sequence`` with padded ends set to ``N``."""
    left, right = padding
    width = len(sequence)
    return "N" * left + sequence[left : width - right] + "N" * right


def alternate_window(reference: str, center: int, ref: str, alt: str) -> str:
    """``reference`` with ``ref`` at ``center`` replaced by ``alt``."""
    return reference[:center] + alt + reference[center + len(ref) :]
