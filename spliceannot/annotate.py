"""Scoring VCF records the way SpliceAI 1.3.1 does, in batches.

:class:`VariantScorer` is the pure(ish) core: records in, INFO entries or a
pass-through reason out.  :func:`annotate_records` streams pysam records
through it in chunks (so memory does not grow with the input) and writes
them; :func:`spliceannot.pipeline.annotate_vcf` opens the files.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from spliceannot.cache import transcript_key, variant_key
from spliceannot.readers.annotation import Annotation
from spliceannot.readers.fasta import Reference
from spliceannot.scoring import DeltaScores, delta_scores, format_entry, format_score
from spliceannot.tracks import VariantJob
from spliceannot.windows import WindowGeometry

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
    lines: int | None = None  # --output-mode per-gene: lines written
    omitted: int | None = None  # --output-mode per-gene: records without scores, left out
    retried: int = 0  # --engine ray: shards sent again after the worker running them died

    def line(self) -> str:
        reasons = ", ".join(f"{reason}: {n}" for reason, n in sorted(self.passed.items()))
        unscored = sum(self.passed.values())
        if self.lines is None:
            text = (
                f"records read {self.read}, written {self.written}, scored {self.scored}, "
                f"passed through {unscored}"
            )
        else:
            text = (
                f"records read {self.read}, scored {self.scored}, per-gene lines written {self.lines}, "
                f"records without scores left out {self.omitted}"
            )
        if reasons:
            text += f" ({reasons})"
        if self.retried:
            text += f"; {self.retried} shard(s) scored again after a worker was lost"
        rate = self.read / self.seconds if self.seconds > 0 else 0.0
        return text + f"; {self.seconds:.1f} s, {rate:.2f} records/s"


@dataclass
class _Job:
    record: int
    alt: str
    name: str
    row: int
    variant: VariantJob | None  # None: REF and ALT both longer than 1 (dots), or precomputed
    boundary_distance: int
    precomputed: list[str] | None = None  # entries found in --precomputed files


class VariantScorer:
    """Score records against an annotation, SpliceAI-style.

    Parameters
    ----------
    reference
        The genome.
    annotation
        Transcripts.
    tracks
        Computes (reference, alternate) probability tracks for variant jobs:
        a :class:`~spliceannot.tracks.ConeTracks` or
        :class:`~spliceannot.tracks.WindowTracks`.
    geometry
        Flank and ``-D`` distance.
    mask
        SpliceAI's ``-M 1``.
    precision
        Decimals of delta scores (2 = SpliceAI).
    cache
        A :class:`~spliceannot.cache.ScoreCache` consulted before computing
        and filled after (None: no cache).
    precomputed
        :class:`~spliceannot.readers.precomputed.PrecomputedScores`: an ALT
        found there takes its entries from the files and is not computed.
    model_digest
        SHA-256 of the model's weight files (part of the score cache's context).
    """

    def __init__(
        self,
        reference: Reference,
        annotation: Annotation,
        tracks: Callable[[Sequence[VariantJob]], list[tuple[np.ndarray, np.ndarray]]],
        *,
        geometry: WindowGeometry,
        mask: bool = False,
        precision: int = 2,
        cache=None,
        precomputed=None,
        model_digest: str = "",
    ) -> None:
        self.reference = reference
        self.annotation = annotation
        self.tracks = tracks
        self.geometry = geometry
        self.distance = geometry.distance
        self.mask = mask
        self.precision = precision
        self.cache = cache
        self.precomputed = precomputed
        self.model_digest = model_digest
        self._row_keys: dict[int, str] = {}

    def _plan(self, index: int, record: Record, jobs: list[_Job]) -> Outcome:
        """Check a record as SpliceAI does and queue its (ALT, transcript) jobs."""
        if not record.alts:
            return Outcome(reason=NO_ALT)
        known: dict[str, list[str]] = {}
        if self.precomputed is not None:
            for alt in record.alts:
                entries = None if _UNSCORABLE.intersection(alt) else self.precomputed.lookup(record.chrom, record.pos, record.ref, alt)
                if entries:
                    known[alt] = entries
            if known and all(alt in known for alt in record.alts if not _UNSCORABLE.intersection(alt)):
                for alt in record.alts:
                    if alt in known:
                        jobs.append(_Job(index, alt, "", -1, None, 0, known[alt]))
                return Outcome()
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
        center = geometry.center
        observed = self.reference.fetch(contig, start + center, start + center + len(record.ref))
        if observed.upper() != record.ref:
            return Outcome(reason=REF_MISMATCH)
        if len(record.ref) > 2 * self.distance or center + len(record.ref) > geometry.width:
            return Outcome(reason=REF_TOO_LONG)
        queued = 0
        for alt in record.alts:
            if _UNSCORABLE.intersection(alt):
                continue
            if alt in known:
                jobs.append(_Job(index, alt, "", -1, None, 0, known[alt]))
                queued += 1
                continue
            for row in rows:
                transcript = self.annotation.transcripts[row]
                variant = None
                distance = 0
                if len(record.ref) == 1 or len(alt) == 1:
                    variant = VariantJob(
                        contig, record.pos, record.ref, alt, transcript.strand, transcript.tx_start, transcript.tx_end
                    )
                    distance = self.annotation.boundary_distance(row, record.pos)
                jobs.append(_Job(index, alt, transcript.name, row, variant, distance))
                queued += 1
        if not queued:
            return Outcome(reason=NO_SCORABLE_ALT)
        return Outcome()

    def score(self, records: Sequence[Record]) -> list[Outcome]:
        """Outcomes for ``records``, in order; the jobs of all records are computed together."""
        jobs: list[_Job] = []
        outcomes = [self._plan(i, r, jobs) for i, r in enumerate(records)]
        scored = self._scores(jobs)
        best: dict[tuple[int, str], tuple] = {}
        for job, scores in zip(jobs, scored):
            outcome = outcomes[job.record]
            if job.precomputed is not None:
                outcome.entries.extend(job.precomputed)
                for entry in job.precomputed:
                    _keep_best_entry(best, job, entry)
                continue
            outcome.entries.append(format_entry(job.alt, job.name, scores, self.precision))
            if scores is not None:
                self._keep_best(best, job, scores)
        for index, (outcome, record) in enumerate(zip(outcomes, records)):
            if outcome.reason is None:
                outcome.per_allele = [best.get((index, alt)) for alt in record.alts]
        return outcomes

    def _scores(self, jobs: list[_Job]) -> list[DeltaScores | None]:
        """Delta scores of every job (None for jobs SpliceAI prints as dots), from the cache or computed."""
        results: list[DeltaScores | None] = [None] * len(jobs)
        keys = {i: self._cache_key(job) for i, job in enumerate(jobs) if job.variant is not None}
        cached = self.cache.get(list(keys.values())) if self.cache is not None and keys else {}
        # Jobs whose windows are identical (same variant and strand, transcripts
        # that mask the window the same way) are computed once.
        unique: dict[tuple, int] = {}
        variants: list[VariantJob] = []
        slots: list[tuple[int, int]] = []
        for i, key in keys.items():
            if key in cached:
                results[i] = cached[key]
                continue
            variant = jobs[i].variant
            window = self._window_key(variant)
            if window not in unique:
                unique[window] = len(variants)
                variants.append(variant)
            slots.append((i, unique[window]))
        computed = self.tracks(variants) if variants else []
        fresh = []
        for i, slot in slots:
            job = jobs[i]
            ref_track, alt_track = computed[slot]
            results[i] = delta_scores(
                ref_track,
                alt_track,
                ref_len=len(job.variant.ref),
                alt_len=len(job.alt),
                boundary_distance=job.boundary_distance,
                mask=self.mask,
            )
            fresh.append((keys[i], results[i]))
        if self.cache is not None and fresh:
            self.cache.put(fresh)
        return results

    def _cache_key(self, job: _Job) -> tuple[str, str]:
        row_key = self._row_keys.get(job.row)
        if row_key is None:
            row_key = transcript_key(self.annotation.transcripts[job.row].table_line())
            self._row_keys[job.row] = row_key
        variant = job.variant
        return variant_key(variant.contig, variant.pos, variant.ref, variant.alt), row_key

    def _window_key(self, variant: VariantJob) -> tuple:
        padding = self.geometry.padding(variant.pos, variant.tx_start, variant.tx_end)
        return (variant.contig, variant.pos, variant.ref, variant.alt, variant.strand, padding)

    def _keep_best(self, best: dict, job: _Job, scores: DeltaScores) -> None:
        rounded = tuple(float(format_score(v, self.precision)) for v in scores.scores)
        key = (job.record, job.alt)
        if key not in best or max(rounded) > max(best[key][:4]):
            best[key] = rounded + scores.positions


def _keep_best_entry(best: dict, job: _Job, entry: str) -> None:
    """Per-allele values from a precomputed entry ``ALLELE|SYMBOL|DS x4|DP x4``."""
    fields = entry.split("|")
    try:
        values = tuple(float(v) for v in fields[2:6]) + tuple(int(v) for v in fields[6:10])
    except ValueError:
        return
    if len(values) != 8:
        return
    key = (job.record, job.alt)
    if key not in best or max(values[:4]) > max(best[key][:4]):
        best[key] = values


_NOT_TEXT = "<not UTF-8>"  # stands for a field pysam cannot decode; never matches, never scored


def record_view(record) -> Record:
    """A :class:`Record` from a pysam VariantRecord.

    A CHROM, REF or ALT that is not UTF-8 becomes ``<not UTF-8>``, so the
    record passes through unscored (no gene, REF mismatch or no scorable ALT).
    """

    def text(read):
        try:
            return read()
        except UnicodeDecodeError:
            return _NOT_TEXT

    alts = text(lambda: tuple(record.alts or ()))
    return Record(
        chrom=text(lambda: record.chrom),
        pos=record.pos,
        ref=text(lambda: record.ref or ""),
        alts=(alts,) if alts == _NOT_TEXT else alts,
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
    scorer: VariantScorer | None,
    write: Callable[[object], None],
    *,
    chunk_size: int = 64,
    per_allele_fields: bool = False,
    progress: Callable[[int], None] | None = None,
    pool=None,
) -> Summary:
    """Score pysam records in chunks and write each, in input order.

    Parameters
    ----------
    records
        pysam VariantRecords (their header must define the SpliceAI INFO
        field, and the per-allele fields when asked for).
    scorer
        The scorer (unused when ``pool`` is given).
    write
        Called with each record, annotated or not, in input order.
    chunk_size
        Records scored together (memory is bounded by this, not the input).
    pool
        A :class:`~spliceannot.parallel.ScoringPool` to score chunks in
        worker processes instead.
    """
    summary = Summary()
    started = time.perf_counter()
    chunks = pool.chunks(records, chunk_size) if hasattr(pool, "chunks") else chunked(records, chunk_size)
    if pool is not None:
        scored = pool.map_ordered(chunks)
    else:
        scored = ((chunk, scorer.score([record_view(r) for r in chunk])) for chunk in chunks)
    for chunk, outcomes in scored:
        summary.read += len(chunk)
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
