"""GTF/GFF3 feature lines: columns checked, coordinates made 0-based, attributes split.

gffutils detects the file's attribute dialect (GTF or GFF3, quoting,
separators, repeated keys) from its first lines; every line's attribute
column is then split under that dialect by :func:`attribute_splitter`, which
gives the values gffutils' own per-line parser gives, several times faster.
What the lines mean (genes, transcripts, exons) is
:mod:`spliceannot.readers.gtf`'s business.
"""

from __future__ import annotations

import contextlib
import gzip
import itertools
import os
import re
import stat
import zlib
from collections.abc import Callable, Collection, Iterator, Mapping
from typing import BinaryIO
from urllib.parse import unquote

import gffutils
from gffutils.feature import feature_from_line

from spliceannot.errors import InputError

STRAND_NAMES = {strand: strand for strand in "+-.?"}  # column 7's values
DIALECT_LINES = 10  # lines gffutils reads to detect the dialect


def read_features(
    path: str, *, skip_types: Collection[str] = ()
) -> tuple[str | None, dict, Iterator[tuple[list[str], tuple[int, int]]]]:
    """The file's format (``gtf``, ``gff3``, ``None`` if featureless), dialect and feature lines.

    Lines come as ``(fields, (start, end))``, ``start`` and ``end`` 0-based
    half-open, in file order; lines whose type (column 3) is in
    ``skip_types`` are left out.  gffutils detects the attribute dialect from
    the first lines.
    """
    lines = _data_lines(path)
    head = list(itertools.islice(lines, DIALECT_LINES))
    if not head:
        return None, {}, iter(())
    dialect = gffutils.DataIterator([feature_from_line(item[1]) for item in head]).dialect
    fmt = "gtf" if dialect.get("fmt") == "gtf" else "gff3"
    used = (
        (fields, span)
        for _, _, fields, span in itertools.chain(head, lines)
        if fields[2] not in skip_types
    )
    return fmt, dialect, used


def attribute_splitter(
    dialect: Mapping, keys: Collection[str] | None = None
) -> Callable[[str], dict[str, list[str]]]:
    """A function that splits one attribute column (column 9) under ``dialect``.

    ``dialect`` is what gffutils detected from the file's first lines; the
    function returns ``{key: [values]}`` as gffutils' parser does for that
    dialect: surrounding semicolons dropped, pairs split at the field
    separator (outside quotes when the dialect says semicolons occur inside
    them), key and value split at the first key-value separator, GTF quotes
    stripped, a value split at commas unless keys repeat or it holds ``", "``,
    and GFF3 percent escapes decoded.  With ``keys``, only those keys are
    returned (the others are skipped unsplit).
    """
    strip_trailing = bool(dialect.get("trailing semicolon"))
    strip_leading = bool(dialect.get("leading semicolon"))
    separator = dialect.get("field separator") or ";"
    pair_separator = dialect.get("keyval separator") or "="
    quoted = bool(dialect.get("quoted GFF2 values"))
    keep_commas = bool(dialect.get("repeated keys"))
    unescape = dialect.get("fmt") == "gff3" and not gffutils.constants.ignore_url_escape_characters
    wanted = None if keys is None else frozenset(keys)
    if wanted is not None and any(pair_separator in key for key in wanted):
        raise ValueError(f"attribute keys must not contain the separator {pair_separator!r}")
    prefixes = tuple(key + pair_separator for key in wanted or ())
    if dialect.get("semicolon in quotes"):
        # the separator only where an even number of quotes follows it
        outside_quotes = re.compile(re.escape(separator) + r'(?=(?:[^"]|"[^"]*")*$)')
        pairs_of = outside_quotes.split
    else:

        def pairs_of(text: str) -> list[str]:
            return text.split(separator)

    def split(text: str) -> dict[str, list[str]]:
        attributes: dict[str, list[str]] = {}
        if not text:
            return attributes
        if strip_trailing:
            text = text.rstrip(";")
        if strip_leading:
            text = text.lstrip(";")
        pairs = pairs_of(text)
        if wanted is not None:
            # keys hold no separator: a pair's key is K iff it is K or starts with K + separator
            pairs = [pair for pair in pairs if pair.startswith(prefixes) or pair in wanted]
        for pair in pairs:
            key, _, value = pair.partition(pair_separator)
            values = attributes.get(key)
            if values is None:
                values = attributes[key] = []
            if quoted and value:
                value = value.strip('"')
            if not value:
                continue
            if keep_commas or ", " in value:
                values.append(value)
            else:
                values.extend(value.split(","))
        if unescape:
            for values in attributes.values():
                values[:] = [unquote(value) for value in values]
        return attributes

    return split


def _data_lines(path: str) -> Iterator[tuple[int, str, list[str], tuple[int, int]]]:
    """Yield ``(line number, line, fields, (start, end))`` per feature line, checking columns.

    ``start`` and ``end`` are 0-based half-open.
    """
    number = 0
    try:
        with _open(path) as handle:
            for number, raw in enumerate(handle, start=1):
                line = raw.decode("utf-8").rstrip("\r\n")
                if not line or line[0] == "#":
                    if line == "##FASTA":
                        return
                    continue
                fields = line.split("\t")
                if len(fields) < 9:
                    raise InputError(
                        f"{path}:{number}: not a GTF/GFF3 line: expected 9 tab-separated "
                        f"columns, found {len(fields)}"
                    )
                if fields[6] not in STRAND_NAMES:
                    raise InputError(
                        f"{path}:{number}: not a GTF/GFF3 line: strand (column 7) must be "
                        f"+, -, . or ?, found {fields[6]!r}"
                    )
                yield number, line, fields, _coordinates(path, number, fields[3], fields[4])
    except UnicodeDecodeError:
        raise InputError(f"{path}:{number}: not a text GTF/GFF3 file") from None
    except (OSError, EOFError, zlib.error) as error:
        where = f"{path}:{number + 1}" if number else path
        raise InputError(f"{where}: cannot read GTF/GFF3: {_reason(error)}") from None


@contextlib.contextmanager
def _open(path: str) -> Iterator[BinaryIO]:
    """The file's bytes, gunzipped if need be; opened once, so a pipe works too."""
    if stat.S_ISCHR(os.stat(path).st_mode) or stat.S_ISBLK(os.stat(path).st_mode):  # /dev/zero
        raise InputError(f"{path}: is a device, expected a GTF/GFF3 file")
    with open(path, "rb") as raw:
        if raw.peek(2)[:2] == b"\x1f\x8b":
            with gzip.GzipFile(fileobj=raw, mode="rb") as unzipped:
                yield unzipped
        else:
            yield raw


def _coordinates(path: str, number: int, start: str, end: str) -> tuple[int, int]:
    """GFF 1-based inclusive ``start``/``end`` as a 0-based half-open pair."""
    try:
        first, last = int(start), int(end)
    except ValueError:
        raise InputError(
            f"{path}:{number}: not a GTF/GFF3 line: start and end (columns 4 and 5) must be "
            f"integers, found {start!r} and {end!r}"
        ) from None
    if first < 1 or last < 0:
        raise InputError(
            f"{path}:{number}: coordinates must be positive (GTF/GFF3 are 1-based), "
            f"found start {first} and end {last}"
        )
    return first - 1, last


def _reason(error: BaseException) -> str:
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return str(error) or type(error).__name__
