"""Gene annotation: SpliceAI-style transcript tables and overlap lookup.

A table has one row per transcript and the columns of SpliceAI's
``grch37.txt``/``grch38.txt``::

    #NAME  CHROM  STRAND  TX_START  TX_END  EXON_START  EXON_END

with TX_START and EXON_START 0-based and TX_END and EXON_END 1-based
inclusive (so every interval is 0-based half-open), exon lists
comma-terminated.  GTF/GFF3 files are turned into such rows by
:mod:`spliceannot.readers.gtf`.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import io
import logging
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from spliceannot.errors import InputError
from spliceannot.readers.contigs import ContigMatcher
from spliceannot.readers.transcript import Transcript

log = logging.getLogger(__name__)

TABLE_COLUMNS = ("#NAME", "CHROM", "STRAND", "TX_START", "TX_END", "EXON_START", "EXON_END")
BUILTIN_TABLES = ("grch37", "grch38")
GTF_SUFFIXES = (".gtf", ".gff", ".gff3", ".gtf.gz", ".gff.gz", ".gff3.gz")


def nearest_boundary_distance(boundaries: np.ndarray, pos: int) -> int:
    """Signed distance from ``pos`` to the nearest exon boundary.

    Ties go to the upstream (negative) boundary, as in SpliceAI, which takes
    the first minimum of the sorted boundaries.  An empty array gives 0.
    """
    if boundaries.size == 0:
        return 0
    offsets = boundaries - pos
    return int(offsets[int(np.argmin(np.abs(offsets)))])


class Annotation:
    """Transcripts indexed for fast overlap queries.

    Parameters
    ----------
    transcripts
        Rows in file order; overlap results keep this order.
    source
        Where the rows came from (for messages and provenance).
    """

    def __init__(self, transcripts: Sequence[Transcript], source: str = "<memory>") -> None:
        self.transcripts = list(transcripts)
        self.source = source
        self.contigs = ContigMatcher({t.chrom for t in self.transcripts})
        self._index: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = {}
        by_chrom: dict[str, list[int]] = {}
        for row, transcript in enumerate(self.transcripts):
            by_chrom.setdefault(transcript.chrom, []).append(row)
        for chrom, rows in by_chrom.items():
            row_ids = np.asarray(rows, dtype=np.int64)
            starts = np.asarray([self.transcripts[r].tx_start for r in rows], dtype=np.int64)
            order = np.argsort(starts, kind="stable")
            row_ids, starts = row_ids[order], starts[order]
            ends = np.asarray([self.transcripts[r].tx_end for r in row_ids], dtype=np.int64)
            self._index[chrom] = (starts, ends, np.maximum.accumulate(ends), row_ids)
        self._boundaries: dict[int, np.ndarray] = {}

    def __len__(self) -> int:
        return len(self.transcripts)

    def __reduce__(self):
        # rows only: the index is rebuilt on arrival (worker processes, Ray's object store)
        return (Annotation, (self.transcripts, self.source))

    def overlapping(self, chrom: str, pos: int) -> list[int]:
        """Row numbers of the transcripts containing 1-based ``pos``, in file order."""
        name = self.contigs.resolve(chrom)
        if name is None:
            return []
        starts, ends, running_max_end, row_ids = self._index[name]
        # rows [lo, hi) start before pos; rows before lo all end before pos
        hi = int(np.searchsorted(starts, pos, side="left"))
        lo = int(np.searchsorted(running_max_end, pos, side="left"))
        if lo >= hi:
            return []
        hits = row_ids[lo:hi][ends[lo:hi] >= pos]
        return sorted(int(r) for r in hits)

    def boundary_distance(self, row: int, pos: int) -> int:
        """Signed distance from ``pos`` to the nearest exon boundary of row ``row``."""
        boundaries = self._boundaries.get(row)
        if boundaries is None:
            boundaries = self.transcripts[row].boundaries()
            self._boundaries[row] = boundaries
        return nearest_boundary_distance(boundaries, pos)

    def digest(self) -> str:
        """A SHA-256 of the rows, identifying this annotation's content."""
        h = hashlib.sha256()
        for transcript in self.transcripts:
            h.update(transcript.table_line().encode())
            h.update(b"\n")
        return h.hexdigest()

    def write_table(self, handle: io.TextIOBase) -> None:
        """Write the rows as a SpliceAI-style table."""
        write_table(self.transcripts, handle)


def write_table(transcripts: Iterable[Transcript], handle: io.TextIOBase) -> None:
    """Write ``transcripts`` as a SpliceAI-style tab-separated table."""
    handle.write("\t".join(TABLE_COLUMNS) + "\n")
    for transcript in transcripts:
        handle.write(transcript.table_line() + "\n")


def builtin_table_path(name: str) -> Path:
    """Path of SpliceAI's bundled ``grch37``/``grch38`` table (package not imported)."""
    spec = importlib.util.find_spec("spliceai")
    if spec is None or not spec.submodule_search_locations:
        raise InputError(
            f"-A {name}: the `spliceai` package (1.3.1) that ships this table is not installed"
        )
    path = Path(list(spec.submodule_search_locations)[0]) / "annotations" / f"{name}.txt"
    if not path.is_file():
        raise InputError(f"-A {name}: {path} is missing from the installed spliceai package")
    return path


def _parse_exon_list(text: str, path: str, line_number: int) -> tuple[int, ...]:
    # SpliceAI drops the last comma-separated field, which is empty for a
    # comma-terminated list; do the same so custom tables behave identically.
    fields = text.split(",")[:-1]
    try:
        return tuple(int(f) for f in fields)
    except ValueError:
        raise InputError(f"{path}:{line_number}: bad exon coordinate list {text!r}") from None


def read_table(path: str | Path) -> list[Transcript]:
    """Read a SpliceAI-style table (plain or gzip) into transcripts.

    Raises
    ------
    InputError
        If the file cannot be read or a line is malformed; the message names
        the file and line.
    """
    path = str(path)
    try:
        opener = gzip.open if _is_gzip(path) else open
        with opener(path, "rt") as handle:
            lines = handle.read().splitlines()
    except (OSError, UnicodeDecodeError, EOFError) as error:
        raise InputError(f"{path}: cannot read annotation table: {_reason(error)}") from None
    if not lines:
        raise InputError(f"{path}: empty annotation table")
    header = lines[0].rstrip("\r").split("\t")
    try:
        column = {name: header.index(name) for name in TABLE_COLUMNS}
    except ValueError:
        raise InputError(
            f"{path}:1: not a SpliceAI-style table (expected columns {' '.join(TABLE_COLUMNS)})"
        ) from None
    transcripts = []
    for number, line in enumerate(lines[1:], start=2):
        line = line.rstrip("\r")
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) < len(header):
            raise InputError(
                f"{path}:{number}: expected {len(header)} columns, found {len(fields)}"
            )
        try:
            tx_start = int(fields[column["TX_START"]])
            tx_end = int(fields[column["TX_END"]])
        except ValueError:
            raise InputError(f"{path}:{number}: TX_START/TX_END must be integers") from None
        if not 0 <= tx_start <= tx_end:
            raise InputError(
                f"{path}:{number}: TX_START/TX_END must satisfy 0 <= TX_START <= TX_END, "
                f"found {tx_start} and {tx_end}"
            )
        strand = fields[column["STRAND"]]
        if strand not in ("+", "-"):
            raise InputError(f"{path}:{number}: STRAND must be + or -, found {strand!r}")
        starts = _parse_exon_list(fields[column["EXON_START"]], path, number)
        ends = _parse_exon_list(fields[column["EXON_END"]], path, number)
        if len(starts) != len(ends):
            raise InputError(f"{path}:{number}: EXON_START and EXON_END differ in length")
        transcripts.append(
            Transcript(
                name=fields[column["#NAME"]],
                chrom=fields[column["CHROM"]],
                strand=strand,
                tx_start=tx_start,
                tx_end=tx_end,
                exon_starts=starts,
                exon_ends=ends,
            )
        )
    return transcripts


def load_annotation(spec: str, *, transcripts: str = "canonical", cache: bool = True) -> Annotation:
    """Load the annotation that ``-A`` names.

    Parameters
    ----------
    spec
        ``grch37`` or ``grch38`` (the tables shipped with SpliceAI), a
        SpliceAI-style table (optionally gzipped), or a GTF/GFF3 file
        (optionally gzipped).
    transcripts
        For GTF/GFF3 input: ``canonical`` (one per gene) or ``all``.
    cache
        For GTF/GFF3 input: keep the rows as a derived table in the cache
        directory and read them from there next time
        (:mod:`spliceannot.readers.gene_table_cache`).
    """
    if spec in BUILTIN_TABLES:
        path = builtin_table_path(spec)
        return Annotation(read_table(path), source=spec)
    path = Path(spec)
    if not path.exists():
        raise InputError(
            f"{spec}: annotation not found (expected grch37, grch38, a table or a GTF/GFF3)"
        )
    if path.is_dir():
        raise InputError(f"{spec}: is a directory, expected an annotation file")
    if path.is_char_device() or path.is_block_device():  # /dev/zero would be read forever
        raise InputError(f"{spec}: is a device, expected an annotation file")
    if spec.lower().endswith(GTF_SUFFIXES):
        from spliceannot.readers.gene_table_cache import default_table_dir
        from spliceannot.readers.gtf import read_gene_models

        cache_dir = default_table_dir() if cache else None
        models = read_gene_models(path, transcripts=transcripts, cache_dir=cache_dir)
        return Annotation(models.transcripts, source=spec)
    return Annotation(read_table(path), source=spec)


def _is_gzip(path: str) -> bool:
    with open(path, "rb") as handle:
        return handle.read(2) == b"\x1f\x8b"


def _reason(error: BaseException) -> str:
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return str(error) or type(error).__name__
