"""Reading VCF, bgzipped VCF and BCF (pysam/htslib), with errors that name the line."""

from __future__ import annotations

import gzip
import os
from collections.abc import Iterator
from pathlib import Path

from spliceannot.errors import InputError

STDIN = "-"
# INFO keys whose definition in an input header is replaced by the annotator's own
OWN_INFO = ("SpliceAI",)


def display_name(path: str) -> str:
    return "<stdin>" if path == STDIN else path


def open_variants(path: str, *, threads: int = 0, own_info: tuple[str, ...] = OWN_INFO):
    """Open a VCF/BCF for reading (``-`` = standard input).

    ``own_info`` keys defined in the input's header (an earlier SpliceAI run)
    lose that definition, so the one added for the output replaces it.

    Returns
    -------
    pysam.VariantFile

    Raises
    ------
    InputError
        Missing, unreadable or non-VCF input; the message names the file.
    """
    import pysam

    pysam.set_verbosity(0)
    if path != STDIN:
        p = Path(path)
        if not p.exists():
            if p.is_symlink():
                raise InputError(f"{path}: broken or looping symbolic link")
            raise InputError(f"{path}: input VCF not found")
        if p.is_dir():
            raise InputError(f"{path}: is a directory, expected a VCF/BCF file")
        if not os.access(p, os.R_OK):
            raise InputError(f"{path}: permission denied")
        if p.stat().st_size == 0:
            raise InputError(f"{path}: empty file, expected a VCF/BCF header")
    try:
        handle = pysam.VariantFile(path, "r", threads=threads)
    except (OSError, ValueError, NotImplementedError) as error:
        # NotImplementedError: pysam cannot seek in a file compressed with plain gzip
        hint = ""
        if isinstance(error, NotImplementedError):
            hint = "; compressed with gzip, not bgzip: recompress it with `zcat FILE | bgzip`"
        raise InputError(
            f"{display_name(path)}: not a readable VCF/BCF file ({error}{hint})"
        ) from None
    if handle.format not in ("VCF", "BCF"):
        handle.close()
        raise InputError(f"{display_name(path)}: not a VCF/BCF file (found {handle.format})")
    for key in own_info:
        if key in handle.header.info:
            handle.header.info.remove_header(key)
    return handle


def iterate_records(handle, path: str, regions: list[str] | None = None) -> Iterator:
    """Records of an open VariantFile, raising :class:`InputError` on a malformed one.

    ``regions`` (``chr:start-end`` or ``chr``) restrict reading to those
    regions, in the given order; they need an index (.tbi/.csi).
    """
    count = 0
    try:
        if regions:
            for region in regions:
                try:
                    records = handle.fetch(region=region)
                except ValueError as error:
                    raise InputError(f"{display_name(path)}: cannot fetch region {region!r}: {error}") from None
                for record in records:
                    count += 1
                    yield record
        else:
            for record in handle:
                count += 1
                yield record
    except OSError:
        raise InputError(malformed_record_message(path, count + 1)) from None


def malformed_record_message(path: str, record_number: int) -> str:
    """``FILE:LINE: malformed VCF record`` (record number when the line cannot be known)."""
    line = _line_of_record(path, record_number)
    if line is None:
        return f"{display_name(path)}: record {record_number}: malformed VCF record"
    number, text = line
    shown = text if len(text) <= 80 else text[:77] + "..."
    return f"{display_name(path)}:{number}: malformed VCF record: {shown!r}"


def _line_of_record(path: str, record_number: int) -> tuple[int, str] | None:
    """Line number and text of the ``record_number``-th data line of a text VCF."""
    if path == STDIN:
        return None
    try:
        with open(path, "rb") as probe:
            magic = probe.read(4)
        if magic[:3] == b"BCF":
            return None
        opener = gzip.open if magic[:2] == b"\x1f\x8b" else open
        with opener(path, "rb") as handle:
            seen = 0
            for number, raw in enumerate(handle, start=1):
                if raw.startswith(b"#"):
                    continue
                seen += 1
                if seen == record_number:
                    return number, raw.decode("utf-8", "replace").rstrip("\r\n")
    except (OSError, EOFError):
        return None
    return None
