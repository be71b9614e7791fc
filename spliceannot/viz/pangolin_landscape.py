"""Pangolin's change around a variant: per tissue, and its loss/gain envelope, as ``annotate`` computes it.

:func:`pangolin_landscapes` runs the variants through the same
:class:`~spliceannot.pangolin.scorer.PangolinScorer` that ``annotate -m
pangolin`` uses, keeps the reference and alternate tracks (twelve networks)
it computed on the way, and turns them into what the figure shows: the
four tissues' changes (:func:`~spliceannot.pangolin.numbers.tissue_deltas`)
and the envelope (:func:`~spliceannot.pangolin.numbers.loss_and_gain`: the
largest decrease and increase over tissues).  The labelled scores are the
INFO entries the scorer wrote, per gene.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from spliceannot.engine.pangolin_files import TISSUES
from spliceannot.errors import InputError
from spliceannot.pangolin.numbers import loss_and_gain, tissue_deltas
from spliceannot.pangolin.scorer import INFO_KEY, PangolinScorer
from spliceannot.tracks import window_key
from spliceannot.values import Record, Span, Variant, VariantJob
from spliceannot.viz.landscape import RecordingTracks
from spliceannot.viz.variants import variant_label

STRANDS = ("+", "-")  # the order in which the scorer scores a variant's genes


@dataclass(frozen=True)
class GeneScores:
    """One gene's Pangolin entry, as ``annotate`` writes it (``gene|pos:gain|pos:loss|Warnings:...``).

    Attributes
    ----------
    name
        The gene (a ``gene_id``, or a transcript row's name).
    exons
        1-based inclusive ``(first, last)`` base of each exon.
    gain, loss
        ``(offset, score)``: the offset from the variant's POS and the score
        as printed (after Pangolin's masking, ``-m True`` by default).
    entry
        The whole entry text.
    """

    name: str
    exons: tuple[tuple[int, int], ...]
    gain: tuple[int, str]
    loss: tuple[int, str]
    entry: str


@dataclass(frozen=True)
class StrandChange:
    """The change on one strand whose genes contain the variant.

    Attributes
    ----------
    strand
        ``+`` or ``-``.
    positions
        ``(n,)`` 1-based contig positions, ``n = 2 * distance + len(REF)``
        (Pangolin's span: ``POS - d`` to ``POS + len(REF) - 1 + d``).
    deltas
        ``(4, n)`` per tissue (:data:`TISSUES` order) the mean over its
        networks of alternate minus reference P(splice), indels realigned.
    loss, gain
        ``(n,)`` the smallest and largest change over the tissues (before masking).
    genes
        The entries of this strand's genes, in INFO order.
    """

    strand: str
    positions: np.ndarray
    deltas: np.ndarray
    loss: np.ndarray
    gain: np.ndarray
    genes: tuple[GeneScores, ...]


@dataclass(frozen=True)
class PangolinLandscape:
    """Everything a Pangolin variant plot shows."""

    variant: Variant
    ident: str | None
    distance: int
    panels: tuple[StrandChange, ...]
    tissues: tuple[str, ...] = TISSUES

    @property
    def label(self) -> str:
        return variant_label(self.variant)


def parse_entry(text: str) -> tuple[str, tuple[int, str], tuple[int, str]]:
    """``gene``, ``(offset, gain)`` and ``(offset, loss)`` of a default Pangolin entry.

    Raises
    ------
    ValueError
        For an entry of another form (``-s`` or ``--score_exons``).
    """
    parts = text.split("|")
    if len(parts) != 4 or not parts[3].startswith("Warnings:"):
        raise ValueError(f"{text!r}: not a Pangolin entry gene|pos:gain|pos:loss|Warnings:...")
    pairs = []
    for part in parts[1:3]:
        offset, score = part.split(":", 1)
        pairs.append((int(offset), score))
    return parts[0], pairs[0], pairs[1]


def exon_pairs(positions: Sequence[int]) -> tuple[tuple[int, int], ...]:
    """Pangolin's gene positions (start, end, start, end, ... 1-based) as ``(first, last)`` exons."""
    return tuple((int(positions[k]), int(positions[k + 1])) for k in range(0, len(positions) - 1, 2))


def pangolin_landscapes(
    scorer: PangolinScorer, variants: Sequence[Variant], idents: Sequence[str | None] | None = None
) -> list[PangolinLandscape]:
    """Score ``variants`` with ``annotate``'s Pangolin scorer and keep the changes behind each entry.

    Parameters
    ----------
    scorer
        Built by :func:`spliceannot.factory.build_scorer` for a Pangolin
        model (no score cache, so every track is computed).
    variants
        One ALT each.
    idents
        Record IDs, for titles (optional).

    Raises
    ------
    InputError
        A variant that Pangolin does not score (the reason is named).
    """
    idents = list(idents) if idents is not None else [None] * len(variants)
    for variant in variants:
        if scorer.contig(variant.chrom) is None:
            raise InputError(f"{variant_label(variant)}: contig {variant.chrom} is not in {scorer.reference.path}")
    recorder = RecordingTracks(scorer.tracks)
    recording = scorer.derive(tracks=recorder)
    outcomes = recording.score([Record(v.chrom, v.pos, v.ref, (v.alt,)) for v in variants])
    return [
        _landscape(recording, recorder, variant, ident, outcome)
        for variant, ident, outcome in zip(variants, idents, outcomes)
    ]


def _landscape(scorer: PangolinScorer, recorder: RecordingTracks, variant: Variant, ident, outcome) -> PangolinLandscape:
    """Pair each strand's tracks with the entries of its genes."""
    label = variant_label(variant)
    if outcome.reason is not None:
        raise InputError(f"{label}: not scored ({outcome.reason}: {outcome.message})")
    contig = scorer.contig(variant.chrom)
    genes = scorer.genes.genes(contig, variant.pos)
    entries = iter(outcome.fields[INFO_KEY].split(","))
    distance = scorer.distance
    panels = []
    for strand, side in zip(STRANDS, (genes.plus, genes.minus)):
        if not side:
            continue
        job = VariantJob(
            Variant(contig, variant.pos, variant.ref, variant.alt), strand, Span(0, scorer.reference.length(contig))
        )
        ref_track, alt_track = recorder.seen[window_key(job, scorer.geometry)]
        deltas = tissue_deltas(ref_track, alt_track, distance)
        loss, gain = loss_and_gain(ref_track, alt_track, distance)
        scored = []
        for gene, exons in side.items():
            text = next(entries)
            name, best, worst = parse_entry(text)
            if name != gene:
                raise ValueError(f"{label}: entry {text!r} is not gene {gene}'s")
            scored.append(GeneScores(gene, exon_pairs(exons), best, worst, text))
        positions = np.arange(variant.pos - distance, variant.pos - distance + deltas.shape[1])
        panels.append(StrandChange(strand, positions, deltas, loss, gain, tuple(scored)))
    return PangolinLandscape(variant, ident, distance, tuple(panels))
