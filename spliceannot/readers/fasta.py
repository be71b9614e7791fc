"""Reference sequence access (plain or bgzipped FASTA, indexed with .fai)."""

from __future__ import annotations

from pathlib import Path

from spliceannot.errors import InputError
from spliceannot.readers.contigs import ContigMatcher


class Reference:
    """A FASTA file with contig-name matching (``chr1`` = ``1``, ``chrM`` = ``MT``).

    Parameters
    ----------
    path
        Plain or bgzip-compressed FASTA.  A missing ``.fai`` (and ``.gzi``)
        index is built beside it.
    """

    def __init__(self, path: str | Path) -> None:
        import pysam

        self.path = str(path)
        p = Path(path)
        if not p.exists():
            raise InputError(f"{self.path}: reference FASTA not found")
        if p.is_dir():
            raise InputError(f"{self.path}: is a directory, expected a FASTA file")
        check_index(p)
        try:
            self._fasta = pysam.FastaFile(self.path)
        except (OSError, ValueError) as error:
            hint = ""
            with open(self.path, "rb") as handle:
                magic = handle.read(4)
            if magic[:2] == b"\x1f\x8b":
                hint = " (gzip FASTA must be bgzip-compressed: `zcat ref.fa.gz | bgzip > ref.fa.bgz`)"
            elif not magic.startswith(b">"):
                hint = " (not a FASTA file)"
            raise InputError(f"{self.path}: cannot open reference FASTA: {error}{hint}") from None
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
            raise InputError(f"{self.path}: cannot read {contig}:{start + 1}-{end}: {error}") from None

    def close(self) -> None:
        self._fasta.close()


_HEADER_PEEK = 512  # bytes read before each contig's sequence to see its header line


def check_index(path: Path) -> None:
    """Refuse a plain FASTA whose ``.fai`` no longer describes it (edited after indexing).

    htslib trusts the offsets of an existing ``.fai``; a stale one silently
    returns the wrong bases.  Each contig's header line must end right before
    its recorded offset, its first sequence line must have the recorded
    width, and its sequence must fit in the file.  (bgzipped FASTA: not checked.)
    """
    index = Path(str(path) + ".fai")
    if not index.is_file():
        return
    with open(path, "rb") as handle:
        if handle.read(2) == b"\x1f\x8b":
            return
        size = path.stat().st_size
        try:
            entries = [line.split("\t") for line in index.read_text().splitlines() if line.strip()]
            for number, fields in enumerate(entries, start=1):
                name, length, offset, bases, width = fields[0], *map(int, fields[1:5])
                start = max(0, offset - _HEADER_PEEK)
                handle.seek(start)
                before = handle.read(offset - start)
                lines = before[:-1].rsplit(b"\n", 1)
                # the header line's start is in view unless the header is longer than the peek
                header = lines[-1].rstrip(b"\r") if len(lines) > 1 or start == 0 else None
                handle.seek(offset)
                first = handle.read(width)
                full_lines, rest = divmod(length, bases) if bases else (0, 0)
                end = offset + full_lines * width + rest
                if (
                    not before.endswith(b"\n")
                    or (header is not None and header.split()[:1] != [b">" + name.encode()])
                    or (length > bases and first.find(b"\n") != width - 1)
                    or end > size
                ):
                    raise InputError(
                        f"{index}:{number}: index does not match {path} ({name!r}); the "
                        "FASTA changed after it was indexed: delete the .fai so it is rebuilt"
                    )
        except (ValueError, IndexError):
            raise InputError(
                f"{index}: not a valid FASTA index (.fai); delete it so it is rebuilt"
            ) from None
