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
import zlib
from dataclasses import dataclass
from pathlib import Path

from spliceannot.atomic import discard, publish
from spliceannot.errors import InputError
from spliceannot.readers.fasta_index_check import (
    Incomplete,
    check_compressed_tail,
    check_plain,
    read_entries,
)

log = logging.getLogger(__name__)

CACHE_SUBDIRECTORY = "fasta-index"


@dataclass(frozen=True)
class IndexFiles:
    """Where a FASTA's index lies (``gzi`` only for a bgzip-compressed FASTA)."""

    fai: str
    gzi: str | None


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
        entries = read_entries(fai, text)
        if compressed:
            check_compressed_tail(path, fai, Path(files.gzi), entries)
        else:
            check_plain(path, fai, entries)
    except Incomplete as problem:
        log.warning("%s: %s; indexing %s again", fai, problem, path)
        return False
    return True


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
