"""Scoring lookups in batches: queries in, per-transcript scores (and, on request, tracks) out.

Synchronous: one thread (the engine thread of :mod:`spliceannot.lookup.batcher`)
calls :func:`answer_batch` with every query that arrived together; the
queries of one genome, model and ``(-D, -M)`` go through one ``score`` call
of the scorer ``annotate`` uses, so their windows are batched by the engine
and their scores are the INFO entries ``annotate`` writes (from the score
cache when it has them).  Tracks are computed only for queries that ask
for them, in one more call for the whole batch.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from spliceannot.entry import EntryScores
from spliceannot.lookup.genomes import PANGOLIN, Genome
from spliceannot.lookup.hgvs import GenomicVariant
from spliceannot.lookup.transcripts import TranscriptDetails
from spliceannot.scoring import align_alternate
from spliceannot.tracks import window_key
from spliceannot.values import Record, Span, Variant, VariantJob

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Query:
    """One variant to score with one model of one genome, at ``-D distance`` and ``-M mask``.

    For Pangolin ``mask`` is its ``-m``.  ``tracks``: keep the reference
    and alternate probabilities at every position of the window.
    """

    genome: str
    model: str
    variant: GenomicVariant
    distance: int
    mask: bool
    tracks: bool = False


@dataclass(frozen=True)
class Tracks:
    """Probabilities at every position of a window, in contig orientation.

    ``positions1``: ``(2 * distance + 1,)`` 1-based contig positions;
    ``reference``/``alternate``: ``(2 * distance + 1, 3)`` (neither,
    acceptor, donor), the alternate aligned to the reference positions as
    the delta scores are (deleted bases 0, inserted ones collapsed).
    """

    positions1: np.ndarray
    reference: np.ndarray
    alternate: np.ndarray


@dataclass(frozen=True)
class TranscriptScores:
    """One transcript's (SpliceAI) or gene's (Pangolin) scores for one variant.

    ``scores`` are printed as ``annotate`` prints them: SpliceAI's
    ``(DS_AG, DS_AL, DS_DG, DS_DL)``, Pangolin's ``(gain, loss)``;
    ``positions`` the matching offsets from the variant (empty when
    SpliceAI prints dots: REF and ALT both longer than one base).
    """

    gene: str
    strand: str | None
    row: int | None
    details: TranscriptDetails | None
    scores: tuple[str, ...]
    positions: tuple[int, ...]
    tracks: Tracks | None = None


@dataclass(frozen=True)
class Answer:
    """What became of one query: ``reason`` (why it was not scored) or its transcripts.

    ``value`` is the model's whole INFO value as ``annotate`` writes it
    (SpliceAI's entries joined by commas; Pangolin's field).
    """

    reason: str | None
    transcripts: tuple[TranscriptScores, ...] = ()
    value: str | None = None
    source: str | None = None


def answer_batch(genomes: Mapping[str, Genome], queries: Sequence[Query]) -> list[Answer | Exception]:
    """One answer per query, in order; a group that fails gives its queries the exception."""
    groups: dict[tuple, list[int]] = {}
    for index, query in enumerate(queries):
        groups.setdefault((query.genome, query.model, query.distance, query.mask), []).append(index)
    answers: list[Answer | Exception | None] = [None] * len(queries)
    for (genome_name, model, distance, mask), members in groups.items():
        genome = genomes[genome_name]
        chosen = [queries[i] for i in members]
        try:
            scorer = genome.scorers[model].get(distance, mask)
            if model == PANGOLIN:
                results = _pangolin(scorer, chosen)
            else:
                results = _spliceai(genome, scorer, chosen)
        except Exception as error:
            log.exception("scoring %d lookups failed", len(chosen))
            results = [error] * len(chosen)
        for index, result in zip(members, results):
            answers[index] = result
    return answers  # type: ignore[return-value]


def _records(queries: Sequence[Query]) -> list[Record]:
    return [Record(q.variant.chrom, q.variant.pos1, q.variant.ref, (q.variant.alt,)) for q in queries]


def _spliceai(genome: Genome, scorer, queries: Sequence[Query]) -> list[Answer]:
    from spliceannot.viz.landscape import RecordingTracks

    wants_tracks = any(query.tracks for query in queries)
    recorder = RecordingTracks(scorer.tracks) if wants_tracks else None
    scoring = scorer.derive(tracks=recorder, cache=scorer.cache) if recorder else scorer
    outcomes = scoring.score(_records(queries))
    answers: list[Answer] = []
    pending: list[tuple[int, int, VariantJob]] = []  # (answer, transcript, job) still without tracks
    for query, outcome in zip(queries, outcomes):
        if outcome.reason is not None:
            answers.append(Answer(outcome.reason, source=outcome.source))
            continue
        variant = query.variant
        rows = scorer.annotation.overlapping(variant.chrom, variant.pos1)
        contig = scorer.reference.resolve(variant.chrom)
        transcripts = []
        for row, text in zip(rows, outcome.entries):
            entry = EntryScores.parse(text)
            transcript = scorer.annotation.transcripts[row]
            transcripts.append(
                TranscriptScores(transcript.name, transcript.strand, row, genome.transcripts.details[row],
                                 entry.scores, entry.positions)
            )
            if query.tracks and entry.scores:
                job = VariantJob(Variant(contig, variant.pos1, variant.ref, variant.alt), transcript.strand,
                                 Span(transcript.tx_start, transcript.tx_end))  # fmt: skip
                pending.append((len(answers), len(transcripts) - 1, job))
        answers.append(Answer(None, tuple(transcripts), ",".join(outcome.entries), outcome.source))
    if pending:
        _add_tracks(scorer, recorder, answers, pending)
    return answers


def _add_tracks(scorer, recorder, answers: list[Answer], pending: list[tuple[int, int, VariantJob]]) -> None:
    """Put each pending transcript's tracks into its answer (computing those the scores came without)."""
    geometry = scorer.geometry
    missing = {}
    for *_, job in pending:
        key = window_key(job, geometry)
        if key not in recorder.seen and key not in missing:
            missing[key] = job
    if missing:
        recorder(list(missing.values()), geometry)
    coverage = geometry.coverage
    for answer_index, transcript_index, job in pending:
        ref_track, alt_track = recorder.seen[window_key(job, geometry)]
        aligned = align_alternate(np.asarray(alt_track), len(job.ref), len(job.alt), coverage)
        positions = np.arange(job.pos - coverage // 2, job.pos + coverage // 2 + 1)
        answer = answers[answer_index]
        transcripts = list(answer.transcripts)
        old = transcripts[transcript_index]
        transcripts[transcript_index] = TranscriptScores(
            old.gene, old.strand, old.row, old.details, old.scores, old.positions,
            Tracks(positions, np.asarray(ref_track), aligned),
        )  # fmt: skip
        answers[answer_index] = Answer(answer.reason, tuple(transcripts), answer.value, answer.source)


def _pangolin(scorer, queries: Sequence[Query]) -> list[Answer]:
    from spliceannot.pangolin.scorer import INFO_KEY
    from spliceannot.viz.pangolin_landscape import parse_entry

    answers = []
    for outcome in scorer.score(_records(queries)):
        if outcome.reason is not None:
            answers.append(Answer(outcome.reason, source=outcome.source))
            continue
        value = outcome.fields[INFO_KEY]
        genes = []
        for text in value.split(","):
            try:
                gene, (gain_at, gain), (loss_at, loss) = parse_entry(text)
            except ValueError:  # --pangolin-cutoff or another form: the value alone is answered
                genes = []
                break
            genes.append(TranscriptScores(gene, None, None, None, (gain, loss), (gain_at, loss_at)))
        answers.append(Answer(None, tuple(genes), value, outcome.source))
    return answers
