"""Derived gene tables: a GTF/GFF3 parsed once, read back in a second on later runs.

Reading a GENCODE-size GTF takes tens of seconds; the transcript rows it
gives depend only on the file's bytes and on the options that select rows
(``transcripts``, ``biotype``).  The rows are kept in the cache directory
(``$SPLICEANNOT_CACHE``, default ``~/.cache/spliceannot``, under
``gene-tables/``), one file per (content, options), named by the SHA-256 of
the file's bytes, the options and this module's format version.  Hashing the
file is much cheaper than parsing it (0.02 s for a GENCODE-size ``.gtf.gz``,
0.4 s for the same 535 MB uncompressed, on a CPU with SHA instructions), so
an edited file is never served stale rows, and the same file under another
name or path is a hit.

A table is written to a temporary file beside its final name and renamed
(concurrent runs each publish a complete file), and checked before it is
trusted: its first line, its key, its row count and a SHA-256 of its text
must match, else it is ignored (and replaced).  A cache directory that
cannot be written only costs the parse: a warning says so and the rows are
parsed as usual.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import stat
from collections.abc import Callable
from pathlib import Path

from spliceannot import __version__
from spliceannot.atomic import atomic_path
from spliceannot.readers.transcript import GeneModels, Transcript

log = logging.getLogger(__name__)

FORMAT = "spliceannot-gene-table 1"
SUBDIRECTORY = "gene-tables"
_MAGIC = f"##{FORMAT}\n"
_END = "##end sha256="
_HASH_BLOCK = 1 << 20


def default_table_dir() -> Path:
    """Where derived tables live: ``gene-tables/`` in the score cache's directory."""
    from spliceannot.cache import default_cache_path

    return default_cache_path().parent / SUBDIRECTORY


def table_key(path: str | os.PathLike, *, transcripts: str, biotype: str | None) -> str:
    """The SHA-256 of the file's bytes, the row-selecting options and the table format."""
    content = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(_HASH_BLOCK):
            content.update(block)
    text = "\n".join([FORMAT, __version__, content.hexdigest(), transcripts, biotype or ""])
    return hashlib.sha256(text.encode()).hexdigest()


def cached_gene_models(
    path: str,
    parse: Callable[[], object],
    directory: str | os.PathLike,
    *,
    transcripts: str,
    biotype: str | None,
):
    """``parse()``'s :class:`~spliceannot.readers.transcript.GeneModels` for ``path``, or the kept ones.

    ``parse`` is called when there is no valid table for this file and these
    options; its result is then written to ``directory`` (unless the file
    changed meanwhile or ``directory`` cannot be written: a warning, no table).
    What is not a regular file (a pipe) is parsed, and nothing kept.
    """
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):  # a pipe can be read only once
            return parse()
        before = _stamp(path)
        key = table_key(path, transcripts=transcripts, biotype=biotype)
    except OSError:
        return parse()  # which says what is wrong with the file
    table = Path(directory) / f"{key}.tsv"
    found = _read(table, key)
    if found is not None:
        log.info("%s: rows read from the derived table %s", path, table)
        return found
    models: GeneModels = parse()
    if _stamp(path) != before:
        log.warning(
            "%s: changed while it was read; its rows are not kept in %s", path, table.parent
        )
        return models
    try:
        table.parent.mkdir(parents=True, exist_ok=True)
        text = _text(models, key, path)
        with atomic_path(table) as partial, open(partial, "w", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as error:
        log.warning(
            "cannot keep the parsed rows of %s in %s (%s): it is parsed again on every run",
            path, table.parent, error.strerror or error,
        )  # fmt: skip
    return models


def _stamp(path: str) -> tuple[int, int, int]:
    status = os.stat(path)
    return status.st_size, status.st_mtime_ns, status.st_ino


def _text(models, key: str, path: str) -> str:
    meta = {
        "key": key,
        "source": os.path.abspath(path),
        "genes": models.genes,
        "candidates": models.candidates,
        "skipped": models.skipped,
        "rows": len(models.transcripts),
    }
    lines = [_MAGIC, f"##{json.dumps(meta, sort_keys=True)}\n"]
    lines += [row.table_line() + "\n" for row in models.transcripts]
    body = "".join(lines)
    return body + f"{_END}{hashlib.sha256(body.encode()).hexdigest()}\n"


def _read(table: Path, key: str):
    """The models kept in ``table``, or None when it is missing or not intact."""
    try:
        text = table.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or error
        log.warning("ignoring the derived table %s (%s); parsing again", table, reason)
        return None
    try:
        body, _, end = text.rpartition(_END)
        if not text.startswith(_MAGIC) or end != hashlib.sha256(body.encode()).hexdigest() + "\n":
            raise ValueError("truncated or altered")
        lines = body.split("\n")
        meta = json.loads(lines[1][2:])
        if meta["key"] != key:
            raise ValueError("made for another file")
        rows = [_row(line) for line in lines[2:-1]]
        if len(rows) != meta["rows"]:
            raise ValueError("row count differs")
        return GeneModels(
            transcripts=rows,
            genes=int(meta["genes"]),
            candidates=int(meta["candidates"]),
            skipped={str(reason): int(count) for reason, count in meta["skipped"].items()},
        )
    except (ValueError, KeyError, IndexError, TypeError, AttributeError) as error:
        log.warning("ignoring the derived table %s (%s); parsing again", table, error)
        return None


def _row(line: str) -> Transcript:
    name, chrom, strand, tx_start, tx_end, starts, ends = line.split("\t")
    if strand not in ("+", "-"):
        raise ValueError(f"bad strand {strand!r}")
    exon_starts = tuple(int(value) for value in starts.split(",")[:-1])
    exon_ends = tuple(int(value) for value in ends.split(",")[:-1])
    if len(exon_starts) != len(exon_ends) or not exon_starts:
        raise ValueError("bad exon lists")
    return Transcript(name, chrom, strand, int(tx_start), int(tx_end), exon_starts, exon_ends)
