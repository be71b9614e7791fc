"""Splice-site tracks written from blocks of probabilities: bedGraph, bigWig, BED and HDF5.

A :class:`Block` holds the probabilities of consecutive positions of one
contig and strand in genomic order; a :class:`TrackWriter` is fed blocks
contig by contig and writes temporary files beside its targets, which
appear at their paths only when :meth:`TrackWriter.publish` is called
(after a complete run).  Coordinates are 0-based half-open in every format.

Which tracks a block holds is a mapping ``name -> column of Block.probs``
(``tracks``), in output order: SpliceAI's :data:`CLASS_COLUMNS` (acceptor,
donor; the default) or, for Pangolin, one column per tissue.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from spliceannot.atomic import discard, publish, temporary_beside
from spliceannot.classes import SITE_CLASSES
from spliceannot.errors import InputError

STRANDS = ("+", "-")
STRAND_WORDS = {"+": "plus", "-": "minus"}
CLASS_COLUMNS = SITE_CLASSES  # columns of a probability array
Tracks = Mapping[str, int]  # track name -> column of Block.probs, in output order
VALUE_FORMAT = "{:.4g}"
HDF5_FORMAT = "spliceannot-predict"
HDF5_VERSION = "1"


@dataclass(frozen=True)
class Block:
    """Probabilities of consecutive positions of one contig and strand.

    Attributes
    ----------
    contig
        The FASTA's name.
    strand
        ``+`` or ``-``.
    start
        0-based genomic coordinate of ``probs[0]``.
    probs
        float32 ``(n, columns)`` in *genomic* order: ``probs[i]`` is genomic
        base ``start + i``, on either strand.  Columns: neither, acceptor,
        donor (SpliceAI) or one per tissue (Pangolin).
    """

    contig: str
    strand: str
    start: int
    probs: np.ndarray

    @property
    def end(self) -> int:
        return self.start + len(self.probs)


class _Staged:
    """Temporary files beside their targets, published together by :meth:`publish`."""

    def __init__(self) -> None:
        self.pairs: list[tuple[str, Path]] = []

    def add(self, path: str | os.PathLike) -> str:
        target = Path(path)
        temporary = temporary_beside(target)
        self.pairs.append((temporary, target))
        return temporary

    def publish(self) -> None:
        for temporary, target in self.pairs:
            publish(temporary, target)
        self.pairs = []

    def discard(self) -> None:
        for temporary, _ in self.pairs:
            discard(temporary)
        self.pairs = []


class TrackWriter:
    """A file format fed contig by contig with :class:`Block` s.

    Blocks arrive per contig in FASTA order; within a contig, each strand's
    blocks arrive in genomic order (the strands may interleave).
    """

    def __init__(self) -> None:
        self._staged = _Staged()

    @property
    def paths(self) -> list[Path]:
        return [target for _, target in self._staged.pairs]

    def begin_contig(self, contig: str, length: int) -> None:
        """A new contig starts."""

    def write(self, block: Block) -> None:
        raise NotImplementedError

    def end_contig(self, contig: str) -> None:
        """The contig's blocks are all written."""

    def close(self) -> None:
        """Flush and close the temporary files (not yet at their paths)."""

    def publish(self) -> None:
        """Move the complete files to their paths."""
        self._staged.publish()

    def abort(self) -> None:
        """Close quietly and delete the temporary files."""
        with contextlib.suppress(Exception):
            self.close()
        self._staged.discard()


def track_paths(
    prefix: str | os.PathLike, suffix: str, strands: Sequence[str], names: Iterable[str] = CLASS_COLUMNS
) -> dict[tuple[str, str], Path]:
    """``PREFIX.TRACK.STRAND.SUFFIX`` per (track, strand), e.g. ``out.acceptor.plus.bedGraph``."""
    return {
        (name, strand): Path(f"{os.fspath(prefix)}.{name}.{STRAND_WORDS[strand]}.{suffix}")
        for name in names
        for strand in strands
    }


def format_values(values: np.ndarray) -> list[str]:
    """Probabilities as printed: ``%.4g`` of the float32 value."""
    return [VALUE_FORMAT.format(v) for v in values.tolist()]


class BedGraphWriter(TrackWriter):
    """bedGraph per track and strand of the positions with ``p >= threshold``.

    Runs of adjacent positions whose *printed* values are equal are merged
    into one line, whatever the chunks, so the text depends only on the
    probabilities.  No track line; 0-based half-open coordinates.
    """

    def __init__(
        self, prefix: str | os.PathLike, strands: Sequence[str], threshold: float, tracks: Tracks = CLASS_COLUMNS
    ) -> None:
        super().__init__()
        self.threshold = np.float32(threshold)
        self.tracks = dict(tracks)
        self._handles = {}
        self._pending: dict[tuple[str, str], list | None] = {}
        for key, path in track_paths(prefix, "bedGraph", strands, self.tracks).items():
            self._handles[key] = open(self._staged.add(path), "w", encoding="ascii", newline="\n")
            self._pending[key] = None

    def write(self, block: Block) -> None:
        for name, column in self.tracks.items():
            key = (name, block.strand)
            if key not in self._handles:
                continue
            values = block.probs[:, column]
            index = np.flatnonzero(values >= self.threshold)
            if not len(index):
                continue
            lines = []
            pending = self._pending[key]  # [contig, start, end, text] of the open run
            positions = (index + block.start).tolist()
            for position, text in zip(positions, format_values(values[index])):
                same = pending and pending[0] == block.contig and pending[3] == text
                if same and pending[2] == position:
                    pending[2] += 1
                    continue
                if pending:
                    lines.append(_bedgraph_line(pending))
                pending = [block.contig, position, position + 1, text]
            self._pending[key] = pending
            self._handles[key].write("".join(lines))

    def end_contig(self, contig: str) -> None:
        for key, pending in self._pending.items():
            if pending:
                self._handles[key].write(_bedgraph_line(pending))
            self._pending[key] = None

    def close(self) -> None:
        for handle in self._handles.values():
            handle.close()


def _bedgraph_line(run: list) -> str:
    return f"{run[0]}\t{run[1]}\t{run[2]}\t{run[3]}\n"


class BedWriter(TrackWriter):
    """Called sites (``p >= threshold``) as BED6+1, sorted by position, strand, track.

    Columns: contig, start, end (the one labelled base), the track's name
    (``acceptor`` or ``donor``; a tissue for Pangolin), score
    ``min(1000, int(1000 * p))``, strand, probability (``%.4g``).  A
    contig's calls are held until its end, then sorted.
    """

    def __init__(self, path: str | os.PathLike, threshold: float, tracks: Tracks = CLASS_COLUMNS) -> None:
        super().__init__()
        self.threshold = np.float32(threshold)
        self.tracks = dict(tracks)
        self._handle = open(self._staged.add(path), "w", encoding="ascii", newline="\n")
        self._calls: list[tuple[np.ndarray, int, int, np.ndarray]] = []
        self.count = 0

    def write(self, block: Block) -> None:
        strand_rank = STRANDS.index(block.strand)
        for rank, column in enumerate(self.tracks.values()):
            values = block.probs[:, column]
            index = np.flatnonzero(values >= self.threshold)
            if len(index):
                self._calls.append((index + block.start, strand_rank, rank, values[index]))

    def end_contig(self, contig: str) -> None:
        if not self._calls:
            return
        positions = np.concatenate([c[0] for c in self._calls])
        strands = np.concatenate([np.full(len(c[0]), c[1], dtype=np.int8) for c in self._calls])
        classes = np.concatenate([np.full(len(c[0]), c[2], dtype=np.int8) for c in self._calls])
        values = np.concatenate([c[3] for c in self._calls])
        self._calls = []
        order = np.lexsort((classes, strands, positions))
        names = list(self.tracks)
        lines = []
        for position, strand, rank, value, text in zip(
            positions[order].tolist(), strands[order].tolist(), classes[order].tolist(),
            values[order].tolist(), format_values(values[order]),
        ):  # fmt: skip
            score = min(1000, int(1000 * value))
            fields = (contig, position, position + 1, names[rank], score, STRANDS[strand], text)
            lines.append("\t".join(map(str, fields)) + "\n")
        self._handle.write("".join(lines))
        self.count += len(lines)

    def close(self) -> None:
        self._handle.close()


def require_pybigwig():
    """Import pyBigWig, or raise InputError saying how to install it."""
    try:
        import pyBigWig
    except ImportError:
        raise InputError("--bigwig needs pyBigWig: pip install pyBigWig") from None
    return pyBigWig


class BigWigWriter(TrackWriter):
    """Full-resolution bigWig per track and strand: every predicted position, float32.

    Parameters
    ----------
    lengths
        Every contig and its length, in the order the blocks will arrive
        (the FASTA's order): the files' header.
    tracks
        Track name -> column of the blocks.
    """

    def __init__(
        self,
        prefix: str | os.PathLike,
        strands: Sequence[str],
        lengths: Sequence[tuple[str, int]],
        tracks: Tracks = CLASS_COLUMNS,
    ) -> None:
        super().__init__()
        pyBigWig = require_pybigwig()
        self.tracks = dict(tracks)
        self._files = {}
        header = [(name, int(length)) for name, length in lengths if length > 0]
        for key, path in track_paths(prefix, "bw", strands, self.tracks).items():
            handle = pyBigWig.open(self._staged.add(path), "w")
            if handle is None:
                raise InputError(f"{path}: cannot write a bigWig file here")
            self._files[key] = handle
            handle.addHeader(header, maxZooms=10)

    def write(self, block: Block) -> None:
        for name, column in self.tracks.items():
            handle = self._files.get((name, block.strand))
            if handle is not None and len(block.probs):
                values = block.probs[:, column].astype(np.float64)
                handle.addEntries(block.contig, block.start, values=values, span=1, step=1)

    def close(self) -> None:
        for handle in self._files.values():
            handle.close()
        self._files = {}


def _hdf5_name(contig: str) -> str:
    return contig.replace("%", "%25").replace("/", "%2F")


class Hdf5Writer(TrackWriter):
    """Full-resolution arrays: dataset ``/<contig>/<plus|minus>`` of shape ``(length, tracks)``.

    One column per track (acceptor, donor; or Pangolin's tissues), named in
    the file's ``columns`` attribute; positions that were not predicted hold
    NaN.  ``/`` and ``%`` in contig names are written ``%2F`` and ``%25``;
    each group's ``contig`` attribute holds the real name.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        strands: Sequence[str],
        dtype: str = "float16",
        attributes: dict | None = None,
        tracks: Tracks = CLASS_COLUMNS,
    ) -> None:
        super().__init__()
        import h5py

        self.strands = tuple(strands)
        self.dtype = np.dtype(dtype)
        self.columns = list(dict(tracks).values())
        self._file = h5py.File(self._staged.add(path), "w")
        attrs = self._file.attrs
        attrs["format"], attrs["version"] = HDF5_FORMAT, HDF5_VERSION
        attrs["columns"] = list(tracks)
        attrs["coordinates"] = "row i = 0-based genomic base i; NaN = not predicted"
        for key, value in (attributes or {}).items():
            attrs[key] = value
        self._datasets: dict[str, object] = {}

    def begin_contig(self, contig: str, length: int) -> None:
        group = self._file.create_group(_hdf5_name(contig))
        group.attrs["contig"] = contig
        group.attrs["length"] = length
        if length == 0:
            self._datasets = {}
            return
        width = len(self.columns)
        chunk = (min(length, 1 << 16), width)
        self._datasets = {
            strand: group.create_dataset(
                STRAND_WORDS[strand], (length, width), dtype=self.dtype, chunks=chunk,
                fillvalue=np.nan, compression="gzip", compression_opts=1, shuffle=True,
            )  # fmt: skip
            for strand in self.strands
        }

    def write(self, block: Block) -> None:
        dataset = self._datasets.get(block.strand)
        if dataset is not None and len(block.probs):
            dataset[block.start : block.end] = block.probs[:, self.columns].astype(self.dtype)

    def close(self) -> None:
        if self._file:
            self._file.close()
