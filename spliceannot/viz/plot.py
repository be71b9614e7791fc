"""Drawing a variant's splice landscape: ref/alt acceptor and donor tracks over the exons.

:func:`draw_landscape` builds one figure per variant and returns it with a
:class:`Drawn` record of every delta-score label it placed, so callers and
tests can check that the numbers on the figure are the numbers ``annotate``
writes.  A Pangolin model's figures (per-tissue change) are drawn by
:mod:`spliceannot.viz.pangolin_plot`; :func:`plot_variants` picks by model.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from spliceannot.classes import ACCEPTOR, DONOR
from spliceannot.readers.transcript import Transcript
from spliceannot.viz import style
from spliceannot.viz.landscape import TranscriptLandscape, VariantLandscape
from spliceannot.viz.variants import file_label

_SITES = (
    ("acceptor", ACCEPTOR, style.ACCEPTOR_COLOUR, ("AG", "AL")),
    ("donor", DONOR, style.DONOR_COLOUR, ("DG", "DL")),
)


@dataclass(frozen=True)
class ScoreLabel:
    """One delta-score label on a figure: ``DS_<field> <score>`` at ``position`` (relative)."""

    symbol: str
    field: str
    score: str
    position: int

    @property
    def text(self) -> str:
        return f"DS_{self.field} {self.score} ({self.position:+d})"


@dataclass
class Drawn:
    """What a figure shows, for checking it against the computation."""

    labels: list[ScoreLabel] = field(default_factory=list)
    transcripts: list[str] = field(default_factory=list)


def draw_landscape(view: VariantLandscape):
    """A figure of ``view``: per transcript an acceptor and a donor axis, then the exons.

    Returns
    -------
    tuple
        The matplotlib Figure and its :class:`Drawn` record.
    """
    drawn = Drawn()
    rows = 2 * len(view.panels) + 1
    with style.styled():
        figure = style.new_figure(
            9.0, 1.0 + 1.55 * 2 * len(view.panels) + 0.35 * (len(view.overlapping) + 1)
        )
        ratios = [3.0] * (rows - 1) + [0.6 + 0.45 * len(view.overlapping)]
        axes = figure.subplots(rows, 1, sharex=True, gridspec_kw={"height_ratios": ratios})
        for index, panel in enumerate(view.panels):
            for offset, site in enumerate(_SITES):
                _draw_track(axes[2 * index + offset], view, panel, site, drawn)
        _draw_exons(axes[-1], view, drawn)
        title = view.label if not view.ident or view.ident == "." else f"{view.ident}  {view.label}"
        note = f"\n{view.note}" if view.note else ""
        figure.suptitle(f"{title}   (-D {view.distance}){note}", fontsize=11)
    return figure, drawn


def _draw_track(
    axis, view: VariantLandscape, panel: TranscriptLandscape, site, drawn: Drawn
) -> None:
    """Reference and alternate probabilities of one site class, with its gain and loss labelled."""
    name, column, colour, fields = site
    x = panel.positions
    axis.plot(x, panel.reference[:, column], color=style.REFERENCE_COLOUR, label="reference")
    axis.plot(x, panel.alternate[:, column], color=colour, ls="--", label="alternate")
    axis.axvline(view.variant.pos, color="black", lw=0.8, alpha=0.5)
    for where, text in view.marks:  # the haplotype's other variants
        axis.axvline(where, color=style.CIS_COLOUR, lw=0.9, ls=":", gid=f"cis-{text}")
    axis.set_ylim(-0.03, 1.18)
    axis.set_ylabel(f"P({name})")
    symbol = panel.entry.symbol
    axis.set_title(f"{symbol} ({panel.transcript.strand})  {name}", loc="left", fontsize=9)
    axis.legend(loc="upper right", ncol=2)
    scores = panel.entry.labelled
    for field_name, track, mark in (
        (fields[0], panel.alternate, "^"),
        (fields[1], panel.reference, "v"),
    ):
        score, position = scores[field_name]
        where = view.variant.pos + position
        row = position + len(x) // 2
        label = ScoreLabel(symbol, field_name, score, position)
        axis.plot(
            [where],
            [track[row, column]],
            mark,
            color=style.GAIN_COLOUR if mark == "^" else style.LOSS_COLOUR,
            ms=7,
            zorder=5,
        )
        axis.annotate(
            label.text,
            (where, track[row, column]),
            xytext=(4, 6 if mark == "^" else -12),
            textcoords="offset points",
            fontsize=8,
            gid=f"ds-{symbol}-{field_name}",
            bbox={
                "boxstyle": "round,pad=0.15",
                "facecolor": "white",
                "edgecolor": "none",
                "alpha": 0.8,
            },
        )
        drawn.labels.append(label)


def _draw_exons(axis, view: VariantLandscape, drawn: Drawn) -> None:
    """Exon boxes and intron lines of every overlapping transcript, clipped to the plotted span."""
    first = view.variant.pos - view.distance
    last = view.variant.pos + view.distance
    for level, transcript in enumerate(view.overlapping):
        y = -level
        start, end = max(transcript.tx_start + 1, first), min(transcript.tx_end, last)
        axis.plot([start - 0.5, end + 0.5], [y, y], color=style.EXON_COLOUR, lw=1)
        for exon_first, exon_last in exon_spans(transcript):
            lo, hi = max(exon_first, first), min(exon_last, last)
            if lo > hi:
                continue
            axis.add_patch(_box(lo - 0.5, y - 0.3, hi - lo + 1, 0.6))
        arrow = ">" if transcript.strand == "+" else "<"
        axis.text(first, y + 0.38, f"{transcript.name} {arrow}", fontsize=8, va="bottom")
        drawn.transcripts.append(transcript.name)
    axis.axvline(view.variant.pos, color="black", lw=0.8, alpha=0.5)
    axis.set_ylim(-len(view.overlapping) + 0.4, 1.0)
    axis.set_yticks([])
    axis.spines["left"].set_visible(False)
    axis.set_xlim(first - 0.5, last + 0.5)
    axis.set_xlabel(f"{view.variant.chrom} position (1-based)")
    axis.ticklabel_format(axis="x", useOffset=False, style="plain")


def _box(x: float, y: float, width: float, height: float):
    from matplotlib.patches import Rectangle

    return Rectangle((x, y), width, height, facecolor=style.EXON_COLOUR, edgecolor="none")


def draw_view(view):
    """The figure and record of a :class:`VariantLandscape` (SpliceAI) or a Pangolin landscape."""
    from spliceannot.viz.pangolin_landscape import PangolinLandscape

    if isinstance(view, PangolinLandscape):
        from spliceannot.viz.pangolin_plot import draw_pangolin

        return draw_pangolin(view)
    return draw_landscape(view)


def output_paths(path: str | Path, views: Sequence[VariantLandscape]) -> list[Path]:
    """Where each variant's figure goes: ``path`` itself for one variant (or a PDF of all),
    else ``<stem>.<ID or chrom_pos_ref_alt><suffix>`` beside it."""
    path = Path(path)
    if len(views) == 1 or style.format_of(path, "") == "pdf":
        return [path]
    names = []
    for view in views:
        label = file_label(view.variant, view.ident)
        while label in names:
            label += "_"
        names.append(label)
    return [path.with_name(f"{path.stem}.{name}{path.suffix}") for name in names]


def write_plots(
    views: Sequence[VariantLandscape], path: str | Path
) -> tuple[list[Path], list[Drawn]]:
    """Draw every variant and write PNG/SVG files (one per variant) or one multi-page PDF.

    ``views`` are :class:`VariantLandscape` s or (Pangolin)
    :class:`~spliceannot.viz.pangolin_landscape.PangolinLandscape` s.

    Returns
    -------
    tuple
        The files written and what each figure shows (:class:`Drawn`, or
        :class:`~spliceannot.viz.pangolin_plot.PangolinDrawn` for Pangolin).
    """
    kind = style.format_of(path, "")
    if kind not in style.FORMATS:
        raise ValueError(f"{path}: the output name must end in .png, .svg or .pdf")
    drawings = [draw_view(view) for view in views]
    paths = output_paths(path, views)
    if kind == "pdf":
        style.save_pages([figure for figure, _ in drawings], paths[0])
    else:
        for (figure, _), target in zip(drawings, paths):
            style.save_figure(figure, target, kind)
    return paths, [drawn for _, drawn in drawings]


def exon_spans(transcript: Transcript) -> list[tuple[int, int]]:
    """1-based inclusive ``(first, last)`` base of each exon."""
    return [(start + 1, end) for start, end in zip(transcript.exon_starts, transcript.exon_ends)]


def plot_variants(
    settings, variants: Sequence, output: str | Path, idents: Sequence[str | None] | None = None,
    *, cis: Sequence = (), haplotypes: str | None = None,
) -> tuple[list[Path], list[Drawn]]:
    """Score ``variants`` as ``annotate`` would with ``settings`` and write their figures to ``output``.

    Parameters
    ----------
    settings
        A :class:`~spliceannot.pipeline.AnnotateSettings` (reference,
        annotation, model, ``-D``, ``-M``, device); its score cache and
        precomputed files are not used.  A Pangolin model draws each
        tissue's change (:mod:`spliceannot.viz.pangolin_plot`) with the
        entries ``annotate -m pangolin`` writes.
    variants
        :class:`~spliceannot.windows.Variant` objects.
    output
        ``.png``/``.svg`` (one file per variant) or ``.pdf`` (one page each).
    cis, haplotypes
        Other variants on the haplotype of the (one) variant, and how it is
        scored with them (``background``/``combined``, as ``annotate
        --haplotypes``): the haplotype's tracks, the cis variants marked.
    """
    import dataclasses

    from spliceannot.factory import build_scorer
    from spliceannot.pangolin.scorer import PangolinScorer
    from spliceannot.viz.landscape import landscapes
    from spliceannot.viz.pangolin_landscape import pangolin_landscapes

    if style.format_of(output, "") not in style.FORMATS:
        raise ValueError(f"{output}: the output name must end in .png, .svg or .pdf")
    style.check_output(output)
    settings = dataclasses.replace(settings, cache=None, precomputed=())
    scorer = build_scorer(settings)
    try:
        if haplotypes:
            from spliceannot.viz.haplotype_landscape import haplotype_landscape

            if isinstance(scorer, PangolinScorer) or len(variants) != 1:
                raise ValueError("--cis/--haplotypes: give one variant, scored with a SpliceAI model")
            views = [haplotype_landscape(scorer, variants[0], cis, haplotypes, (idents or [None])[0])]
        elif isinstance(scorer, PangolinScorer):
            views = pangolin_landscapes(scorer, variants, idents)
        else:
            views = landscapes(scorer, variants, idents)
    finally:
        scorer.reference.close()
    return write_plots(views, output)
