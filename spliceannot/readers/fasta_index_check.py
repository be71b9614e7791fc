"""Checking a FASTA index (``.fai``, ``.gzi``) against the FASTA it claims to describe.

An index cut off by a run that was building it raises :class:`Incomplete`
(it is built again); one whose entries disagree with the FASTA (the FASTA
changed after it was indexed) is refused with an :class:`InputError` that
names the line.  :mod:`spliceannot.readers.fasta_index` decides what to do.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

from spliceannot.errors import InputError

_HEADER_PEEK = 512  # bytes read before each contig's sequence to see its header line
_GAP_PEEK = 4096  # bytes read between contigs to see what lies there
_TAIL_BLOCKS = 1 << 20  # compressed bytes decompressed at most to check a bgzip FASTA's tail
_WHITESPACE = b"\r\n\t "


class Incomplete(Exception):
    """An index that a run building it may have left half-written: built again."""


@dataclass(frozen=True)
class IndexEntry:
    """One ``.fai`` line: a contig's name, length and where its sequence lies (byte offsets)."""

    name: str
    length: int
    offset: int
    bases: int  # per line
    width: int  # bytes per line, line end included

    def end(self) -> int:
        """Offset just past the sequence (past the last line's end when that line is full)."""
        full_lines, rest = divmod(self.length, self.bases) if self.bases else (0, 0)
        return self.offset + full_lines * self.width + rest

    def last_base(self) -> int | None:
        """Offset of the last base (None for an empty sequence)."""
        if not self.length or not self.bases:
            return None
        full_lines, rest = divmod(self.length, self.bases)
        if rest:
            return self.offset + full_lines * self.width + rest - 1
        return self.offset + (full_lines - 1) * self.width + self.bases - 1


def read_entries(fai: Path, text: bytes) -> list[IndexEntry]:
    """The entries of the ``.fai`` text ``text``; :class:`Incomplete` if it is empty or cut off."""
    if not text.strip():
        raise Incomplete("empty")
    if not text.endswith(b"\n"):
        raise Incomplete("cut off (its last line is incomplete)")
    entries = []
    for number, line in enumerate(text.decode("utf-8", "replace").splitlines(), start=1):
        fields = line.split("\t")
        try:
            name, length, offset, bases, width = fields[0], *map(int, fields[1:5])
        except (ValueError, IndexError):
            raise Incomplete(f"line {number} is not a FASTA index line") from None
        if not name or min(length, offset, bases, width) < 0 or (length and bases > width):
            raise Incomplete(f"line {number} is not a FASTA index line")
        entries.append(IndexEntry(name, length, offset, bases, width))
    return entries


def _stale(fai: Path, path: Path, number: int, name: str) -> InputError:
    return InputError(
        f"{fai}:{number}: index does not match {path} ({name!r}); the FASTA changed after it "
        "was indexed: delete the .fai so it is rebuilt"
    )


def check_plain(path: Path, fai: Path, entries: list[IndexEntry]) -> None:
    """Check each contig against the FASTA: only line ends and its header line lie between
    the previous contig's last base and its offset (or a contig htslib skipped as a
    duplicate), its first line has the recorded width, its sequence fits in the file; after
    the last contig come only line ends."""
    size = path.stat().st_size
    names = {entry.name for entry in entries}
    previous_end = 0
    with open(path, "rb") as handle:
        for number, entry in enumerate(entries, start=1):
            if not previous_end <= entry.offset <= size:
                raise _stale(fai, path, number, entry.name)
            handle.seek(previous_end)
            gap = handle.read(min(entry.offset - previous_end, _GAP_PEEK))
            between = gap.lstrip(_WHITESPACE)
            name = _header_name(between)
            if len(gap) == entry.offset - previous_end and between.count(b"\n") == 1:
                header_ok = between.endswith(b"\n") and name == entry.name  # the gap is its header
            else:  # a duplicate htslib skipped (or a long header): look right before the offset
                header_ok = (name in names and name is not None) and _header_before(
                    handle, entry.offset
                ) == entry.name
            handle.seek(entry.offset)
            first = handle.read(entry.width)
            last = entry.last_base()
            if last is not None:
                handle.seek(last)
                last = handle.read(2)
            if (
                not header_ok
                or (entry.length > entry.bases and first.find(b"\n") != entry.width - 1)
                or entry.end() > size
                or (last is not None and not _ends_a_line(last))
            ):
                raise _stale(fai, path, number, entry.name)
            previous_end = entry.end()
        handle.seek(previous_end)
        while (rest := handle.read(_GAP_PEEK)) and not rest.strip(_WHITESPACE):
            pass
    name = _header_name(rest.lstrip(_WHITESPACE))
    if rest and name is None:
        raise _stale(fai, path, len(entries), entries[-1].name)
    if rest and name not in names:
        raise Incomplete(f"it stops at {entries[-1].name}, and the FASTA has {name} after it")


def _ends_a_line(pair: bytes) -> bool:
    """Whether ``pair`` is a base followed by a line end (or by the end of the file)."""
    return pair[:1] not in (b"", b"\r", b"\n") and pair[1:] in (b"", b"\r", b"\n")


def _header_before(handle, offset: int) -> str | None:
    """The name on the header line that ends right before ``offset``."""
    start = max(0, offset - _HEADER_PEEK)
    handle.seek(start)
    before = handle.read(offset - start)
    if not before.endswith(b"\n"):
        return None
    lines = before[:-1].rsplit(b"\n", 1)
    if len(lines) == 1 and start > 0:
        return None  # a header longer than the peek: not checked
    return _header_name(lines[-1].lstrip(_WHITESPACE))


def _header_name(data: bytes) -> str | None:
    """The name on the header line at the start of ``data``, or None if it is no header."""
    if not data.startswith(b">"):
        return None
    words = data[1:].split(b"\n", 1)[0].split()
    return words[0].decode("utf-8", "replace") if words else ""


def check_compressed_tail(path: Path, fai: Path, gzi: Path, entries: list[IndexEntry]) -> None:
    """The ``.gzi`` is whole, and after the last contig the bgzip FASTA holds only line ends
    (or a duplicate htslib skipped).  Contigs before the last are not checked here."""
    try:
        blocks = _gzi_blocks(gzi)
    except FileNotFoundError:
        raise Incomplete(f"{gzi} is missing") from None
    last = entries[-1]
    end = last.end()
    last_base = last.last_base()
    first = end if last_base is None else last_base
    start_compressed, start_plain = max((b for b in blocks if b[1] <= first), key=lambda b: b[1])
    with open(path, "rb") as handle:
        handle.seek(start_compressed)
        data = handle.read(_TAIL_BLOCKS + 1)
    if len(data) > _TAIL_BLOCKS:
        raise Incomplete(f"it stops at {last.name}, long before the end of the FASTA")
    tail = _inflate(data, path)
    if end - start_plain > len(tail) or (
        last_base is not None
        and not _ends_a_line(tail[last_base - start_plain : last_base - start_plain + 2])
    ):
        raise _stale(fai, path, len(entries), last.name)
    following = tail[end - start_plain :].lstrip(_WHITESPACE)
    if following:
        name = _header_name(following)
        if name is None:
            raise _stale(fai, path, len(entries), last.name)
        if name not in {entry.name for entry in entries}:
            raise Incomplete(f"it stops at {last.name}, and the FASTA has {name} after it")


def _gzi_blocks(gzi: Path) -> list[tuple[int, int]]:
    """``(compressed, uncompressed)`` offsets of the bgzip blocks, the first one included."""
    data = gzi.read_bytes()
    if len(data) < 8:
        raise Incomplete(f"{gzi} is cut off")
    (count,) = struct.unpack("<Q", data[:8])
    if len(data) != 8 + 16 * count:
        raise Incomplete(f"{gzi} is cut off")
    pairs = struct.unpack(f"<{2 * count}Q", data[8:])
    return [(0, 0)] + list(zip(pairs[0::2], pairs[1::2]))


def _inflate(data: bytes, path: Path) -> bytes:
    """The bytes of consecutive gzip members (bgzip blocks) in ``data``."""
    out = []
    while data:
        inflater = zlib.decompressobj(31)
        try:
            out.append(inflater.decompress(data))
        except zlib.error as error:
            raise InputError(f"{path}: cannot read the bgzip FASTA: {error}") from None
        if not inflater.eof:
            raise InputError(f"{path}: cannot read the bgzip FASTA: it is cut off")
        data = inflater.unused_data
    return b"".join(out)
