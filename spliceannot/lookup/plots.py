"""One transcript's splice landscape as SVG, drawn as ``spliceannot plot`` draws it."""

from __future__ import annotations

from spliceannot.entry import EntryScores
from spliceannot.lookup.engine import Answer, TranscriptScores
from spliceannot.lookup.hgvs import GenomicVariant
from spliceannot.values import Variant


def landscape_svg(genome, variant: GenomicVariant, distance: int, answer: Answer, item: TranscriptScores) -> bytes:
    """The SVG of ``item``'s reference and alternate tracks over every overlapping transcript's exons.

    ``item`` must carry tracks (a lookup with ``tracks=True``).
    """
    from spliceannot.viz.landscape import TranscriptLandscape, VariantLandscape
    from spliceannot.viz.plot import draw_landscape
    from spliceannot.viz.style import figure_bytes

    rows = genome.transcripts.rows
    transcript = rows[item.row]
    entry = EntryScores.parse("|".join([variant.alt, item.gene, *item.scores, *map(str, item.positions)]))
    panel = TranscriptLandscape(transcript, entry, item.tracks.positions1, item.tracks.reference,
                                item.tracks.alternate)  # fmt: skip
    overlapping = tuple(rows[other.row] for other in answer.transcripts if other.row is not None)
    view = VariantLandscape(Variant(variant.chrom, variant.pos1, variant.ref, variant.alt), None, distance,
                            (panel,), overlapping)  # fmt: skip
    figure, _ = draw_landscape(view)
    return figure_bytes(figure, "svg")
