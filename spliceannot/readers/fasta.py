"""Reference sequence access (plain or bgzipped FASTA, indexed with .fai)."""

from __future__ import annotations

from pathlib import Path

from spliceannot.errors import InputError
from spliceannot.readers.contigs import ContigMatcher
from spliceannot.readers.fasta_index import ensure_index


class Reference:
    """A FASTA file with contig-name matching (``chr1`` = ``1``, ``chrM`` = ``MT``).

    Parameters
    ----------
    path
        Plain or bgzip-compressed FASTA.  Its ``.fai`` (and ``.gzi``) index
        is checked against it, and built beside it when missing or cut off
        (atomically; in the cache directory when the FASTA's directory is
        read-only): see :mod:`spliceannot.readers.fasta_index`.
    """

    def __init__(self, path: str | Path) -> None:
        import pysam

        self.path = str(path)
        p = Path(path)
        if not p.exists():
            raise InputError(f"{self.path}: reference FASTA not found")
        if p.is_dir():
            raise InputError(f"{self.path}: is a directory, expected a FASTA file")
        if p.is_char_device() or p.is_block_device():
            raise InputError(f"{self.path}: is a device, expected a FASTA file")
        try:
            index = ensure_index(p)
        except OSError as error:
            where = error.filename or self.path
            raise InputError(
                f"{where}: cannot read or index the reference FASTA: {error.strerror or error}"
            ) from None
        try:
            self._fasta = pysam.FastaFile(
                self.path, filepath_index=index.fai, filepath_index_compressed=index.gzi
            )
        except (OSError, ValueError) as error:
            raise InputError(f"{self.path}: cannot open reference FASTA: {error}") from None
        self.lengths = dict(zip(self._fasta.references, self._fasta.lengths))
        self.contigs = ContigMatcher(self.lengths)

    def resolve(self, chrom: str) -> str | None:
        """This FASTA's name for ``chrom``, or None."""
        return self.contigs.resolve(chrom)

    def length(self, contig: str) -> int:
        return self.lengths[contig]

    def fetch(self, contig: str, start: int, end: int) -> str:
        """Bases ``[start, end)`` (0-based) of ``contig`` (a name this FASTA has), case kept."""
        try:
            return self._fasta.fetch(contig, start, end)
        except (ValueError, KeyError, OSError) as error:
            raise InputError(
                f"{self.path}: cannot read {contig}:{start + 1}-{end}: {error}"
            ) from None

    def close(self) -> None:
        self._fasta.close()
