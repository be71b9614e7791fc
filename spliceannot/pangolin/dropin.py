"""``spliceannot pangolin``'s files: Pangolin's VCF and CSV in, the same files out.

Pangolin 5cf94b8 writes ``PREFIX.vcf`` through PyVCF (every record, re-rendered:
:mod:`spliceannot.pangolin.vcf_text`; a line PyVCF cannot read is a one-line
error here, where Pangolin stops with a traceback) or ``PREFIX.csv`` through pandas
(every row, the ``Pangolin`` column appended), and prints a warning line per
record it skips on standard output.  Records are scored in chunks; the
output appears only when the whole input was read and scored.
"""

from __future__ import annotations

import gzip
from collections.abc import Callable, Iterator
from pathlib import Path

from spliceannot.atomic import atomic_path
from spliceannot.errors import InputError
from spliceannot.outcome import NO_CONTIG, Summary
from spliceannot.pangolin.scorer import INFO_KEY
from spliceannot.stream import chunked
from spliceannot.values import Record

CHUNK = 256
INFO_DEFINITION = (
    INFO_KEY,
    ".",
    "String",
    "Pangolin splice scores. Format: gene|pos:score_change|pos:score_change|warnings,...",
)

Warn = Callable[[str], None]


def warning_line(number: int, message: str) -> str:
    """Pangolin's line for a skipped record."""
    return f"[Line {number}] WARNING, skipping variant: {message}"


def _warn(warn: Warn, number: int, record: Record, outcome) -> None:
    """Pangolin's lines for a skipped record: its FASTA library's message for a contig it lacks,
    then the warning."""
    if outcome.reason is None:
        return
    if outcome.reason == NO_CONTIG:
        warn(f"'{record.chrom} does not exist in fasta file'")
    warn(warning_line(number, outcome.message or outcome.reason))


# --------------------------------------------------------------------------- VCF


def _open_text(path: str):
    try:
        with open(path, "rb") as handle:
            compressed = handle.read(2) == b"\x1f\x8b"
        return gzip.open(path, "rt", encoding="utf-8", newline="") if compressed else open(
            path, encoding="utf-8", newline=""
        )
    except OSError as error:
        raise InputError(f"{path}: {error.strerror or error}") from None


def _vcf_lines(path: str) -> tuple[list[str], Iterator[tuple[int, str]]]:
    """The header lines and an iterator of ``(line number, data line)``."""
    handle = _open_text(path)
    header: list[str] = []
    number = 0
    try:
        for raw in handle:
            number += 1
            line = raw.rstrip("\r\n")
            if line.startswith("#"):
                header.append(line)
                if not line.startswith("##"):
                    break
                continue
            raise InputError(f"{path}:{number}: a record before the #CHROM header line")
    except UnicodeDecodeError:
        handle.close()
        raise InputError(f"{path}:{number + 1}: not UTF-8 text") from None
    if not header or header[-1].startswith("##"):
        handle.close()
        raise InputError(f"{path}: no #CHROM header line (not a VCF)")

    def data() -> Iterator[tuple[int, str]]:
        current = number
        try:
            for raw in handle:
                current += 1
                line = raw.rstrip("\r\n")
                if line:
                    yield current, line
        except UnicodeDecodeError:
            raise InputError(f"{path}:{current + 1}: not UTF-8 text") from None
        finally:
            handle.close()

    return header, data()


def _vcf_record(path: str, number: int, line: str) -> Record:
    fields = line.split("\t")
    if len(fields) < 8:
        raise InputError(f"{path}:{number}: a VCF record needs 8 tab-separated columns, found {len(fields)}")
    try:
        pos = int(fields[1])
    except ValueError:
        raise InputError(f"{path}:{number}: POS is not a number: {fields[1]!r}") from None
    alts = tuple(alt for alt in fields[4].split(",") if alt != ".")
    return Record(chrom=fields[0], pos=pos, ref=fields[3], alts=alts)


def annotate_vcf(path: str, output: str, scorer, warn: Warn) -> Summary:
    """Score ``path`` into ``output`` (PyVCF's rendering, Pangolin's INFO field)."""
    from spliceannot.pangolin.vcf_text import PyvcfText

    header, data = _vcf_lines(path)
    text = PyvcfText(header, [INFO_DEFINITION])
    if text.header_problems:  # Pangolin stops there with PyVCF's traceback
        raise InputError(f"{path}: header: {text.header_problems[0]}")
    summary = Summary()
    with atomic_path(output) as temporary, open(temporary, "w", encoding="utf-8", newline="") as out:
        out.write(text.header())
        for chunk in chunked(data, CHUNK):
            for number, line in chunk:
                problems = text.record_problems(line)
                if problems:  # Pangolin stops there with PyVCF's traceback
                    raise InputError(f"{path}:{number}: {problems[0]}")
            records = [_vcf_record(path, number, line) for number, line in chunk]
            for (number, line), record, outcome in zip(chunk, records, scorer.score(records)):
                summary.count(record, outcome)
                _warn(warn, number, record, outcome)
                out.write(text.record(line, outcome.fields))
                summary.written += 1
    return summary


# --------------------------------------------------------------------------- CSV


def read_csv(path: str, column_ids: str):
    """The table (pandas, as Pangolin reads it) and its four column ids; a one-line error when
    the file cannot be read or lacks a named column."""
    import pandas as pd

    try:
        table = pd.read_csv(path, header=0)
    except (OSError, ValueError, UnicodeDecodeError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise InputError(f"{path}: cannot read as CSV: {first}") from None
    columns = column_ids.split(",")
    missing = [c for c in columns if c not in table.columns]
    if len(columns) != 4 or missing:
        shown = ", ".join(str(c) for c in table.columns)
        what = f"no column {', '.join(missing)}" if missing else f"-c needs 4 column ids, got {len(columns)}"
        raise InputError(f"{path}: {what} (columns: {shown})")
    return table, columns


def annotate_csv(path: str, table, columns: list[str], output: str, scorer, warn: Warn) -> Summary:
    """Score the rows of ``table`` (:func:`read_csv` of ``path``) into ``output``: each row as
    pandas prints it, then its scores."""
    summary = Summary()
    with atomic_path(output) as temporary, open(temporary, "w", encoding="utf-8", newline="") as out:
        out.write(",".join(str(c) for c in table.columns) + ",Pangolin\n")
        rows = ((index, row) for index, row in table.iterrows())
        for chunk in chunked(rows, CHUNK):
            records = [_csv_record(path, index, row, columns) for index, row in chunk]
            for (index, row), record, outcome in zip(chunk, records, scorer.score(records)):
                summary.count(record, outcome)
                printed = ",".join(row.to_csv(header=False, index=False).split("\n"))
                _warn(warn, index + 1, record, outcome)
                out.write(printed + outcome.fields.get(INFO_KEY, "") + "\n")
                summary.written += 1
    return summary


def _csv_record(path: str, index: int, row, columns: list[str]) -> Record:
    chrom, pos, ref, alt = row[columns]
    try:
        return Record(chrom=str(chrom), pos=int(pos), ref=ref.upper(), alts=(alt.upper(),))
    except (TypeError, ValueError, AttributeError):
        raise InputError(
            f"{path}: row {index + 1}: {columns[1]} must be a number and {columns[2]}, {columns[3]} text "
            f"(got {pos!r}, {ref!r}, {alt!r})"
        ) from None


def output_path(prefix: str, variants: str) -> tuple[str, str]:
    """``(kind, PREFIX.vcf or PREFIX.csv)`` for a variant file named ``.vcf`` (``.vcf.gz``) or ``.csv``."""
    name = Path(variants).name.lower()
    if name.endswith((".vcf", ".vcf.gz", ".vcf.bgz")):
        return "vcf", prefix + ".vcf"
    if name.endswith(".csv"):
        return "csv", prefix + ".csv"
    raise InputError(f"{variants}: variant_file needs to be a CSV or VCF (.csv, .vcf or .vcf.gz)")
