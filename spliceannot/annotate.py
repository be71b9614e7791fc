"""Scoring VCF records the way SpliceAI 1.3.1 does, in batches.

:class:`VariantScorer` is the pure(ish) core: records in, INFO entries or a
pass-through reason out.  :func:`annotate_vcf` wraps it with VCF reading and
writing, streaming in chunks so memory does not grow with the input.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from spliceannot.encoding import one_hot, reverse_complement
from spliceannot.readers.annotation import Annotation
from spliceannot.readers.fasta import Reference
from spliceannot.scoring import DeltaScores, delta_scores, format_entry, format_score
from spliceannot.windows import WindowGeometry, alternate_window, reference_window

log = logging.getLogger(__name__)

# Why a record passed through unscored (keys of Summary.passed).
NO_ALT = "no ALT allele"
NO_GENE = "no overlapping gene"
NO_CONTIG = "contig not in FASTA"
CHROM_END = "too close to the contig end"
REF_MISMATCH = "REF does not match the FASTA"
REF_TOO_LONG = "REF longer than 2*D"
NO_SCORABLE_ALT = "no scorable ALT (symbolic, *, . or -)"

_UNSCORABLE = set(".-*<>")


@dataclass(frozen=True)
class Record:
    """What scoring needs of a VCF record.  ``pos`` is 1-based."""

    chrom: str
    pos: int
    ref: str
    alts: tuple[str, ...]


@dataclass
class Outcome:
    """The result for one record: INFO entries, or the reason it was not scored."""

    entries: list[str] = field(default_factory=list)
    reason: str | None = None
    # per ALT: (DS_AG, DS_AL, DS_DG, DS_DL, DP_AG, DP_AL, DP_DG, DP_DL) of the
    # transcript with the largest delta score, or None
    per_allele: list[tuple | None] = field(default_factory=list)


@dataclass
class Summary:
    """Counts for the end-of-run line."""

    read: int = 0
    written: int = 0
    scored: int = 0
    passed: Counter = field(default_factory=Counter)
    seconds: float = 0.0

    def line(self) -> str:
        reasons = ", ".join(f"{reason}: {n}" for reason, n in sorted(self.passed.items()))
        unscored = sum(self.passed.values())
        text = (
            f"records read {self.read}, written {self.written}, scored {self.scored}, "
            f"passed through {unscored}"
        )
        if reasons:
            text += f" ({reasons})"
        rate = self.read / self.seconds if self.seconds > 0 else 0.0
        return text + f"; {self.seconds:.1f} s, {rate:.2f} records/s"


@dataclass
class _Job:
    record: int
    alt: str
    name: str
    ref_key: tuple
    alt_window: str | None  # None: MNV entry with dots
    strand: str
    ref_len: int
    boundary_distance: int


class VariantScorer:
    """Score records against an annotation with a model, SpliceAI-style.

    Parameters
    ----------
    reference
        The genome.
    annotation
        Transcripts.
    predict
        Maps one-hot windows ``(length_i, 4)`` to probability tracks
        ``(length_i - flank, 3)``; typically ``Predictor.predict``.
    flank
        The model's context.
    distance
        SpliceAI's ``-D``.
    mask
        SpliceAI's ``-M 1``.
    precision
        Decimals of delta scores (2 = SpliceAI).
    encoding
        How letters other than ACGTN are one-hot encoded (see
        :mod:`spliceannot.encoding`).
    """

    def __init__(
        self,
        reference: Reference,
        annotation: Annotation,
        predict: Callable[[Sequence[np.ndarray]], list[np.ndarray]],
        *,
        flank: int,
        distance: int = 50,
        mask: bool = False,
        precision: int = 2,
        encoding: str = "spliceai",
    ) -> None:
        self.reference = reference
        self.annotation = annotation
        self.predict = predict
        self.geometry = WindowGeometry(flank=flank, distance=distance)
        self.distance = distance
        self.mask = mask
        self.precision = precision
        self.encoding = encoding

    def _plan(self, index: int, record: Record, jobs: list[_Job], ref_windows: dict) -> Outcome:
        """Check a record as SpliceAI does and queue its windows."""
        if not record.alts:
            return Outcome(reason=NO_ALT)
        rows = self.annotation.overlapping(record.chrom, record.pos)
        if not rows:
            return Outcome(reason=NO_GENE)
        contig = self.reference.resolve(record.chrom)
        if contig is None:
            return Outcome(reason=NO_CONTIG)
        geometry = self.geometry
        start, end = geometry.start(record.pos), geometry.end(record.pos)
        if start < 0 or end > self.reference.length(contig):
            return Outcome(reason=CHROM_END)
        sequence = self.reference.fetch(contig, start, end)
        center = geometry.center
        if sequence[center : center + len(record.ref)].upper() != record.ref:
            return Outcome(reason=REF_MISMATCH)
        if len(record.ref) > 2 * self.distance:
            return Outcome(reason=REF_TOO_LONG)
        queued = 0
        for alt in record.alts:
            if _UNSCORABLE.intersection(alt):
                continue
            for row in rows:
                transcript = self.annotation.transcripts[row]
                if len(record.ref) > 1 and len(alt) > 1:
                    jobs.append(_Job(index, alt, transcript.name, (), None, transcript.strand, len(record.ref), 0))
                    queued += 1
                    continue
                padding = geometry.padding(record.pos, transcript.tx_start, transcript.tx_end)
                key = (index, padding, transcript.strand)
                if key not in ref_windows:
                    ref_windows[key] = reference_window(sequence, padding)
                window = alternate_window(ref_windows[key], center, record.ref, alt)
                distance = self.annotation.boundary_distance(row, record.pos)
                jobs.append(
                    _Job(index, alt, transcript.name, key, window, transcript.strand, len(record.ref), distance)
                )
                queued += 1
        if not queued:
            return Outcome(reason=NO_SCORABLE_ALT)
        return Outcome()

    def _encode(self, text: str, strand: str) -> np.ndarray:
        encoded = one_hot(text, self.encoding)
        return np.ascontiguousarray(reverse_complement(encoded)) if strand == "-" else encoded

    def score(self, records: Sequence[Record]) -> list[Outcome]:
        """Outcomes for ``records``, in order; windows of all records share batches."""
        jobs: list[_Job] = []
        ref_windows: dict[tuple, str] = {}
        outcomes = [self._plan(i, r, jobs, ref_windows) for i, r in enumerate(records)]
        ref_keys = list(ref_windows)
        scored_jobs = [job for job in jobs if job.alt_window is not None]
        inputs = [self._encode(ref_windows[key], key[2]) for key in ref_keys]
        inputs += [self._encode(job.alt_window, job.strand) for job in scored_jobs]
        tracks = self.predict(inputs) if inputs else []
        ref_tracks = {}
        for key, track in zip(ref_keys, tracks):
            ref_tracks[key] = track[::-1] if key[2] == "-" else track
        alt_tracks = tracks[len(ref_keys) :]
        alt_iter = iter(alt_tracks)
        best: dict[tuple[int, str], tuple] = {}
        for job in jobs:
            outcome = outcomes[job.record]
            if job.alt_window is None:
                outcome.entries.append(format_entry(job.alt, job.name, None, self.precision))
                continue
            alt_track = next(alt_iter)
            if job.strand == "-":
                alt_track = alt_track[::-1]
            alt_len = len(job.alt)
            scores = delta_scores(
                ref_tracks[job.ref_key],
                alt_track,
                ref_len=job.ref_len,
                alt_len=alt_len,
                boundary_distance=job.boundary_distance,
                mask=self.mask,
            )
            outcome.entries.append(format_entry(job.alt, job.name, scores, self.precision))
            self._keep_best(best, job, scores)
        for index, (outcome, record) in enumerate(zip(outcomes, records)):
            if outcome.reason is None:
                outcome.per_allele = [best.get((index, alt)) for alt in record.alts]
        return outcomes

    def _keep_best(self, best: dict, job: _Job, scores: DeltaScores) -> None:
        rounded = tuple(float(format_score(v, self.precision)) for v in scores.scores)
        key = (job.record, job.alt)
        if key not in best or max(rounded) > max(best[key][:4]):
            best[key] = rounded + scores.positions


def record_view(record) -> Record:
    """A :class:`Record` from a pysam VariantRecord."""
    return Record(
        chrom=record.chrom,
        pos=record.pos,
        ref=record.ref or "",
        alts=tuple(record.alts or ()),
    )


def chunked(items: Iterable, size: int) -> Iterable[list]:
    chunk: list = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def annotate_records(
    records: Iterable,
    scorer: VariantScorer,
    write: Callable[[object], None],
    *,
    chunk_size: int = 64,
    per_allele_fields: bool = False,
    progress: Callable[[int], None] | None = None,
) -> Summary:
    """Score pysam records in chunks and write each, in input order.

    Parameters
    ----------
    records
        pysam VariantRecords (their header must define the SpliceAI INFO
        field, and the per-allele fields when asked for).
    scorer
        The scorer.
    write
        Called with each record, annotated or not, in input order.
    chunk_size
        Records scored together (memory is bounded by this, not the input).
    """
    summary = Summary()
    started = time.perf_counter()
    for chunk in chunked(records, chunk_size):
        summary.read += len(chunk)
        outcomes = scorer.score([record_view(r) for r in chunk])
        for record, outcome in zip(chunk, outcomes):
            if outcome.reason is not None:
                summary.passed[outcome.reason] += 1
            elif outcome.entries:
                summary.scored += 1
                record.info["SpliceAI"] = ",".join(outcome.entries)
                if per_allele_fields:
                    _set_per_allele(record, outcome.per_allele)
            write(record)
            summary.written += 1
        if progress is not None:
            progress(len(chunk))
    summary.seconds = time.perf_counter() - started
    return summary


PER_ALLELE_FIELDS = (
    ("SpliceAI_DS_AG", "Float", "acceptor gain"),
    ("SpliceAI_DS_AL", "Float", "acceptor loss"),
    ("SpliceAI_DS_DG", "Float", "donor gain"),
    ("SpliceAI_DS_DL", "Float", "donor loss"),
    ("SpliceAI_DP_AG", "Integer", "acceptor gain"),
    ("SpliceAI_DP_AL", "Integer", "acceptor loss"),
    ("SpliceAI_DP_DG", "Integer", "donor gain"),
    ("SpliceAI_DP_DL", "Integer", "donor loss"),
    ("SpliceAI_DS_MAX", "Float", "maximum"),
)


def per_allele_header_lines() -> list[str]:
    lines = []
    for key, kind, what in PER_ALLELE_FIELDS:
        measure = "delta score" if "_DS_" in key else "delta position"
        source = "of the gene with the largest delta score" if "_DP_" in key else "over genes"
        if key.endswith("MAX"):
            description = "Largest of the four SpliceAI delta scores over genes, per ALT"
        else:
            description = f"SpliceAI {what} {measure} {source}, per ALT"
        lines.append(f'##INFO=<ID={key},Number=A,Type={kind},Description="{description}">')
    return lines


def _set_per_allele(record, per_allele: list[tuple | None]) -> None:
    if all(values is None for values in per_allele):
        return
    for column, (key, _, _) in enumerate(PER_ALLELE_FIELDS):
        if key.endswith("MAX"):
            record.info[key] = tuple(None if v is None else max(v[:4]) for v in per_allele)
        else:
            record.info[key] = tuple(None if v is None else v[column] for v in per_allele)
