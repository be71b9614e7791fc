"""The splice landscape of a variant in a haplotype: the tracks ``annotate --haplotypes`` computes.

:func:`haplotype_landscape` scores one variant with other variants in cis
through the same :class:`~spliceannot.haplotypes.scorer.HaplotypeScorer`
that ``annotate --haplotypes`` uses, keeping the tracks behind each entry:

- ``background``: the haplotype without the variant (reference) against the
  haplotype with it (alternate); x is the variant's position plus the offset
  in the haplotype's coordinates (what the delta positions count);
- ``combined``: the genome (reference) against the whole haplotype
  (alternate), on the genome's positions.

The cis variants are marked where they lie in those coordinates.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from spliceannot.entry import EntryScores
from spliceannot.errors import InputError
from spliceannot.haplotypes.scorer import HaplotypeScorer
from spliceannot.haplotypes.sequence import Edits, applied
from spliceannot.scoring import align_alternate
from spliceannot.values import CisContext, Record, Span, Variant
from spliceannot.viz.landscape import (
    RecordingTracks,
    TranscriptLandscape,
    VariantLandscape,
    landscapes,
)
from spliceannot.viz.variants import variant_label


class _RecordingHaplotypes:
    """Wraps a haplotype track source and keeps every result, by job."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.seen: dict[tuple, tuple] = {}

    def __call__(self, jobs, geometry) -> list:
        results = self.inner(jobs, geometry)
        for job, tracks in zip(jobs, results):
            self.seen[job.key()] = tracks
        return results


def haplotype_landscape(scorer, variant: Variant, cis: Sequence[Variant], mode: str,
                        ident: str | None = None) -> VariantLandscape:
    """``variant`` scored with ``cis`` in its haplotype (``mode``: background or combined).

    ``scorer``: SpliceAI's :class:`~spliceannot.annotate.VariantScorer` from
    :func:`~spliceannot.factory.build_scorer` (no cache).  Raises
    :class:`InputError` for a variant ``annotate`` would not score, cis
    variants that overlap it or each other, or a cis variant on another contig.
    """
    label = variant_label(variant)
    ordered = sorted(cis, key=lambda c: c.pos)
    ends = [(variant.pos, variant.pos + len(variant.ref) - 1)]
    for change in ordered:
        if change.chrom != variant.chrom:
            raise InputError(f"{variant_label(change)}: a cis variant must be on {variant.chrom}, as {label}")
        span = (change.pos, change.pos + len(change.ref) - 1)
        if any(span[0] <= b and span[1] >= a for a, b in ends):
            raise InputError(f"{variant_label(change)}: overlaps another variant of the haplotype")
        ends.append(span)
    if not ordered:
        return landscapes(scorer, [variant], [ident])[0]
    recorder = RecordingTracks(scorer.tracks)
    recording = scorer.derive(tracks=recorder)
    haplotypes = _RecordingHaplotypes(scorer.tracks.haplotypes)
    hap_scorer = HaplotypeScorer(recording, haplotypes, mode)
    record = Record(variant.chrom, variant.pos, variant.ref, (variant.alt,),
                    contexts=(CisContext(variant.alt, tuple(ordered)),))
    outcome = hap_scorer.score([record])[0]
    if outcome.reason is not None:
        raise InputError(f"{label}: not scored ({outcome.reason})")
    entries = outcome.haplotypes[0].entries
    contig = scorer.reference.resolve(variant.chrom)
    own = Variant(contig, variant.pos, variant.ref, variant.alt)
    on_contig = tuple(Variant(contig, c.pos, c.ref.upper(), c.alt.upper()) for c in ordered)
    coverage = scorer.geometry.coverage
    rows = scorer.annotation.overlapping(variant.chrom, variant.pos)
    panels = []
    marks: list[tuple[int, str]] = []
    for row, text in zip(rows, entries or ()):
        entry = EntryScores.parse(text)
        if not entry.scores:
            raise InputError(f"{label}: REF and ALT are both longer than one base; give --mnv to score it")
        transcript = scorer.annotation.transcripts[row]
        span = Span(transcript.tx_start, transcript.tx_end)
        kept = applied(on_contig, span)
        positions = np.arange(variant.pos - coverage // 2, variant.pos + coverage // 2 + 1)
        if not kept:
            from spliceannot.tracks import window_key
            from spliceannot.values import VariantJob

            job = VariantJob(own, transcript.strand, span)
            ref_track, alt_track = recorder.seen[window_key(job, scorer.geometry)]
            aligned = align_alternate(np.asarray(alt_track), len(variant.ref), len(variant.alt), coverage)
        else:
            job = _job(own, transcript, span, kept, mode, scorer.annotation.boundary_distance(row, variant.pos))
            ref_track, alt_track, _ = haplotypes.seen[job.key()]
            aligned = (align_alternate(np.asarray(alt_track), len(variant.ref), len(variant.alt), coverage)
                       if mode == "background" else np.asarray(alt_track))
            edits = Edits(kept)
            for change in kept:
                where = change.pos
                if mode == "background":
                    where = variant.pos + edits.to_haplotype(change.pos - 1) - edits.to_haplotype(variant.pos - 1)
                if (where, variant_label(change)) not in marks:
                    marks.append((where, variant_label(change)))
        panels.append(TranscriptLandscape(transcript, entry, positions, np.asarray(ref_track), aligned))
    overlapping = tuple(scorer.annotation.transcripts[row] for row in rows)
    note = f"{mode}: {', '.join(variant_label(c) for c in ordered)} in cis"
    return VariantLandscape(variant, ident, scorer.geometry.distance, tuple(panels), overlapping,
                            marks=tuple(marks), note=note)


def _job(variant: Variant, transcript, span: Span, kept, mode: str, boundary: int):
    from spliceannot.haplotypes.tracks import HaplotypeJob
    from spliceannot.values import VariantJob

    return HaplotypeJob(VariantJob(variant, transcript.strand, span), kept, mode, boundary)
