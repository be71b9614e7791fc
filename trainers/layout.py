"""The HDF5 layout of splice-site training data, and a reader for it.

One file per split (``train.h5``, ``validation.h5``, ``test.h5``), written by
``spliceannot create-data``.  Every row is one *window*: 5,000 labelled
positions of one gene in transcript orientation, with 5,000 nt of context on
each side, so one file serves every flank (80, 400, 2,000, 10,000): a model
of flank ``F`` reads the central ``5,000 + F`` nucleotides.

Datasets (``n`` = number of windows)
-----------------------------------
``x``       int8 ``(n, 15000, 4)``: one-hot sequence, channels A, C, G, T; N
            (and anything else) is all zeros.  Minus-strand genes are
            reverse-complemented, so position 0 is always upstream.
``y``       int8 ``(n, 5000)``: 0 neither, 1 acceptor (first base of an exon
            that follows an intron), 2 donor (last base of an exon that
            precedes an intron), -1 unlabelled (past the end of the gene:
            padding that carries no loss and no metric).
``chrom``   string ``(n,)``: the contig.
``strand``  string ``(n,)``: ``+`` or ``-``.
``gene``    string ``(n,)``: gene name (SpliceAI's SYMBOL).
``start``   int64 ``(n,)``: 0-based genomic coordinate of label position 0.
            On ``-`` genes label position ``i`` is genomic ``start - i``; on
            ``+`` genes ``start + i``.

File attributes: ``format`` (= :data:`FORMAT`), ``version``, ``context``
(5000, per side), ``positions`` (5000), ``classes``, ``split`` and the
provenance of the run (FASTA, annotation, options, seed).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from spliceannot.classes import CLASSES  # noqa: F401 - the labels y holds, re-exported

FORMAT = "spliceannot-splice-data"
VERSION = 1
CONTEXT = 5000  # nt of sequence context on each side of the labelled block
POSITIONS = 5000  # labelled positions per window
WIDTH = POSITIONS + 2 * CONTEXT
UNLABELLED = -1
SPLITS = ("train", "validation", "test")


class SpliceData:
    """Read windows of one split file, cropped to a model's flank.

    Parameters
    ----------
    path
        An HDF5 file in the layout above.

    Raises
    ------
    ValueError
        If the file is not in this layout; the message names the file.
    """

    def __init__(self, path: str | os.PathLike) -> None:
        import h5py

        self.path = Path(path)
        try:
            self._file = h5py.File(self.path, "r")
        except OSError as error:
            raise ValueError(f"{self.path}: not a readable HDF5 file ({error})") from None
        attrs = self._file.attrs
        if attrs.get("format") != FORMAT or "x" not in self._file or "y" not in self._file:
            self._file.close()
            raise ValueError(f"{self.path}: not spliceannot training data (made by create-data)")
        self.x = self._file["x"]
        self.y = self._file["y"]
        self.attrs = dict(attrs)

    def __len__(self) -> int:
        return int(self.y.shape[0])

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> SpliceData:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def batch(self, indices, flank: int) -> tuple[np.ndarray, np.ndarray]:
        """One-hot ``(b, 4, 5000 + flank)`` float32 and labels ``(b, 5000)`` int64.

        ``indices`` may come in any order; rows are returned in that order.
        """
        indices = np.asarray(indices, dtype=np.int64)
        order = np.argsort(indices, kind="stable")
        ordered = indices[order]
        half = flank // 2
        lo, hi = CONTEXT - half, CONTEXT + POSITIONS + half
        x = np.empty((len(indices), hi - lo, 4), dtype=np.int8)
        y = np.empty((len(indices), POSITIONS), dtype=np.int8)
        for slot, row in zip(order, ordered):
            x[slot] = self.x[row, lo:hi]
            y[slot] = self.y[row]
        return np.ascontiguousarray(x.transpose(0, 2, 1), dtype=np.float32), y.astype(np.int64)

    def labels(self) -> np.ndarray:
        """All labels ``(n, 5000)`` int8."""
        return self.y[:]
