"""Scoring each record's ALT in the haplotypes of its samples (``annotate --haplotypes``).

:class:`HaplotypeScorer` wraps SpliceAI's
:class:`~spliceannot.annotate.VariantScorer`: the record's INFO entries come
from it unchanged, then every distinct local haplotype of the record
(:class:`~spliceannot.values.CisContext`, built from the genotypes by
:mod:`spliceannot.haplotypes.contexts`) gets its own entries, in the same
format and gene order.  A haplotype with no other variant in the sequence of
a gene takes the record's INFO entry for that gene, byte for byte.
"""

from __future__ import annotations

from collections.abc import Sequence

from spliceannot.annotate import UNSCORABLE
from spliceannot.cache import variant_key
from spliceannot.entry import format_entry
from spliceannot.haplotypes.sequence import applied
from spliceannot.haplotypes.tracks import MODES, HaplotypeJob
from spliceannot.outcome import HaplotypeEntries, Outcome
from spliceannot.scoring import DeltaScores, delta_scores
from spliceannot.values import CisContext, Record, Span, Variant, VariantJob


def context_text(mode: str, cis: Sequence[Variant]) -> str:
    """The cis part of a score cache key: the mode and every variant applied."""
    return mode + "@" + ";".join(f"{c.pos}:{c.ref}:{c.alt}" for c in cis)


class HaplotypeScorer:
    """SpliceAI's INFO entries, plus the entries of each record's ALT on each local haplotype.

    Parameters
    ----------
    scorer
        The record scorer (its genome, annotation, geometry, mask, cache).
    tracks
        Called as ``tracks(haplotype_jobs, geometry)``
        (:class:`~spliceannot.haplotypes.tracks.HaplotypeConeTracks` or
        ``HaplotypeWindowTracks``).
    mode
        ``background`` or ``combined``.
    """

    def __init__(self, scorer, tracks, mode: str) -> None:
        if mode not in MODES:
            raise ValueError(f"haplotype mode must be one of {', '.join(MODES)}, not {mode!r}")
        self.scorer = scorer
        self.haplotype_tracks = tracks
        self.mode = mode

    def __getattr__(self, name: str):
        if name == "scorer":
            raise AttributeError(name)
        return getattr(self.scorer, name)

    def score(self, records: Sequence[Record]) -> list[Outcome]:
        outcomes = self.scorer.score(records)
        planned: list[tuple[Outcome, list]] = []
        jobs: dict[tuple, HaplotypeJob] = {}
        for record, outcome in zip(records, outcomes):
            if record.contexts and outcome.reason is None:
                contig = self.scorer.reference.resolve(record.chrom)
                rows = self.scorer.annotation.overlapping(record.chrom, record.pos)
                matches: dict[Variant, bool] = {}  # cis variants checked against the FASTA, once per record
                slots = [self._plan(record, outcome, context, contig, rows, matches, jobs)
                         for context in record.contexts]
                planned.append((outcome, slots))
        scores = self._compute(list(jobs.values()))
        for outcome, slots in planned:
            for slot in slots:
                if slot is None:
                    outcome.haplotypes.append(HaplotypeEntries(None))
                    continue
                entries, mismatched = slot
                texts = tuple(e if isinstance(e, str) else format_entry(e[0], e[1], scores[e[2]], self.precision)
                              for e in entries)
                outcome.haplotypes.append(HaplotypeEntries(texts, mismatched))
        return outcomes

    def _plan(self, record: Record, outcome: Outcome, context: CisContext, contig: str, rows: list[int],
              matches: dict, jobs: dict):
        """The entries of one context: INFO's text where nothing is in cis, else ``(alt, gene, job key)``."""
        alt = context.alt
        if UNSCORABLE.intersection(alt) or not alt:
            return None
        scorer = self.scorer
        info = [e for e in outcome.entries if e.split("|", 1)[0] == alt]
        cis, mismatched = self._checked(contig, context.cis, matches)
        entries: list = []
        for index, row in enumerate(rows):
            transcript = scorer.annotation.transcripts[row]
            span = Span(transcript.tx_start, transcript.tx_end)
            kept = applied(cis, span)
            if not kept and len(info) == len(rows):
                entries.append(info[index])
                continue
            if len(record.ref) > 1 and len(alt) > 1 and not scorer.mnv:
                entries.append(format_entry(alt, transcript.name, None, self.precision))
                continue
            job = HaplotypeJob(
                VariantJob(Variant(contig, record.pos, record.ref, alt), transcript.strand, span),
                kept,
                self.mode,
                scorer.annotation.boundary_distance(row, record.pos),
            )
            key = job.key()
            jobs.setdefault(key, job)
            entries.append((alt, transcript.name, key))
        return entries, mismatched

    def _checked(self, contig: str, cis: Sequence[Variant], matches: dict) -> tuple[tuple[Variant, ...], int]:
        """The cis variants on the FASTA's contig whose REF matches it, and how many did not
        (``matches``: what was found for a variant already)."""
        kept = []
        for change in cis:
            if change not in matches:
                observed = self.scorer.reference.fetch(contig, change.pos - 1, change.pos - 1 + len(change.ref))
                matches[change] = observed.upper() == change.ref.upper()
            if matches[change]:
                kept.append(Variant(contig, change.pos, change.ref.upper(), change.alt.upper()))
        return tuple(kept), len(cis) - len(kept)

    def _compute(self, jobs: list[HaplotypeJob]) -> dict[tuple, DeltaScores]:
        scorer = self.scorer
        results: dict[tuple, DeltaScores] = {}
        keys = {}
        if scorer.cache is not None and jobs:
            for job in jobs:
                variant = variant_key(job.job.contig, job.job.pos, job.job.ref, job.job.alt)
                keys[job.key()] = (variant + "|" + context_text(self.mode, job.cis), _sequence_key(job))
            cached = scorer.cache.get(list(keys.values()))
            for job in jobs:
                if keys[job.key()] in cached:
                    results[job.key()] = cached[keys[job.key()]]
        todo = [job for job in jobs if job.key() not in results]
        computed = self.haplotype_tracks(todo, scorer.geometry) if todo else []
        fresh = []
        for job, (ref_track, alt_track, boundary) in zip(todo, computed):
            combined = self.mode == "combined"
            scores = delta_scores(
                ref_track,
                alt_track,
                ref_len=1 if combined else len(job.job.ref),
                alt_len=1 if combined else len(job.job.alt),
                boundary_distance=boundary,
                mask=scorer.mask,
            )
            results[job.key()] = scores
            if keys:
                fresh.append((keys[job.key()], scores))
        if fresh:
            scorer.cache.put(fresh)
        return results


def _sequence_key(job: HaplotypeJob) -> str:
    """What besides the variants a haplotype score depends on: the transcript's extent and strand
    (the mask) and its nearest exon boundary (``-M 1``)."""
    import hashlib

    text = f"{job.job.strand}:{job.job.span.start}:{job.job.span.end}:{job.boundary_distance}"
    return hashlib.sha256(text.encode()).hexdigest()[:32]
