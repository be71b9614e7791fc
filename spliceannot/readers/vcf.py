"""Reading VCF, bgzipped VCF and BCF, each record with the text line it came from.

htslib (through pysam) parses every record, so what is accepted and what is
refused is what bcftools accepts.  Text input is read here, line by line,
and handed to htslib through a pipe: each record comes back paired with its
line exactly as written (so it can be written out unchanged, byte for byte)
and with its line number (so an error names the line, on standard input and
pipes too).  BCF files are read by htslib directly; a BCF arriving on a pipe
is copied through to it unchanged.  The thread that writes into the pipe is
:mod:`spliceannot.readers.feeder`; ``--regions`` is
:mod:`spliceannot.readers.regions`.
"""

from __future__ import annotations

import gzip
import io
import os
import socket
import stat
import sys
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from spliceannot.errors import InputError
from spliceannot.readers.feeder import (
    CHUNK,
    Feeder,
    raw_bytes,
    read_error_reason,
    tabix_lines,
    text_lines,
)
from spliceannot.readers.regions import (
    Region,
    check_index,
    first_sightings,
    indexed_regions,
)

STDIN = "-"
NOT_TEXT = "<not UTF-8>"  # stands for a field pysam cannot decode; it never matches and is never scored
# INFO keys whose definition in an input header is replaced by the annotator's own
OWN_INFO = ("SpliceAI",)
_GZIP_MAGIC = b"\x1f\x8b"
_BCF_MAGIC = b"BCF"


def display_name(path: str) -> str:
    return "<stdin>" if path == STDIN else path


@dataclass(frozen=True, slots=True)
class InputRecord:
    """One input record: htslib's parse of it and, for text input, its line.

    Attributes
    ----------
    record
        The pysam ``VariantRecord``.
    line
        The record's line as written, without its line end (``None`` for BCF
        input, which has no text).
    number
        The line's 1-based number in the input (``None`` for BCF input and
        for lines fetched by ``--regions``).
    """

    record: object
    line: bytes | None = None
    number: int | None = None

    @property
    def chrom(self) -> str:
        """CHROM (:data:`NOT_TEXT` for one that is not UTF-8)."""
        try:
            return self.record.chrom
        except UnicodeDecodeError:
            return NOT_TEXT

    @property
    def pos(self) -> int:
        """1-based POS."""
        return self.record.pos


# --------------------------------------------------------------------------- the source


class VariantSource:
    """An open VCF/BCF input: its header and its records (see :func:`open_variants`).

    Attributes
    ----------
    header
        The pysam ``VariantHeader``; records refer to it.
    path
        The input path (``-`` = standard input).
    """

    def __init__(
        self,
        path: str,
        handle,
        *,
        feeder: Feeder | None = None,
        closers=(),
        regions: list[Region] | None = None,
    ) -> None:
        self.path = path
        self.handle = handle
        self.header = handle.header
        self._feeder = feeder
        self._closers = list(closers)
        self._regions = regions

    def __iter__(self) -> Iterator[InputRecord]:
        return self.records()

    def records(self) -> Iterator[InputRecord]:
        """The records, in input order (or as ``bcftools view -r`` gives the regions).

        Raises
        ------
        InputError
            A malformed record (naming the file and line), an unreadable or
            truncated input.
        """
        if self._regions is not None and self._feeder is None:  # an indexed BCF
            tagged = (
                (index, InputRecord(record))
                for index, region in enumerate(self._regions)
                for record in self.handle.fetch(region.contig, region.start0, region.end0)
            )
            return first_sightings(self._regions, tagged)
        if self._regions is not None:
            return first_sightings(self._regions, self._parsed())
        return (item for _, item in self._parsed())

    def _parsed(self) -> Iterator[tuple[int, InputRecord]]:
        """``(tag, record)`` pairs: each record htslib parses, with the line the feeder noted for it."""
        pending = self._feeder.pending if self._feeder is not None and self._feeder.lines else None
        iterator = iter(self.handle)
        count = 0
        while True:
            try:
                record = next(iterator)
            except StopIteration:
                break
            except OSError:
                self._raise_feeder_error()
                raise InputError(self._malformed(count + 1)) from None
            count += 1
            if pending is None:
                yield 0, InputRecord(record)
            else:
                tag, number, line = pending.popleft()
                yield tag, InputRecord(record, line, number)
        self._raise_feeder_error()

    def _raise_feeder_error(self) -> None:
        if self._feeder is not None:
            self._feeder.join(timeout=None if self._feeder.error is not None else 10)
            if self._feeder.error is not None:
                raise self._feeder.error

    def _malformed(self, record_number: int) -> str:
        name = display_name(self.path)
        if self._feeder is None or not self._feeder.pending:
            return f"{name}: record {record_number}: malformed VCF record"
        _, number, line = self._feeder.pending[0]
        text = line.decode("utf-8", "replace")
        shown = text if len(text) <= 80 else text[:77] + "..."
        where = f"{name}:{number}" if number is not None else f"{name}: record {record_number}"
        return f"{where}: malformed VCF record: {shown!r}"

    def close(self) -> None:
        """Close the input; a feeder still writing stops when its pipe breaks (it closes its own files)."""
        self.handle.close()
        if self._feeder is not None:
            self._feeder.stopped = True
        closers, self._closers = self._closers, []
        for close in closers:
            close()

    def __enter__(self) -> VariantSource:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_variants(
    path: str,
    *,
    threads: int = 0,
    own_info: tuple[str, ...] = OWN_INFO,
    regions: list[str] | None = None,
) -> VariantSource:
    """Open a VCF/BCF for reading (``-`` = standard input; named pipes too).

    Parameters
    ----------
    path
        Plain, gzip- or bgzip-compressed VCF, or BCF.
    threads
        htslib decompression threads (BCF).
    own_info
        INFO keys whose definition in the input header is dropped (the
        annotator adds its own).
    regions
        ``--regions``: only records in these regions (see
        :meth:`VariantSource.records`); needs a bgzipped VCF or BCF file with
        an up-to-date ``.tbi``/``.csi`` index.

    Raises
    ------
    InputError
        Missing, unreadable or non-VCF input, an unusable index; the message
        names the file.
    """
    import pysam

    pysam.set_verbosity(0)
    mode = _check_path(path)
    feeder = None
    merged = None
    closers: list[Callable[[], None]] = []
    if regions:
        if mode != "file":
            raise InputError(f"{display_name(path)}: --regions needs an indexed file, not a stream")
        check_index(path)
    if mode == "file" and _file_is_bcf(path):
        handle = _pysam_open(pysam, path, threads=threads)
        if regions:
            try:
                merged = indexed_regions(regions, set(handle.header.contigs), path)
            except InputError:
                handle.close()
                raise
    elif regions:
        try:
            tabix = pysam.TabixFile(path, encoding="latin-1")
        except (OSError, ValueError) as error:
            raise InputError(f"{path}: cannot use its index for --regions: {error}") from None
        try:
            merged = indexed_regions(regions, set(tabix.contigs), path)
        except InputError:
            tabix.close()
            raise
        feeder, handle = _through_pipe(
            pysam, path, tabix_lines(tabix, merged), [tabix.close], closers
        )
    else:
        stream = _open_stream(path)
        try:
            is_bcf = stream.peek(len(_BCF_MAGIC))[: len(_BCF_MAGIC)] == _BCF_MAGIC
        except (OSError, EOFError, zlib.error) as error:
            stream.close()
            raise InputError(
                f"{display_name(path)}: not a readable VCF/BCF file ({read_error_reason(error)})"
            ) from None
        produce = raw_bytes(stream) if is_bcf else text_lines(stream)
        feeder, handle = _through_pipe(
            pysam, path, produce, [stream.close], closers, lines=not is_bcf
        )
    source = VariantSource(path, handle, feeder=feeder, closers=closers, regions=merged)
    for key in own_info:
        if key in source.header.info:
            source.header.info.remove_header(key)
    return source


def _check_path(path: str) -> str:
    """``stream`` (stdin, a pipe) or ``file`` (a regular file); refuses what cannot be a VCF."""
    if path == STDIN:
        return "stream"
    p = Path(path)
    if not p.exists():
        if p.is_symlink():
            raise InputError(f"{path}: broken or looping symbolic link")
        raise InputError(f"{path}: input VCF not found")
    if p.is_dir():
        raise InputError(f"{path}: is a directory, expected a VCF/BCF file")
    if not os.access(p, os.R_OK):
        raise InputError(f"{path}: permission denied")
    mode = p.stat().st_mode
    if stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode):
        return "stream"
    if not stat.S_ISREG(mode):
        raise InputError(f"{path}: is a device, expected a VCF/BCF file")
    if p.stat().st_size == 0:
        raise InputError(f"{path}: empty file, expected a VCF/BCF header")
    return "file"


def _file_is_bcf(path: str) -> bool:
    with open(path, "rb") as handle:
        head = handle.read(2)
        handle.seek(0)
        if head == _GZIP_MAGIC:
            try:
                head = gzip.GzipFile(fileobj=handle).read(3)
            except (OSError, EOFError):
                return False  # reported when the text reader fails on it
        else:
            head += handle.read(1)
    return head == _BCF_MAGIC


def _open_stream(path: str) -> io.BufferedReader:
    """The input's bytes, decompressed when gzip/bgzip compressed."""
    if path == STDIN:
        try:
            raw = io.BufferedReader(io.FileIO(os.dup(sys.stdin.fileno()), "rb"), CHUNK)
        except (AttributeError, ValueError, io.UnsupportedOperation):  # stdin replaced in-process
            raw = io.BufferedReader(getattr(sys.stdin, "buffer", sys.stdin), CHUNK)
    else:
        raw = io.BufferedReader(io.FileIO(path, "rb"), CHUNK)
    if raw.peek(2)[:2] == _GZIP_MAGIC:
        return io.BufferedReader(gzip.GzipFile(fileobj=raw, mode="rb"), CHUNK)
    return raw


def _through_pipe(
    pysam, path: str, produce: Callable, resources: list, closers: list, *, lines: bool = True
):
    """Start a feeder writing into a pipe and open htslib on the other end.

    htslib reads a duplicate of the pipe's read end; ours goes into
    ``closers`` (closed with the source, which breaks the pipe under a feeder
    still writing).  ``resources`` are the feeder's to close when it ends.
    """
    read_end, write_end = socket.socketpair()
    read_end.shutdown(socket.SHUT_WR)
    write_end.shutdown(socket.SHUT_RD)
    reader = io.FileIO(read_end.detach(), "rb", closefd=True)
    feeder = Feeder(display_name(path), produce, write_end, lines=lines)
    feeder.resources = list(resources)
    feeder.start()
    try:
        handle = _pysam_open(pysam, reader, name=path)
    except InputError:
        reader.close()
        feeder.join(timeout=10)
        if feeder.error is not None:
            raise feeder.error from None
        raise
    closers.append(reader.close)
    return feeder, handle


def _pysam_open(pysam, source, *, name: str | None = None, threads: int = 0):
    name = display_name(name if name is not None else source)
    try:
        handle = pysam.VariantFile(source, "r", threads=threads)
    except (OSError, ValueError, NotImplementedError) as error:
        raise InputError(f"{name}: not a readable VCF/BCF file ({error})") from None
    except TypeError:  # pysam cannot name a stream in the OSError it builds for a failed open
        raise InputError(
            f"{name}: not a readable VCF/BCF file (htslib cannot parse its header)"
        ) from None
    if handle.format not in ("VCF", "BCF"):
        handle.close()
        raise InputError(f"{name}: not a VCF/BCF file (found {handle.format})")
    return handle
