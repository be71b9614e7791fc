"""Writing VCF, bgzipped VCF and BCF safely.

Output to a path goes to a temporary file beside it and is renamed into
place only when complete, so an interrupted or failed run never leaves a
truncated file at the output path.
"""

from __future__ import annotations

import sys
from pathlib import Path

from spliceannot.errors import InputError
from spliceannot.atomic import discard, publish, temporary_beside

STDOUT = "-"
OUTPUT_TYPES = {"v": "w", "z": "wz", "b": "wb", "u": "wb0"}  # pysam refuses "wbu"; "wb0" = BCF, BGZF level 0


def output_type_for(path: str, requested: str | None) -> str:
    """bcftools-style output type: explicit ``--output-type`` or from the file name."""
    if requested:
        if requested not in OUTPUT_TYPES:
            raise InputError(f"--output-type must be one of {', '.join(OUTPUT_TYPES)}, got {requested!r}")
        return requested
    name = path.lower()
    if name.endswith(".bcf"):
        return "b"
    if name.endswith((".vcf.gz", ".vcf.bgz", ".gz", ".bgz")):
        return "z"
    return "v"


class AtomicVariantWriter:
    """A VCF/BCF output that appears at ``path`` only when closed successfully.

    VCF text (plain or bgzipped) is written record by record as htslib
    formats it; BCF goes through pysam.

    Parameters
    ----------
    path
        Output path, or ``-`` for standard output (written directly).
    header
        The pysam VariantHeader to write.
    output_type
        ``v`` VCF, ``z`` bgzipped VCF, ``b`` BCF, ``u`` uncompressed BCF.
    threads
        Extra compression threads (BCF).
    """

    def __init__(self, path: str, header, *, output_type: str = "v", threads: int = 0) -> None:
        import pysam

        self.path = path
        self.output_type = output_type
        self._tmp: str | None = None
        target = path
        if path != STDOUT:
            directory = Path(path).resolve().parent
            if not directory.is_dir():
                raise InputError(f"{path}: output directory {directory} does not exist")
            if Path(path).is_dir():
                raise InputError(f"{path}: is a directory, expected an output file name")
            try:
                self._tmp = temporary_beside(path)
            except OSError as error:
                raise InputError(f"{path}: cannot write output: {error.strerror}") from None
            target = self._tmp
        self._text = output_type in ("v", "z")
        self._header_records = len(header.records)
        try:
            if output_type == "v":
                self._handle = sys.stdout.buffer if target == STDOUT else open(target, "wb")
            elif output_type == "z":
                self._handle = pysam.BGZFile(target, "wb")
            else:
                if "END" not in header.info:
                    # pysam adds INFO/END to records with a symbolic ALT when it
                    # writes them; a BCF header must declare it before any record.
                    header.info.add("END", number=1, type="Integer", description="Stop position of the interval")
                    self._header_records = len(header.records)
                self._handle = pysam.VariantFile(target, OUTPUT_TYPES[output_type], header=header, threads=threads)
            if self._text:
                self._handle.write(str(header).encode())
        except (OSError, ValueError) as error:
            self._discard()
            raise InputError(f"{path}: cannot write output: {error}") from None

    def write(self, record) -> None:
        """Write one record (its header must be the one given at construction).

        Text output is the record exactly as htslib formats it, so a record
        passes through unchanged even when it uses a contig or tag that its
        header does not declare (htslib declares those on the fly while
        reading).  BCF cannot hold such a record.
        """
        if not self._text and len(record.header.records) != self._header_records:
            added = list(record.header.records)[self._header_records :]
            names = ", ".join(f"{r.key} {r.get('ID') or ''}".strip() for r in added)
            raise InputError(
                f"{self.path}: cannot write BCF: the input uses {names} at {record.chrom}:{record.pos} "
                "without declaring it in its header (add the header line, or write VCF)"
            )
        try:
            self._handle.write(record_bytes(record) if self._text else record)
        except OSError as error:
            raise InputError(f"{self.path}: cannot write record at {record.chrom}:{record.pos}: {error}") from None

    def close(self) -> None:
        """Finish the file and move it into place."""
        try:
            if self._handle is sys.stdout.buffer:
                self._handle.flush()
            else:
                self._handle.close()
        except OSError as error:  # the last blocks did not fit (full disk, file size limit)
            reason = error.strerror or error
            raise InputError(f"{self.path}: cannot write output: {reason}") from None
        if self._tmp is not None:
            publish(self._tmp, self.path)
            self._tmp = None

    def abort(self) -> None:
        """Drop a partial output."""
        try:
            if self._handle is not sys.stdout.buffer:
                self._handle.close()
        except Exception:  # closing a broken stream may fail again; the file is dropped anyway
            pass
        self._discard()

    def _discard(self) -> None:
        if self._tmp is not None:
            discard(self._tmp)
            self._tmp = None


def record_bytes(record) -> bytes:
    """A record's VCF line as htslib formats it, bytes that are not UTF-8 included."""
    try:
        return str(record).encode()
    except UnicodeDecodeError as error:  # pysam decodes the line it formatted; keep its bytes
        return bytes(error.object)


def write_index(path: str, output_type: str) -> str:
    """Index a finished bgzipped VCF (.tbi) or BCF (.csi); returns the index path."""
    import pysam

    if output_type == "z":
        pysam.tabix_index(path, preset="vcf", force=True, keep_original=True)
        return path + ".tbi"
    if output_type == "b":
        pysam.tabix_index(path, preset="vcf", force=True, keep_original=True, csi=True)
        return path + ".csi"
    raise InputError("--write-index needs bgzipped VCF (-Oz) or BCF (-Ob) output")
