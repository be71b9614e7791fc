"""Scoring VCF records the way SpliceAI 1.3.1 does, in batches.

:class:`VariantScorer` is the pure(ish) core: records in, INFO entries or a
pass-through reason out.  :mod:`spliceannot.stream` streams pysam records
through it in chunks (so memory does not grow with the input) and writes
them; :func:`spliceannot.pipeline.annotate_vcf` opens the files.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from spliceannot.cache import transcript_key, variant_key
from spliceannot.entry import entry_values, format_entry, format_score
from spliceannot.outcome import (
    CHROM_END,
    COMPUTED,
    CONTIG_NOT_ANNOTATED,
    FROM_CACHE,
    FROM_PRECOMPUTED,
    NO_ALT,
    NO_CONTIG,
    NO_GENE,
    NO_SCORABLE_ALT,
    REF_MISMATCH,
    REF_TOO_LONG,
    Outcome,
)
from spliceannot.readers.annotation import Annotation
from spliceannot.readers.fasta import Reference
from spliceannot.scoring import DeltaScores, delta_scores
from spliceannot.tracks import window_key
from spliceannot.values import Record, Span, Variant, VariantJob
from spliceannot.windows import WindowGeometry

log = logging.getLogger(__name__)

UNSCORABLE = frozenset(".-*<>")  # an ALT holding one of these is not scored (SpliceAI 1.3.1)


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
        Called as ``tracks(jobs, geometry)``; computes (reference, alternate)
        probability tracks for variant jobs in this scorer's geometry:
        a :class:`~spliceannot.tracks.ConeTracks` or
        :class:`~spliceannot.tracks.WindowTracks`.
    geometry
        Flank and ``-D`` distance: this scorer owns it and hands it to the
        track source with every call.
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
        tracks: Callable[[Sequence[VariantJob], WindowGeometry], list[tuple[np.ndarray, np.ndarray]]],
        *,
        geometry: WindowGeometry,
        mask: bool = False,
        precision: int = 2,
        cache=None,
        precomputed=None,
        model_digest: str = "",
        mnv: bool = False,
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
        self.mnv = mnv
        self._row_keys: dict[int, str] = {}

    def derive(self, *, distance: int | None = None, mask: bool | None = None, cache=None, tracks=None) -> VariantScorer:
        """A scorer sharing this one's genome, annotation and track source (so its loaded model).

        ``distance``/``mask``: another ``-D``/``-M`` (default: this scorer's);
        ``cache``: the score cache of the new scorer (one whose context names
        its ``-D``/``-M``; None: no cache); ``tracks``: another track source
        (default: this one's).  Precomputed score files are not carried over
        (they hold scores of one ``-D``/``-M``).
        """
        distance = self.distance if distance is None else distance
        return VariantScorer(
            self.reference,
            self.annotation,
            self.tracks if tracks is None else tracks,
            geometry=WindowGeometry(flank=self.geometry.flank, distance=distance),
            mask=self.mask if mask is None else mask,
            precision=self.precision,
            cache=cache,
            model_digest=self.model_digest,
            mnv=self.mnv,
        )

    def _plan(self, index: int, record: Record, jobs: list[_Job]) -> Outcome:
        """Check a record as SpliceAI does and queue its (ALT, transcript) jobs."""
        if not record.alts:
            return Outcome(reason=NO_ALT)
        known: dict[str, list[str]] = {}
        if self.precomputed is not None:
            for alt in record.alts:
                entries = None if UNSCORABLE.intersection(alt) else self.precomputed.lookup(record.chrom, record.pos, record.ref, alt)
                if entries:
                    known[alt] = entries
            if known and all(alt in known for alt in record.alts if not UNSCORABLE.intersection(alt)):
                for alt in record.alts:
                    if alt in known:
                        jobs.append(_Job(index, alt, "", -1, None, 0, known[alt]))
                return Outcome()
        rows = self.annotation.overlapping(record.chrom, record.pos)
        if not rows:
            # written as SpliceAI writes it (no gene comes first); counted by its cause
            if self.reference.resolve(record.chrom) is None:
                return Outcome(reason=NO_CONTIG)
            if self.annotation.contigs.resolve(record.chrom) is None:
                return Outcome(reason=NO_GENE, hint=CONTIG_NOT_ANNOTATED)
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
            if UNSCORABLE.intersection(alt):
                continue
            if alt in known:
                jobs.append(_Job(index, alt, "", -1, None, 0, known[alt]))
                queued += 1
                continue
            for row in rows:
                transcript = self.annotation.transcripts[row]
                variant = None
                distance = 0
                if len(record.ref) == 1 or len(alt) == 1 or self.mnv:
                    variant = VariantJob(
                        Variant(contig, record.pos, record.ref, alt),
                        transcript.strand,
                        Span(transcript.tx_start, transcript.tx_end),
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
        scored, sources = self._scores(jobs)
        best: dict[tuple[int, str], tuple] = {}
        for job, scores, source in zip(jobs, scored, sources):
            outcome = outcomes[job.record]
            outcome.source = _stronger_source(outcome.source, source)
            if job.precomputed is not None:
                outcome.entries.extend(job.precomputed)
                for entry in job.precomputed:
                    _keep_best(best, job, entry_values(entry))
                continue
            outcome.entries.append(format_entry(job.alt, job.name, scores, self.precision))
            if scores is not None:
                rounded = tuple(float(format_score(v, self.precision)) for v in scores.scores)
                _keep_best(best, job, rounded + tuple(scores.positions))
        for index, (outcome, record) in enumerate(zip(outcomes, records)):
            if outcome.reason is None:
                outcome.per_allele = [best.get((index, alt)) for alt in record.alts]
        return outcomes

    def _scores(self, jobs: list[_Job]) -> tuple[list[DeltaScores | None], list[str | None]]:
        """Delta scores of every job (None for jobs SpliceAI prints as dots), from the cache or
        computed, and where each came from (None for dots)."""
        results: list[DeltaScores | None] = [None] * len(jobs)
        sources: list[str | None] = [FROM_PRECOMPUTED if job.precomputed is not None else None for job in jobs]
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
                sources[i] = FROM_CACHE
                continue
            variant = jobs[i].variant
            window = window_key(variant, self.geometry)
            if window not in unique:
                unique[window] = len(variants)
                variants.append(variant)
            slots.append((i, unique[window]))
        computed = self.tracks(variants, self.geometry) if variants else []
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
            sources[i] = COMPUTED
            fresh.append((keys[i], results[i]))
        if self.cache is not None and fresh:
            self.cache.put(fresh)
        return results, sources

    def _cache_key(self, job: _Job) -> tuple[str, str]:
        row_key = self._row_keys.get(job.row)
        if row_key is None:
            row_key = transcript_key(self.annotation.transcripts[job.row].table_line())
            self._row_keys[job.row] = row_key
        variant = job.variant
        return variant_key(variant.contig, variant.pos, variant.ref, variant.alt), row_key


_SOURCE_RANK = {None: 0, FROM_PRECOMPUTED: 1, FROM_CACHE: 2, COMPUTED: 3}


def _stronger_source(current: str | None, new: str | None) -> str | None:
    """A record's source: computed beats the cache, which beats precomputed files."""
    return new if _SOURCE_RANK[new] > _SOURCE_RANK[current] else current


def _keep_best(best: dict, job: _Job, values: tuple | None) -> None:
    """Fold one gene's ``(DS_AG, DS_AL, DS_DG, DS_DL, DP_AG, DP_AL, DP_DG, DP_DL)`` into the ALT's.

    Each delta score is the maximum over genes and each position that of
    the gene giving that maximum (the first such gene in annotation order).
    """
    if values is None:
        return
    key = (job.record, job.alt)
    current = best.get(key)
    if current is None:
        best[key] = values
        return
    merged = list(current)
    for column in range(4):
        if values[column] > current[column]:
            merged[column] = values[column]
            merged[column + 4] = values[column + 4]
    best[key] = tuple(merged)
