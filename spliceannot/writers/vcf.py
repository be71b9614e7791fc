"""Writing VCF, bgzipped VCF and BCF safely.

Output to a regular file goes to a temporary file beside it and is renamed
into place only when complete (and indexed, with ``--write-index``), so an
interrupted or failed run never leaves a truncated file at the output path;
pipes and devices are written in place (:mod:`spliceannot.atomic`).

Text output keeps each record's line as the input wrote it: a record that
gains INFO fields gets them spliced into its INFO column, every other byte
as it came (htslib would rewrite type-mismatched values, QUAL spellings and
more).  BCF output holds what htslib parsed.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from spliceannot.atomic import STDOUT, discard, output_target, publish, temporary_beside
from spliceannot.errors import InputError

OUTPUT_TYPES = {"v": "w", "z": "wz", "b": "wb", "u": "wb0"}  # pysam refuses "wbu"; "wb0" = BCF, BGZF level 0
INDEX_SUFFIXES = {"z": ".tbi", "b": ".csi"}


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


class SortOrder:
    """Checks that records come sorted (each contig in one block, positions not decreasing)."""

    def __init__(self, path: str, purpose: str) -> None:
        self.path = path
        self.purpose = purpose
        self._last: tuple[str, int] | None = None
        self._done: set[str] = set()

    def check(self, chrom: str, pos: int) -> None:
        last = self._last
        if last is not None and (chrom == last[0] and pos < last[1] or chrom != last[0] and chrom in self._done):
            raise InputError(
                f"{self.path}: {self.purpose}, but the input is not sorted: {chrom}:{pos} comes after "
                f"{last[0]}:{last[1]} (sort it with `bcftools sort`)"
            )
        if last is not None and chrom != last[0]:
            self._done.add(last[0])
        self._last = (chrom, pos)


class AtomicVariantWriter:
    """A VCF/BCF output that appears at ``path`` only when closed successfully.

    Parameters
    ----------
    path
        Output path, or ``-`` for standard output (written directly, as are
        pipes and devices).
    header
        The pysam VariantHeader to write.
    output_type
        ``v`` VCF, ``z`` bgzipped VCF, ``b`` BCF, ``u`` uncompressed BCF.
    threads
        Extra compression threads (BCF).
    index
        Also write a ``.tbi`` (``z``) or ``.csi`` (``b``) index; records must
        come sorted.  The index is built before the file is moved into place,
        so the two appear together.
    """

    def __init__(self, path: str, header, *, output_type: str = "v", threads: int = 0, index: bool = False) -> None:
        import pysam

        self.path = path
        self.output_type = output_type
        self._tmp: str | None = None
        self._order: SortOrder | None = None
        target = output_target(path)
        if index:
            if output_type not in INDEX_SUFFIXES or not target.atomic:
                raise InputError("--write-index needs an output file of type z (bgzipped VCF) or b (BCF)")
            self._order = SortOrder(path, "--write-index needs sorted records")
        self._target = target
        destination = target.path
        if target.atomic:
            if not Path(target.path).parent.is_dir():
                raise InputError(f"{path}: output directory {Path(target.path).parent} does not exist")
            if Path(target.path).is_dir():
                raise InputError(f"{path}: is a directory, expected an output file name")
            try:
                self._tmp = temporary_beside(target.path)
            except OSError as error:
                raise InputError(f"{path}: cannot write output: {error.strerror}") from None
            destination = self._tmp
        self._text = output_type in ("v", "z")
        self._header_records = len(header.records)
        try:
            if output_type == "v":
                self._handle = sys.stdout.buffer if destination == STDOUT else open(destination, "wb")
            elif output_type == "z":
                self._handle = pysam.BGZFile(destination, "wb")
            else:
                if "END" not in header.info:
                    # pysam adds INFO/END to records with a symbolic ALT when it
                    # writes them; a BCF header must declare it before any record.
                    header.info.add("END", number=1, type="Integer", description="Stop position of the interval")
                    self._header_records = len(header.records)
                self._handle = pysam.VariantFile(destination, OUTPUT_TYPES[output_type], header=header, threads=threads)
            if self._text:
                self._handle.write(str(header).encode())
        except (OSError, ValueError) as error:
            self._discard()
            raise InputError(f"{path}: cannot write output: {getattr(error, 'strerror', None) or error}") from None

    @property
    def keeps_lines(self) -> bool:
        """Whether records given with their line are written as that line (text output)."""
        return self._text

    def write(self, record, line: bytes | None = None, info_keys: Sequence[str] = ()) -> None:
        """Write one record (its header must be the one given at construction).

        Parameters
        ----------
        record
            The pysam record.
        line
            Its input line (no line end), or None.  Text output writes the
            line as it is, with the values of ``info_keys`` taken from
            ``record`` and spliced into its INFO column.  Without a line, text
            output is the record as htslib formats it, so a record passes
            through even when it uses a contig or tag that its header does
            not declare.  BCF cannot hold such a record.
        info_keys
            INFO keys set on ``record`` since it was read.
        """
        if self._order is not None:
            self._order.check(record.chrom, record.pos)
        if not self._text and len(record.header.records) != self._header_records:
            added = list(record.header.records)[self._header_records :]
            names = ", ".join(f"{r.key} {r.get('ID') or ''}".strip() for r in added)
            raise InputError(
                f"{self.path}: cannot write BCF: the input uses {names} at {record.chrom}:{record.pos} "
                "without declaring it in its header (add the header line, or write VCF)"
            )
        if not self._text:
            data = record
        elif line is None:
            data = record_bytes(record)
        elif info_keys:
            data = splice_info(line, record, info_keys) + b"\n"
        else:
            data = line + b"\n"
        try:
            self._handle.write(data)
        except OSError as error:
            raise InputError(
                f"{self.path}: cannot write record at {record.chrom}:{record.pos}: {error.strerror or error}"
            ) from None

    def close(self) -> None:
        """Finish the file, index it if asked, and move it (and its index) into place."""
        try:
            if self._handle is sys.stdout.buffer:
                self._handle.flush()
            else:
                self._handle.close()
        except OSError as error:  # the last blocks did not fit (full disk, file size limit)
            self._discard()
            raise InputError(f"{self.path}: cannot write output: {error.strerror or error}") from None
        if self._tmp is None:
            return
        if self._order is not None:
            index = self._tmp + INDEX_SUFFIXES[self.output_type]
            try:
                write_index(self._tmp, self.output_type)
                publish(index, self._target.path + INDEX_SUFFIXES[self.output_type])
            except (OSError, InputError) as error:
                discard(index)
                self._discard()
                reason = getattr(error, "strerror", None) or error
                raise InputError(f"{self.path}: cannot write the index: {reason}") from None
        publish(self._tmp, self._target.path)
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


_INFO_COLUMN = 7


def splice_info(line: bytes, record, keys: Sequence[str]) -> bytes:
    """``line`` with the INFO entries ``keys`` of ``record`` (as htslib formats them) put in.

    An entry the line already has is replaced where it stands; new ones are
    appended, in htslib's order.  Every other byte of the line is kept.
    """
    wanted = {key.encode() for key in keys}
    formatted = record_bytes(record).rstrip(b"\n").split(b"\t")[_INFO_COLUMN]
    new = [token for token in formatted.split(b";") if token.split(b"=", 1)[0] in wanted]
    fields = line.split(b"\t")
    info = fields[_INFO_COLUMN]
    tokens = [] if info in (b".", b"") else info.split(b";")
    by_key = {token.split(b"=", 1)[0]: token for token in new}
    kept = []
    for token in tokens:
        key = token.split(b"=", 1)[0]
        if key in wanted:
            if key in by_key:
                kept.append(by_key.pop(key))
            continue  # a key we set but htslib dropped, or a repeat
        kept.append(token)
    kept.extend(token for token in new if token.split(b"=", 1)[0] in by_key)
    fields[_INFO_COLUMN] = b";".join(kept) if kept else b"."
    return b"\t".join(fields)


def write_index(path: str, output_type: str) -> str:
    """Index a finished bgzipped VCF (.tbi) or BCF (.csi); returns the index path."""
    import pysam

    if output_type not in INDEX_SUFFIXES:
        raise InputError("--write-index needs bgzipped VCF (-Oz) or BCF (-Ob) output")
    pysam.tabix_index(path, preset="vcf", force=True, keep_original=True, csi=output_type == "b")
    return path + INDEX_SUFFIXES[output_type]
