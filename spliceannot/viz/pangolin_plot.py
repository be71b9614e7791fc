"""Drawing Pangolin's change around a variant: per tissue, the loss/gain envelope, the genes' scores.

:func:`draw_pangolin` is :func:`~spliceannot.viz.plot.draw_landscape`'s
counterpart for a :class:`~spliceannot.viz.pangolin_landscape.PangolinLandscape`:
one panel per strand whose genes contain the variant (the four tissues'
change in P(splice) and the band between their smallest and largest
change), then the genes' exons, and a :class:`PangolinDrawn` record of what
it placed, so callers and tests can check the figure against the numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from spliceannot.viz import style
from spliceannot.viz.pangolin_landscape import PangolinLandscape, StrandChange

TISSUE_COLOURS = {
    "heart": style.SERIES_COLOURS[1],
    "liver": style.SERIES_COLOURS[4],
    "brain": style.SERIES_COLOURS[0],
    "testis": style.SERIES_COLOURS[2],
}
ENVELOPE_LABEL = "loss/gain envelope"
STRAND_WORDS = {"+": "plus", "-": "minus"}


@dataclass(frozen=True)
class PangolinLabel:
    """One score on a figure: a gene's ``gain`` or ``loss``, its score as written, its offset from POS."""

    gene: str
    kind: str
    score: str
    position: int

    @property
    def text(self) -> str:
        """As drawn: the score to two decimals (Pangolin prints ``round(x, 2)`` of a float32 in full)."""
        return f"{self.kind} {float(self.score):.2f} ({self.position:+d})"


@dataclass
class PangolinDrawn:
    """What a Pangolin figure shows, for checking it against the computation.

    ``legends``: per strand panel, the legend's texts; ``series``: per panel,
    ``{legend text: y values}`` of the lines and the band's two edges as drawn.
    """

    labels: list[PangolinLabel] = field(default_factory=list)
    legends: list[list[str]] = field(default_factory=list)
    series: list[dict[str, np.ndarray]] = field(default_factory=list)
    ylabels: list[str] = field(default_factory=list)
    genes: list[str] = field(default_factory=list)


def draw_pangolin(view: PangolinLandscape):
    """A figure of ``view``: per strand a panel of the tissues' change, then the genes.

    Returns
    -------
    tuple
        The matplotlib Figure and its :class:`PangolinDrawn` record.
    """
    drawn = PangolinDrawn()
    genes = [(panel.strand, gene) for panel in view.panels for gene in panel.genes]
    with style.styled():
        figure = style.new_figure(9.0, 1.0 + 2.6 * len(view.panels) + 0.35 * (len(genes) + 1))
        ratios = [4.0] * len(view.panels) + [0.6 + 0.45 * len(genes)]
        axes = figure.subplots(len(view.panels) + 1, 1, sharex=True, gridspec_kw={"height_ratios": ratios})
        for axis, panel in zip(axes, view.panels):
            _draw_change(axis, view, panel, drawn)
        _draw_genes(axes[-1], view, genes, drawn)
        title = view.label if not view.ident or view.ident == "." else f"{view.ident}  {view.label}"
        figure.suptitle(f"{title}   Pangolin (-D {view.distance})", fontsize=11)
    return figure, drawn


def _draw_change(axis, view: PangolinLandscape, panel: StrandChange, drawn: PangolinDrawn) -> None:
    """The tissues' change in P(splice) on one strand, the envelope, and each gene's gain and loss."""
    x = panel.positions
    series = {}
    axis.fill_between(x, panel.loss, panel.gain, color=style.REFERENCE_COLOUR, alpha=0.35, lw=0, label=ENVELOPE_LABEL)
    series[f"{ENVELOPE_LABEL} (loss)"], series[f"{ENVELOPE_LABEL} (gain)"] = panel.loss, panel.gain
    for row, tissue in enumerate(view.tissues):
        axis.plot(x, panel.deltas[row], color=TISSUE_COLOURS.get(tissue), lw=1.1, label=tissue)
        series[tissue] = panel.deltas[row]
    axis.axhline(0, color="black", lw=0.6, alpha=0.4)
    axis.axvline(view.variant.pos, color="black", lw=0.8, alpha=0.5)
    reach = max(0.05, float(np.max(np.abs(panel.deltas))) if panel.deltas.size else 0.0)
    axis.set_ylim(-1.3 * reach, 1.3 * reach)
    ylabel = "\u0394P(splice) alt - ref"
    axis.set_ylabel(ylabel)
    count = len(panel.genes)
    axis.set_title(f"{STRAND_WORDS[panel.strand]} strand ({panel.strand}), {count} gene{'s' * (count != 1)}",
                   loc="left", fontsize=9)  # fmt: skip
    axis.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), ncol=len(view.tissues) + 1, borderaxespad=0.2)
    for kind, mark, colour, lift in (("gain", "^", style.GAIN_COLOUR, 6), ("loss", "v", style.LOSS_COLOUR, -12)):
        placed: dict[tuple[int, str], list[PangolinLabel]] = {}
        for gene in panel.genes:
            position, score = gene.gain if kind == "gain" else gene.loss
            label = PangolinLabel(gene.name, kind, score, position)
            drawn.labels.append(label)
            placed.setdefault((position, score), []).append(label)
        for (position, score), labels in placed.items():
            where, value = view.variant.pos + position, float(score)
            axis.plot([where], [value], mark, color=colour, ms=7, zorder=5)
            names = "" if len(placed) == 1 else " " + ", ".join(label.gene for label in labels)
            axis.annotate(
                labels[0].text + names,
                (where, value),
                xytext=(4, lift),
                textcoords="offset points",
                fontsize=8,
                gid=f"pangolin-{panel.strand}-{kind}-{position}",
                bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.8},
            )
    drawn.legends.append([text.get_text() for text in axis.get_legend().get_texts()])
    drawn.series.append(series)
    drawn.ylabels.append(ylabel)


def _draw_genes(axis, view: PangolinLandscape, genes, drawn: PangolinDrawn) -> None:
    """Exon boxes and intron lines of every gene scored, clipped to the plotted span."""
    from matplotlib.patches import Rectangle

    first = view.variant.pos - view.distance
    last = view.variant.pos + len(view.variant.ref) - 1 + view.distance
    for level, (strand, gene) in enumerate(genes):
        y = -level
        if gene.exons:
            start = max(min(lo for lo, _ in gene.exons), first)
            end = min(max(hi for _, hi in gene.exons), last)
            axis.plot([start - 0.5, end + 0.5], [y, y], color=style.EXON_COLOUR, lw=1)
        for exon_first, exon_last in gene.exons:
            lo, hi = max(exon_first, first), min(exon_last, last)
            if lo <= hi:
                axis.add_patch(Rectangle((lo - 0.5, y - 0.3), hi - lo + 1, 0.6, facecolor=style.EXON_COLOUR,
                                         edgecolor="none"))  # fmt: skip
        axis.text(first, y + 0.38, f"{gene.name} {'>' if strand == '+' else '<'}", fontsize=8, va="bottom")
        drawn.genes.append(gene.name)
    axis.axvline(view.variant.pos, color="black", lw=0.8, alpha=0.5)
    axis.set_ylim(-len(genes) + 0.4, 1.0)
    axis.set_yticks([])
    axis.spines["left"].set_visible(False)
    axis.set_xlim(first - 0.5, last + 0.5)
    axis.set_xlabel(f"{view.variant.chrom} position (1-based)")
    axis.ticklabel_format(axis="x", useOffset=False, style="plain")
