"""FASTA indexes (``.fai``, and ``.gzi`` for bgzip): checked before use, built atomically.

htslib builds a missing index in place, writing the ``.fai`` as it goes; a
run that opens the FASTA meanwhile reads part of an index and silently sees
only some contigs.  Here:

- An existing index is checked against the FASTA first.  An empty or cut-off
  ``.fai``, or one that stops before the FASTA's last contig, is built again;
  one whose entries disagree with the FASTA (the FASTA changed after it was
  indexed) is refused with a one-line message.
- A missing index is built by htslib into temporary files beside the FASTA
  and renamed into place (the ``.gzi`` before the ``.fai``), so runs started
  together each see either no index or a complete one.
- Where the FASTA's directory cannot be written, the index is kept in the
  cache directory instead (``$SPLICEANNOT_CACHE/fasta-index/``, default
  ``~/.cache/spliceannot``), named by the FASTA's path, size and time.
- A FASTA htslib cannot index gets a message that says why, with the line:
  a blank line inside a sequence, mixed line endings, unequal line lengths.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

from spliceannot.atomic import discard, publish
from spliceannot.errors import InputError

log = logging.getLogger(__name__)

CACHE_SUBDIRECTORY = "fasta-index"
_HEADER_PEEK = 512  # bytes read before each contig's sequence to see its header line
_GAP_PEEK = 4096  # bytes read between contigs to see what lies there
_TAIL_BLOCKS = 1 << 20  # compressed bytes decompressed at most to check a bgzip FASTA's tail
_WHITESPACE = b"\r\n\t "


@dataclass(frozen=True)
class IndexFiles:
    """Where a FASTA's index lies (``gzi`` only for a bgzip-compressed FASTA)."""

    fai: str
    gzi: str | None


class _Incomplete(Exception):
    """An index that a run building it may have left half-written: built again."""


class _Unwritable(Exception):
    """The index cannot be written where it was to go."""


def ensure_index(path: str | os.PathLike) -> IndexFiles:
    """A complete index of ``path`` that matches it, built first if need be.

    Raises
    ------
    InputError
        If the FASTA is not one htslib can index (the message says why and
        where), its index does not match it, or no index can be written.
    """
    path = Path(path)
    compressed = _is_bgzf(path)
    beside = IndexFiles(f"{path}.fai", f"{path}.gzi" if compressed else None)
    try:
        if _complete(path, beside, compressed):
            return beside
        return _build(path, beside, compressed)
    except _Unwritable as error:
        reason = error.args[0]
    elsewhere = _cache_location(path, compressed)
    try:
        if _complete(path, elsewhere, compressed):
            return elsewhere
        built = _build(path, elsewhere, compressed)
    except _Unwritable:
        raise InputError(
            f"cannot write index {beside.fai}: {reason} (directory not writable), nor in "
            f"{Path(elsewhere.fai).parent}: make the directory writable, index the FASTA with "
            "`samtools faidx` where it can be written, or set SPLICEANNOT_CACHE to a writable directory"
        ) from None
    log.warning("cannot write %s (%s): the index is kept in %s", beside.fai, reason, built.fai)
    return built


def _is_bgzf(path: Path) -> bool:
    """Whether ``path`` is bgzip-compressed; a plain-gzip FASTA is refused (htslib cannot seek in it)."""
    with open(path, "rb") as handle:
        head = handle.read(18)
    if head[:2] != b"\x1f\x8b":
        return False
    if len(head) >= 14 and head[3] & 4 and head[12:14] == b"BC":
        return True
    raise InputError(
        f"{path}: cannot open reference FASTA: it is gzip-compressed, and a gzip FASTA must be "
        "bgzip-compressed: `zcat ref.fa.gz | bgzip > ref.fa.bgz`"
    )


# ----------------------------------------------------------------------------- checking


def _complete(path: Path, files: IndexFiles, compressed: bool) -> bool:
    """Whether ``files`` index ``path`` completely; False if absent or incomplete (logged).

    Raises InputError when the index is whole but describes another FASTA.
    """
    fai = Path(files.fai)
    try:
        text = fai.read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        return False
    except OSError as error:
        raise InputError(f"{fai}: cannot read the FASTA index: {error.strerror or error}") from None
    try:
        entries = _entries(fai, text)
        if compressed:
            _check_compressed_tail(path, files, entries)
        else:
            _check_plain(path, fai, entries)
    except _Incomplete as problem:
        log.warning("%s: %s; indexing %s again", fai, problem, path)
        return False
    return True


@dataclass(frozen=True)
class _Entry:
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


def _entries(fai: Path, text: bytes) -> list[_Entry]:
    if not text.strip():
        raise _Incomplete("empty")
    if not text.endswith(b"\n"):
        raise _Incomplete("cut off (its last line is incomplete)")
    entries = []
    for number, line in enumerate(text.decode("utf-8", "replace").splitlines(), start=1):
        fields = line.split("\t")
        try:
            name, length, offset, bases, width = fields[0], *map(int, fields[1:5])
        except (ValueError, IndexError):
            raise _Incomplete(f"line {number} is not a FASTA index line") from None
        if not name or min(length, offset, bases, width) < 0 or (length and bases > width):
            raise _Incomplete(f"line {number} is not a FASTA index line")
        entries.append(_Entry(name, length, offset, bases, width))
    return entries


def _stale(fai: Path, path: Path, number: int, name: str) -> InputError:
    return InputError(
        f"{fai}:{number}: index does not match {path} ({name!r}); the FASTA changed after it "
        "was indexed: delete the .fai so it is rebuilt"
    )


def _check_plain(path: Path, fai: Path, entries: list[_Entry]) -> None:
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
        raise _Incomplete(f"it stops at {entries[-1].name}, and the FASTA has {name} after it")


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


def _check_compressed_tail(path: Path, files: IndexFiles, entries: list[_Entry]) -> None:
    """The ``.gzi`` is whole, and after the last contig the bgzip FASTA holds only line ends
    (or a duplicate htslib skipped).  Contigs before the last are not checked here."""
    try:
        blocks = _gzi_blocks(Path(files.gzi))
    except FileNotFoundError:
        raise _Incomplete(f"{files.gzi} is missing") from None
    last = entries[-1]
    end = last.end()
    last_base = last.last_base()
    first = end if last_base is None else last_base
    start_compressed, start_plain = max((b for b in blocks if b[1] <= first), key=lambda b: b[1])
    with open(path, "rb") as handle:
        handle.seek(start_compressed)
        data = handle.read(_TAIL_BLOCKS + 1)
    if len(data) > _TAIL_BLOCKS:
        raise _Incomplete(f"it stops at {last.name}, long before the end of the FASTA")
    tail = _inflate(data, path)
    if end - start_plain > len(tail) or (
        last_base is not None
        and not _ends_a_line(tail[last_base - start_plain : last_base - start_plain + 2])
    ):
        raise _stale(Path(files.fai), path, len(entries), last.name)
    following = tail[end - start_plain :].lstrip(_WHITESPACE)
    if following:
        name = _header_name(following)
        if name is None:
            raise _stale(Path(files.fai), path, len(entries), last.name)
        if name not in {entry.name for entry in entries}:
            raise _Incomplete(f"it stops at {last.name}, and the FASTA has {name} after it")


def _gzi_blocks(gzi: Path) -> list[tuple[int, int]]:
    """``(compressed, uncompressed)`` offsets of the bgzip blocks, the first one included."""
    data = gzi.read_bytes()
    if len(data) < 8:
        raise _Incomplete(f"{gzi} is cut off")
    (count,) = struct.unpack("<Q", data[:8])
    if len(data) != 8 + 16 * count:
        raise _Incomplete(f"{gzi} is cut off")
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


# ----------------------------------------------------------------------------- building


def _build(path: Path, files: IndexFiles, compressed: bool) -> IndexFiles:
    """Index ``path`` into temporary files beside ``files`` and rename them to ``files``."""
    import pysam

    temporaries = []
    try:
        directory = Path(files.fai).parent
        try:
            directory.mkdir(parents=True, exist_ok=True)
            for target in (files.fai, files.gzi):
                if target is not None:
                    temporaries.append(_temporary(Path(target)))
        except OSError as error:
            raise _Unwritable(_reason(error)) from None
        options = ["--fai-idx", temporaries[0]] + (
            ["--gzi-idx", temporaries[1]] if compressed else []
        )
        verbosity = pysam.set_verbosity(0)  # htslib's own messages would break our one line
        try:
            pysam.faidx(str(path), *options)
        except pysam.SamtoolsError as error:
            raise InputError(
                _why_unindexable(path, compressed) or _samtools_reason(path, error)
            ) from None
        finally:
            pysam.set_verbosity(verbosity)
        if compressed:
            publish(
                temporaries[1], files.gzi
            )  # before the .fai: a complete .fai means a complete pair
        publish(temporaries[0], files.fai)
        temporaries = []
    finally:
        for temporary in temporaries:
            discard(temporary)
    return files


def _temporary(target: Path) -> str:
    import tempfile

    handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(handle)
    return name


def _cache_location(path: Path, compressed: bool) -> IndexFiles:
    """Where the index of a FASTA in a read-only directory is kept: named by its path, size and time."""
    from spliceannot.cache import default_cache_path

    status = path.stat()
    identity = f"{path.resolve()}\n{status.st_size}\n{status.st_mtime_ns}\n{status.st_ino}"
    key = hashlib.sha256(identity.encode()).hexdigest()[:24]
    stem = default_cache_path().parent / CACHE_SUBDIRECTORY / f"{path.name}.{key}"
    return IndexFiles(f"{stem}.fai", f"{stem}.gzi" if compressed else None)


def _reason(error: OSError) -> str:
    return (error.strerror or str(error)).lower()


def _samtools_reason(path: Path, error: Exception) -> str:
    """samtools' own words, less its "could not build" line (which names our temporary file)."""
    text = str(error).split("stderr=", 1)[-1].replace("\\n", "\n")
    lines = [line.strip(" '\"") for line in text.splitlines()]
    detail = "; ".join(line for line in lines if line and "Could not build fai index" not in line)
    return f"{path}: cannot open reference FASTA: samtools faidx cannot index it" + (
        f" ({detail})" if detail else " (is every sequence under a '>' header, and none empty?)"
    )


# ----------------------------------------------------------------------------- diagnosis


def _why_unindexable(path: Path, compressed: bool) -> str | None:
    """What makes ``path`` unindexable for htslib, with its line number; None if not seen."""
    opener = gzip.open if compressed else open
    headers = short_width = 0
    name = width = ending = short_line = blank_line = None
    try:
        with opener(path, "rb") as handle:
            for number, raw in enumerate(handle, start=1):
                if raw.startswith(b">"):
                    headers += 1
                    words = raw[1:].split()
                    name = words[0].decode("utf-8", "replace") if words else ""
                    width = ending = short_line = blank_line = None
                    continue
                body = raw.rstrip(b"\r\n")
                if name is None:
                    if body.strip():
                        return f"{path}: line {number}: sequence before the first '>' header: not a FASTA file"
                    continue
                if not body.strip():
                    blank_line = blank_line or number
                    continue
                if blank_line is not None:
                    return (
                        f"{path}: line {blank_line}: blank line inside the sequence of {name}: "
                        "samtools faidx cannot index this; remove blank lines"
                    )
                terminator = raw[len(body) :]
                if terminator and ending is not None and terminator != ending:
                    return (
                        f"{path}: line {number}: mixed line endings (CRLF and LF) in the sequence of "
                        f"{name}: samtools faidx cannot index this; convert them to LF (dos2unix)"
                    )
                ending = ending or terminator or None
                if short_line is not None:
                    return (
                        f"{path}: line {short_line}: a sequence line of {short_width} bases inside "
                        f"{name}, whose lines have {width}: samtools faidx needs equal line lengths; "
                        "rewrap the FASTA (e.g. `seqkit seq -w 60`)"
                    )
                if width is None:
                    width = len(body)
                elif len(body) > width:
                    return (
                        f"{path}: line {number}: a sequence line of {len(body)} bases inside {name}, "
                        f"whose lines have {width}: samtools faidx needs equal line lengths; "
                        "rewrap the FASTA (e.g. `seqkit seq -w 60`)"
                    )
                elif len(body) < width:
                    short_line, short_width = number, len(body)
    except (OSError, EOFError, zlib.error):
        return None
    if headers == 0:
        return f"{path}: cannot open reference FASTA: no '>' header line (not a FASTA file)"
    return None
