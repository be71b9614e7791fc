"""The splice landscape around a variant: the tracks and delta scores ``annotate`` computes.

Nothing here re-derives a score.  :func:`landscapes` runs the variants
through the same :class:`~spliceannot.annotate.VariantScorer` that
``annotate`` uses (its INFO entries are the labels of the plot) and keeps
the reference and alternate probability tracks the scorer computed on the
way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from spliceannot.annotate import VariantScorer
from spliceannot.entry import EntryScores
from spliceannot.errors import InputError
from spliceannot.readers.transcript import Transcript
from spliceannot.scoring import align_alternate
from spliceannot.tracks import window_key
from spliceannot.values import Record, Span, Variant, VariantJob
from spliceannot.viz.variants import variant_label


@dataclass(frozen=True)
class TranscriptLandscape:
    """Tracks of one ALT against one transcript.

    Attributes
    ----------
    transcript
        The annotation row (its exons are drawn).
    entry
        What ``annotate`` writes for this ALT and transcript.
    positions
        ``(2 * distance + 1,)`` 1-based contig positions of the track rows.
    reference, alternate
        ``(2 * distance + 1, 3)`` probabilities (neither, acceptor, donor) in
        contig orientation; the alternate track is aligned to the reference
        positions as the scores are (deleted bases 0, inserted ones collapsed).
    """

    transcript: Transcript
    entry: EntryScores
    positions: np.ndarray
    reference: np.ndarray
    alternate: np.ndarray


@dataclass(frozen=True)
class VariantLandscape:
    """Everything a variant plot shows."""

    variant: Variant
    ident: str | None
    distance: int
    panels: tuple[TranscriptLandscape, ...]
    overlapping: tuple[Transcript, ...]
    # other variants in the sequence (a haplotype's): (x position, label), and a line saying how
    marks: tuple[tuple[int, str], ...] = ()
    note: str = ""

    @property
    def label(self) -> str:
        return variant_label(self.variant)


class RecordingTracks:
    """Wraps a scorer's track source and keeps every track pair it returns, by window."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.seen: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}

    def __call__(self, jobs: Sequence[VariantJob], geometry) -> list:
        results = self.inner(jobs, geometry)
        for job, tracks in zip(jobs, results):
            self.seen[window_key(job, geometry)] = tracks
        return results


def landscapes(
    scorer: VariantScorer, variants: Sequence[Variant], idents: Sequence[str | None] | None = None
) -> list[VariantLandscape]:
    """Score ``variants`` with ``annotate``'s scorer and keep the tracks behind each entry.

    Parameters
    ----------
    scorer
        Built by :func:`spliceannot.factory.build_scorer` (with no score
        cache and no precomputed files, so every track is computed).
    variants
        One ALT each.
    idents
        Record IDs, for titles (optional).

    Raises
    ------
    InputError
        A variant that ``annotate`` would not score (the reason is named),
        or one whose REF and ALT are both longer than one base.
    """
    idents = list(idents) if idents is not None else [None] * len(variants)
    for variant in variants:
        if scorer.reference.resolve(variant.chrom) is None:
            raise InputError(
                f"{variant_label(variant)}: contig {variant.chrom} is not in {scorer.reference.path}"
            )
    recorder = RecordingTracks(scorer.tracks)
    recording = scorer.derive(tracks=recorder)  # same scores, no cache: every track is computed
    outcomes = recording.score([Record(v.chrom, v.pos, v.ref, (v.alt,)) for v in variants])
    return [
        _landscape(recording, recorder, variant, ident, outcome)
        for variant, ident, outcome in zip(variants, idents, outcomes)
    ]


def _landscape(
    scorer: VariantScorer, recorder: RecordingTracks, variant: Variant, ident, outcome
) -> VariantLandscape:
    """Pair each INFO entry of one variant with the tracks it was computed from."""
    label = variant_label(variant)
    if outcome.reason is not None:
        raise InputError(f"{label}: not scored ({outcome.reason})")
    rows = scorer.annotation.overlapping(variant.chrom, variant.pos)
    contig = scorer.reference.resolve(variant.chrom)
    coverage = scorer.geometry.coverage
    positions = np.arange(variant.pos - coverage // 2, variant.pos + coverage // 2 + 1)
    panels = []
    for row, text in zip(rows, outcome.entries):
        entry = EntryScores.parse(text)
        if not entry.scores:
            raise InputError(
                f"{label}: REF and ALT are both longer than one base; SpliceAI does not score it"
            )
        transcript = scorer.annotation.transcripts[row]
        job = VariantJob(
            Variant(contig, variant.pos, variant.ref, variant.alt),
            transcript.strand,
            Span(transcript.tx_start, transcript.tx_end),
        )
        ref_track, alt_track = recorder.seen[window_key(job, scorer.geometry)]
        aligned = align_alternate(
            np.asarray(alt_track), len(variant.ref), len(variant.alt), coverage
        )
        panels.append(
            TranscriptLandscape(transcript, entry, positions, np.asarray(ref_track), aligned)
        )
    overlapping = tuple(scorer.annotation.transcripts[row] for row in rows)
    return VariantLandscape(variant, ident, scorer.geometry.distance, tuple(panels), overlapping)
