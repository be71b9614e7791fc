"""Windows: cut, mask outside the transcript, orient, encode -- the one place.

Every path that turns genome sequence into model input goes through here:
scoring (:mod:`spliceannot.tracks`), ISM (:mod:`spliceannot.ism`), genome-wide
predict and create-data (``spliceannot.trainers``).  For a variant the
window is what SpliceAI 1.3.1 reads:

- it is ``flank + 2 * distance + 1`` nt wide (``wid``), centred so that the
  variant's first base sits at index ``wid // 2`` (:class:`WindowGeometry`);
- bases outside the transcript are replaced by ``N`` (:func:`reference_window`);
- the alternate window is the reference window with REF replaced by ALT
  (:func:`alternate_window`);
- minus-strand windows are reverse-complemented before the model reads them
  (:func:`encode` for text, :func:`window_codes` for bulk base codes).

Positions follow :mod:`spliceannot.values`: variant positions are 1-based,
contig coordinates and spans 0-based half-open.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spliceannot.encoding import BASE_CODES, COMPLEMENT_CODES, one_hot, reverse_complement
from spliceannot.values import Span

MAX_DISTANCE = 4999
"""The largest ``-D`` (SpliceAI accepts 0..4999)."""


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
    covers_ref
        False: SpliceAI's window, the same width whatever the REF length.
        True: Pangolin's, which reaches ``len(REF) - 1`` bases further right
        so that every REF base is scored (the ``ref_len`` arguments).
    """

    flank: int
    distance: int
    covers_ref: bool = False

    def reach(self, ref_len: int) -> int:
        """How many bases beyond :attr:`width` the window of a ``ref_len``-base REF reaches."""
        return max(ref_len - 1, 0) if self.covers_ref else 0

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

    def end(self, pos: int, ref_len: int = 1) -> int:
        """0-based exclusive contig coordinate of the window's end."""
        return pos + self.width // 2 + self.reach(ref_len)

    def padding(self, pos: int, tx_start: int, tx_end: int, ref_len: int = 1) -> tuple[int, int]:
        """N-padding (left, right) that masks bases outside ``[tx_start, tx_end)``.

        ``tx_start`` is 0-based, ``tx_end`` exclusive (the table convention).
        """
        half = self.width // 2
        return max(half + tx_start + 1 - pos, 0), max(half + self.reach(ref_len) - tx_end + pos, 0)


def reference_window(sequence: str, padding: tuple[int, int]) -> str:
    """The reference window: contig ``sequence`` with padded ends set to ``N``."""
    left, right = padding
    width = len(sequence)
    return "N" * left + sequence[left : width - right] + "N" * right


def alternate_window(reference: str, center: int, ref: str, alt: str) -> str:
    """``reference`` with ``ref`` at ``center`` replaced by ``alt``."""
    return reference[:center] + alt + reference[center + len(ref) :]


def encode(text: str, strand: str, encoding: str = "spliceai") -> np.ndarray:
    """One-hot ``(len(text), 4)`` float32 of forward-strand ``text`` in model orientation.

    ``strand`` ``-``: reverse complement.  ``encoding``: see :mod:`spliceannot.encoding`.
    """
    encoded = one_hot(text, encoding)
    return np.ascontiguousarray(reverse_complement(encoded)) if strand == "-" else encoded


def window_codes(
    sequence: bytes | bytearray, start: int, end: int, strand: str, shown: Span | None = None
) -> np.ndarray:
    """Base codes of ``sequence[start:end]`` in model orientation.

    Parameters
    ----------
    sequence
        A whole contig (any case; letters other than A, C, G, T read as N).
    start, end
        0-based half-open; may reach past either end of ``sequence``.
    strand
        ``+``: as is; ``-``: reverse complement.
    shown
        Bases outside this span read as N (the transcript mask); None: the
        whole contig is shown.

    Returns
    -------
    numpy.ndarray
        uint8 ``(end - start,)``: 0 N (also beyond the contig's ends), 1 A,
        2 C, 3 G, 4 T.
    """
    codes = np.zeros(end - start, dtype=np.uint8)
    lo, hi = max(start, 0), min(end, len(sequence))
    if shown is not None:
        lo, hi = max(lo, shown.start), min(hi, shown.end)
    if hi > lo:
        raw = np.frombuffer(sequence, dtype=np.uint8, count=hi - lo, offset=lo)
        codes[lo - start : hi - start] = BASE_CODES[raw]
    if strand == "-":
        codes = COMPLEMENT_CODES[codes[::-1]]
    return codes
