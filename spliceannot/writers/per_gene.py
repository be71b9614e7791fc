"""``--output-mode per-gene``: one line per ALT and gene, as precomputed score files have.

Illumina's precomputed SpliceAI files and the VCFs that VEP's SpliceAI
plugin reads hold one record per (variant, ALT, gene) with a single
``SpliceAI`` INFO entry and nothing else.  This writer turns annotated
records into that shape, bgzipped, and tabix-indexes the result, so our
output can stand in for those files.
"""

from __future__ import annotations

from spliceannot.atomic import discard, publish, temporary_beside
from spliceannot.errors import InputError
from spliceannot.entry import INFO_HEADER
from spliceannot.writers.vcf import SortOrder


class PerGeneWriter:
    """Write the SpliceAI entries of annotated records, one per line, bgzipped.

    Parameters
    ----------
    path
        The output ``.vcf.gz`` (a tabix index ``.tbi`` is written beside it
        on :meth:`close`).
    header
        The input's pysam header: its ``##contig`` lines are kept.
    extra_lines
        More ``##`` lines for the header (version, command).

    Records without a ``SpliceAI`` entry are counted in :attr:`skipped` and
    not written: the file holds scores only.
    """

    def __init__(self, path: str, header, extra_lines: list[str] = ()) -> None:
        import pysam

        if path == "-":
            raise InputError("--output-mode per-gene writes a bgzipped, indexed file: give -O FILE.vcf.gz")
        self.path = path
        self.lines = 0
        self.skipped = 0
        try:
            self._tmp = temporary_beside(path)
            self._handle = pysam.BGZFile(self._tmp, "wb")
        except OSError as error:
            raise InputError(f"{path}: cannot write output: {error.strerror or error}") from None
        contigs = [str(record).rstrip("\n") for record in header.records if record.key == "contig"]
        lines = ["##fileformat=VCFv4.2", *contigs, INFO_HEADER, *extra_lines,
                 "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO"]  # fmt: skip
        try:
            self._handle.write(("\n".join(lines) + "\n").encode())
        except OSError as error:
            self.abort()
            raise InputError(f"{path}: cannot write output: {error.strerror or error}") from None
        self._order = SortOrder(path, "per-gene output must be sorted for tabix")

    def write(self, record, line: bytes | None = None, info_keys=()) -> None:
        """Write one line per SpliceAI entry of ``record`` (none if it has no entry).

        ``line`` and ``info_keys`` (the input line, the keys set) are not needed here.
        """
        entries = record.info.get("SpliceAI") if "SpliceAI" in record.header.info else None
        if not entries:
            self.skipped += 1
            return
        if isinstance(entries, str):
            entries = entries.split(",")
        self._order.check(record.chrom, record.pos)
        ident = record.id or "."
        out = []
        for entry in entries:
            allele = entry.split("|", 1)[0]
            out.append(f"{record.chrom}\t{record.pos}\t{ident}\t{record.ref}\t{allele}\t.\t.\tSpliceAI={entry}\n")
        try:
            self._handle.write("".join(out).encode())
        except OSError as error:
            reason = error.strerror or error
            raise InputError(f"{self.path}: cannot write output: {reason}") from None
        self.lines += len(out)

    def close(self) -> None:
        """Finish the file, move it into place and index it (.tbi)."""
        import pysam

        try:
            self._handle.close()
            # index the complete file before it appears, so the path never holds an unindexed one
            pysam.tabix_index(self._tmp, preset="vcf", force=True, keep_original=True)
            publish(self._tmp + ".tbi", self.path + ".tbi")
        except OSError as error:  # full disk, file size limit
            discard(self._tmp + ".tbi")
            reason = error.strerror or error
            raise InputError(f"{self.path}: cannot write output: {reason}") from None
        publish(self._tmp, self.path)
        self._tmp = None

    def abort(self) -> None:
        try:
            self._handle.close()
        except Exception:  # the file is dropped anyway
            pass
        if self._tmp is not None:
            discard(self._tmp)
            self._tmp = None
