"""Output checks: INFO strings against SpliceAI, OpenSpliceAI's relation, pass-through.

An INFO entry is ``ALLELE|SYMBOL|DS_AG|DS_AL|DS_DG|DS_DL|DP_AG|DP_AL|DP_DG|DP_DL``.
A difference from SpliceAI is classified, per record, as the worst of its
entries' classes:

- ``tie``: the four DS strings are equal and a DP differs only where its DS
  prints 0.00 (the maximum of a flat track: any position is a maximum);
- ``sign of zero``: DS equal as numbers, but ``-0.00`` against ``0.00``;
- ``rounding``: some DS differ by exactly 0.01 (a value on a rounding
  boundary), DPs as for a tie;
- ``other``: anything else (a real difference).
"""

from __future__ import annotations

import gzip
import hashlib
import math
import statistics
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

CLASS_ORDER = ("tie", "sign of zero", "rounding", "other")
HIGH_SCORE = 0.2  # a delta score at or above this is commonly read as splice-altering


@dataclass(frozen=True)
class VcfRecord:
    chrom: str
    pos: int
    ident: str
    ref: str
    alt: str
    info: str

    @property
    def key(self) -> tuple[str, int, str, str]:
        return (self.chrom, self.pos, self.ref, self.alt)

    def label(self) -> str:
        return f"{self.chrom}:{self.pos} {self.ref}>{self.alt}" + (
            f" ({self.ident})" if self.ident != "." else ""
        )

    def value(self, key: str) -> str | None:
        """The value of INFO field ``key``, or None when absent."""
        for item in self.info.split(";"):
            name, _, value = item.partition("=")
            if name == key:
                return value
        return None


def iter_records(path: Path) -> Iterator[VcfRecord]:
    """The data lines of a plain or gzipped VCF."""
    opener = gzip.open if path.suffix in (".gz", ".bgz") else open
    with opener(path, "rt") as handle:
        for line in handle:
            if line.startswith("#"):
                continue
            fields = line.rstrip("\n").split("\t")
            yield VcfRecord(
                fields[0],
                int(fields[1]),
                fields[2],
                fields[3],
                fields[4],
                fields[7] if len(fields) > 7 else ".",
            )


def data_digest(path: Path) -> str:
    """SHA-256 of a VCF's data lines (headers, which hold dates and command lines, left out)."""
    digest = hashlib.sha256()
    opener = gzip.open if path.suffix in (".gz", ".bgz") else open
    with opener(path, "rb") as handle:
        for line in handle:
            if not line.startswith(b"#"):
                digest.update(line)
    return digest.hexdigest()


def _fields(entry: str) -> list[str]:
    return entry.split("|")


def classify_entry(ours: str, reference: str) -> str | None:
    """The class of the difference between two INFO entries, or None if they are equal."""
    if ours == reference:
        return None
    a, b = _fields(ours), _fields(reference)
    if len(a) != 10 or len(b) != 10 or a[:2] != b[:2] or "." in a[2:] + b[2:]:
        return "other"
    try:
        ds_a, ds_b = [float(x) for x in a[2:6]], [float(x) for x in b[2:6]]
    except ValueError:
        return "other"
    dp_ok = all(a[6 + i] == b[6 + i] or (ds_a[i] == 0.0 and ds_b[i] == 0.0) for i in range(4))
    if not dp_ok:
        return "other"
    if a[2:6] == b[2:6]:
        return "tie"
    largest = max(abs(x - y) for x, y in zip(ds_a, ds_b))
    if largest == 0.0:
        return "sign of zero"
    if largest <= 0.01 + 1e-9:
        return "rounding"
    return "other"


def classify_value(ours: str, reference: str) -> str | None:
    """The worst entry class of two INFO values, or None if they are equal."""
    if ours == reference:
        return None
    a, b = ours.split(","), reference.split(",")
    if len(a) != len(b):
        return "other"
    classes = [c for c in (classify_entry(x, y) for x, y in zip(a, b)) if c]
    return max(classes, key=CLASS_ORDER.index) if classes else None


@dataclass
class Difference:
    record: str
    kind: str
    ours: str | None
    reference: str | None


@dataclass
class Fidelity:
    """Our INFO strings against SpliceAI's, record for record.

    Attributes
    ----------
    records_ours, records_reference : int
        Data lines in each output.
    same_records : bool
        Both outputs hold the same records (CHROM, POS, REF, ALT) in the same order.
    annotated : int
        Records that SpliceAI annotated.
    identical : int
        Records whose SpliceAI INFO value is identical (or absent in both).
    classes : Counter
        Differing records per class (:data:`CLASS_ORDER`, plus ``missing``).
    differences : list of Difference
    """

    records_ours: int = 0
    records_reference: int = 0
    same_records: bool = True
    annotated: int = 0
    identical: int = 0
    classes: Counter = field(default_factory=Counter)
    differences: list = field(default_factory=list)

    @property
    def all_explained(self) -> bool:
        """True when every difference is a tie, a sign of zero or a rounding boundary."""
        return self.same_records and not (self.classes.get("other") or self.classes.get("missing"))


def _paired(
    ours: list[VcfRecord], reference: list[VcfRecord]
) -> tuple[list[tuple[VcfRecord, VcfRecord]], bool]:
    """Records of both outputs paired by (CHROM, POS, REF, ALT) and occurrence."""
    if [r.key for r in ours] == [r.key for r in reference]:
        return list(zip(ours, reference)), True
    pool: dict[tuple, list[VcfRecord]] = {}
    for record in reference:
        pool.setdefault(record.key, []).append(record)
    pairs = [(record, pool[record.key].pop(0)) for record in ours if pool.get(record.key)]
    return pairs, False


def compare_to_spliceai(ours_vcf: Path, spliceai_vcf: Path, key: str = "SpliceAI") -> Fidelity:
    """Compare the INFO field ``key`` of our output with SpliceAI's, record for record."""
    ours, reference = list(iter_records(ours_vcf)), list(iter_records(spliceai_vcf))
    pairs, same_order = _paired(ours, reference)
    result = Fidelity(
        records_ours=len(ours),
        records_reference=len(reference),
        same_records=same_order and len(ours) == len(reference),
    )
    for a, b in pairs:
        va, vb = a.value(key), b.value(key)
        result.annotated += vb is not None
        if va == vb:
            result.identical += 1
            continue
        kind = "missing" if va is None or vb is None else classify_value(va, vb)
        result.classes[kind] += 1
        result.differences.append(Difference(b.label(), kind, va, vb))
    return result


@dataclass
class Relation:
    """How another tool's scores relate to SpliceAI's (different models: not expected equal).

    Entries are paired by record, allele and gene; entries with ``.`` scores
    (REF and ALT both longer than one base) are left out.
    """

    records_other: int = 0
    records_reference: int = 0
    same_records: bool = True
    annotated_other: int = 0
    annotated_reference: int = 0
    entries: int = 0
    identical_entries: int = 0
    max_abs_diffs: list = field(default_factory=list)
    pearson_r: float = math.nan
    high_reference: int = 0
    high_other: int = 0
    high_both: int = 0
    same_dp_when_high: int = 0

    def fraction_within(self, tolerance: float) -> float:
        if not self.max_abs_diffs:
            return math.nan
        return sum(d <= tolerance + 1e-9 for d in self.max_abs_diffs) / len(self.max_abs_diffs)


def _entries(value: str | None) -> dict[tuple[str, str], list[str]]:
    if not value:
        return {}
    out = {}
    for entry in value.split(","):
        fields = _fields(entry)
        if len(fields) == 10 and "." not in fields[2:]:
            out[(fields[0], fields[1])] = fields[2:]
    return out


def relate(other_vcf: Path, other_key: str, spliceai_vcf: Path, key: str = "SpliceAI") -> Relation:
    """Compare another tool's scores (INFO ``other_key``) with SpliceAI's (INFO ``key``)."""
    other, reference = list(iter_records(other_vcf)), list(iter_records(spliceai_vcf))
    pairs, same_order = _paired(other, reference)
    result = Relation(
        records_other=len(other),
        records_reference=len(reference),
        same_records=same_order and len(other) == len(reference),
    )
    xs: list[float] = []
    ys: list[float] = []
    for a, b in pairs:
        va, vb = a.value(other_key), b.value(key)
        result.annotated_other += va is not None
        result.annotated_reference += vb is not None
        ea, eb = _entries(va), _entries(vb)
        for entry_key in ea.keys() & eb.keys():
            fa, fb = ea[entry_key], eb[entry_key]
            ds_a, ds_b = [float(x) for x in fa[:4]], [float(x) for x in fb[:4]]
            result.entries += 1
            result.identical_entries += fa == fb
            result.max_abs_diffs.append(max(abs(x - y) for x, y in zip(ds_a, ds_b)))
            xs.extend(ds_a)
            ys.extend(ds_b)
            high_a, high_b = max(ds_a) >= HIGH_SCORE, max(ds_b) >= HIGH_SCORE
            result.high_other += high_a
            result.high_reference += high_b
            if high_a and high_b:
                result.high_both += 1
                top_a, top_b = ds_a.index(max(ds_a)), ds_b.index(max(ds_b))
                result.same_dp_when_high += top_a == top_b and fa[4 + top_a] == fb[4 + top_b]
    if len(xs) > 1 and len(set(xs)) > 1 and len(set(ys)) > 1:
        result.pearson_r = statistics.correlation(xs, ys)
    return result


@dataclass(frozen=True)
class PassThrough:
    """Whether every input record came out, in order, and how many were annotated."""

    records_in: int
    records_out: int
    in_order: bool
    annotated: int
    first_mismatch: str | None


def check_pass_through(input_vcf: Path, output_vcf: Path, key: str = "SpliceAI") -> PassThrough:
    """Stream input and output side by side (constant memory, for the scale workloads)."""
    n_in = n_out = annotated = 0
    first_mismatch = None
    outputs = iter_records(output_vcf)
    for record in iter_records(input_vcf):
        n_in += 1
        produced = next(outputs, None)
        if produced is None:
            first_mismatch = (
                first_mismatch or f"output ends before input record {n_in} ({record.label()})"
            )
            continue
        n_out += 1
        annotated += produced.value(key) is not None
        if produced.key != record.key and first_mismatch is None:
            first_mismatch = f"record {n_in}: input {record.label()}, output {produced.label()}"
    for produced in outputs:
        n_out += 1
        first_mismatch = first_mismatch or f"extra output record {produced.label()}"
    return PassThrough(n_in, n_out, first_mismatch is None, annotated, first_mismatch)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else math.nan
