"""A FASTA read front to back, one contig in memory at a time (plain, gzip or bgzip).

For whole-genome passes (training data, genome-wide predict) where random
access (:mod:`spliceannot.readers.fasta`) is not needed and a plain-gzip
file must work too.  Sequences are upper case, without line breaks.
"""

from __future__ import annotations

import gzip
import logging
import os
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from spliceannot.errors import InputError

log = logging.getLogger(__name__)

_READ_BLOCK = 1 << 22
_UPPER = bytes(range(256)).upper()
_WHITESPACE = b" \t\r\n\v\f"


def fasta_contigs(path: str | os.PathLike) -> list[str]:
    """The contig names of a FASTA, in file order.

    Read from the ``.fai`` index beside the file when there is one, else from
    a pass over the file's headers (which keeps no sequence in memory).

    Raises
    ------
    InputError
        If the file cannot be read, is not a FASTA or has no contigs.
    """
    path = os.fspath(path)
    index = Path(path + ".fai")
    if index.is_file():
        with open(index) as handle:
            names = [line.split("\t", 1)[0] for line in handle if line.strip()]
    else:
        names = [name for name, _ in _records(path, wanted=set())]
    if not names:
        raise InputError(f"{path}: no sequences in the FASTA")
    duplicates = sorted(name for name, count in Counter(names).items() if count > 1)
    if duplicates:
        log.warning("%s: contig names repeat (%s); only the first of each is used",
                    path, ", ".join(duplicates[:5]))
    return list(dict.fromkeys(names))


def stream_fasta(
    path: str | os.PathLike, wanted: Iterable[str] | None = None
) -> Iterator[tuple[str, bytearray]]:
    """Yield ``(name, sequence)`` per contig, one contig in memory at a time.

    Parameters
    ----------
    path
        Plain, gzip or bgzip FASTA.
    wanted
        Only these contigs are kept and yielded (the others are read past);
        ``None`` yields every contig.

    Yields
    ------
    tuple
        The name (first word of the header) and the sequence, upper case,
        without line breaks.

    Raises
    ------
    InputError
        If the file cannot be read or is not a FASTA.
    """
    wanted_set = None if wanted is None else set(wanted)
    for name, sequence in _records(os.fspath(path), wanted_set):
        if sequence is not None:
            yield name, sequence


def _records(path: str, wanted: set[str] | None) -> Iterator[tuple[str, bytearray | None]]:
    """Every contig's name, with its sequence when it is wanted (else ``None``)."""
    try:
        with open_binary(path) as handle:
            yield from _parse_fasta(path, handle, wanted)
    except (OSError, EOFError, zlib.error) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        raise InputError(f"{path}: cannot read FASTA: {reason or type(error).__name__}") from None


def open_binary(path: str) -> BinaryIO:
    """``path`` opened for binary reading, through gzip when it starts with gzip's magic bytes."""
    with open(path, "rb") as probe:
        magic = probe.read(2)
    return gzip.open(path, "rb") if magic == b"\x1f\x8b" else open(path, "rb")


def _parse_fasta(
    path: str, handle: BinaryIO, wanted: set[str] | None
) -> Iterator[tuple[str, bytearray | None]]:
    """A block-wise FASTA parser: a header is a line starting with ``>``."""
    name: str | None = None  # of the record being read; None before the first header
    sequence: bytearray | None = None
    seen_header = in_header = eof = False
    buffer = b""
    while not eof:
        block = handle.read(_READ_BLOCK)
        eof = not block
        buffer += block
        position = 0
        while position < len(buffer):
            if in_header:
                newline = buffer.find(b"\n", position)
                if newline < 0 and not eof:
                    break  # the header goes on in the next block
                newline = len(buffer) if newline < 0 else newline
                name = _header_name(path, buffer[position:newline])
                sequence = bytearray() if wanted is None or name in wanted else None
                in_header, position = False, newline + 1
                continue
            marker = buffer.find(b">", position)  # sequence lines never hold '>'
            end = len(buffer) if marker < 0 else marker
            if name is None:
                if buffer[position:end].strip():
                    raise InputError(f"{path}: not a FASTA file (no '>' header first)")
            elif sequence is not None:
                sequence += buffer[position:end].translate(_UPPER, _WHITESPACE)
            if marker < 0:
                position = len(buffer)
                break
            if name is not None:
                yield name, sequence
                name, sequence = None, None
            seen_header = in_header = True
            position = marker + 1
        buffer = buffer[position:]
    if in_header:
        _header_name(path, b"")  # a '>' at the very end: raises
    if not seen_header:
        raise InputError(f"{path}: not a FASTA file (no '>' header)")
    if name is not None:
        yield name, sequence


def _header_name(path: str, header: bytes) -> str:
    words = header.split(maxsplit=1)
    if not words:
        raise InputError(f"{path}: a FASTA header has no name")
    return words[0].decode("utf-8", "replace")


def has_index(path: str | os.PathLike) -> bool:
    """Whether a ``.fai`` index lies beside the FASTA."""
    return Path(os.fspath(path) + ".fai").is_file()


def fasta_lengths(path: str | os.PathLike) -> list[tuple[str, int]]:
    """Contig names and lengths in file order (from the ``.fai`` if any, else the FASTA)."""
    index = Path(os.fspath(path) + ".fai")
    seen: dict[str, int] = {}
    if index.is_file():
        with open(index) as handle:
            for line in handle:
                fields = line.split("\t")
                if len(fields) >= 2 and fields[1].strip().isdigit():
                    seen.setdefault(fields[0], int(fields[1]))  # the first of repeated names
        if seen:
            return list(seen.items())
    for name, sequence in stream_fasta(path):
        seen.setdefault(name, len(sequence))
        del sequence
    return list(seen.items())
