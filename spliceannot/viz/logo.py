"""Sequence logos of ISM importance: one letter per position, as tall as its importance.

The letter is the reference base as the transcript reads it; a negative
importance (mutations that raise the site's probability) is drawn below
the axis.  Several models share one figure, one row each, on the same
x axis (offset from the site in transcript direction).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from spliceannot.ism import Mutagenesis
from spliceannot.viz import style


@dataclass(frozen=True)
class Letter:
    """One drawn letter: ``base`` at ``offset`` spanning ``[0, height]`` (or ``[height, 0]``)."""

    model: str
    offset: int
    position: int
    base: str
    height: float


@dataclass
class LogoDrawing:
    """Every letter a logo figure shows, per model row."""

    letters: list[Letter] = field(default_factory=list)

    def heights(self, model: str) -> dict[int, float]:
        """``{position: height}`` of one model's row."""
        return {letter.position: letter.height for letter in self.letters if letter.model == model}


def _glyphs() -> dict[str, object]:
    """Each base's outline, normalised to the unit square."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextPath
    from matplotlib.transforms import Affine2D

    font = FontProperties(family=style.FONT_FAMILY, weight="bold")
    glyphs = {}
    for base in "ACGTN":
        path = TextPath((0, 0), base, size=1, prop=font)
        box = path.get_extents()
        glyphs[base] = (
            Affine2D()
            .translate(-box.x0, -box.y0)
            .scale(1 / box.width, 1 / box.height)
            .transform_path(path)
        )
    return glyphs


def _letter_patch(glyph, x: float, bottom: float, height: float, colour: str, gid: str):
    """``glyph`` stretched over ``[x - 0.45, x + 0.45] x [bottom, bottom + height]``."""
    from matplotlib.patches import PathPatch
    from matplotlib.transforms import Affine2D

    transform = Affine2D().scale(0.9, height).translate(x - 0.45, bottom)
    return PathPatch(transform.transform_path(glyph), facecolor=colour, edgecolor="none", gid=gid)


def draw_logo(results: Sequence[Mutagenesis]):
    """A figure with one logo row per model.

    Returns
    -------
    tuple
        The matplotlib Figure and the :class:`LogoDrawing` of every letter.
    """
    drawing = LogoDrawing()
    glyphs = _glyphs()
    width = max(len(r.positions) for r in results)
    with style.styled():
        figure = style.new_figure(min(24.0, 2.0 + 0.16 * width), 0.8 + 2.0 * len(results))
        axes = np.atleast_1d(figure.subplots(len(results), 1, sharex=True, squeeze=False)[:, 0])
        for axis, result in zip(axes, results):
            _draw_row(axis, result, glyphs, drawing)
        axes[-1].set_xlabel("offset from the site (nt, transcript direction)")
        site = results[0].site
        figure.suptitle(
            f"ISM of the {site.kind} at {site.chrom}:{site.pos} ({site.strand} strand)", fontsize=11
        )
    return figure, drawing


def _draw_row(axis, result: Mutagenesis, glyphs, drawing: LogoDrawing) -> None:
    """One model's logo: letters, the site marked, the importance axis."""
    importance = result.importance
    bases = result.transcript_bases
    for offset, position, base, height in zip(result.offsets, result.positions, bases, importance):
        drawing.letters.append(
            Letter(result.model, int(offset), int(position), base, float(height))
        )
        if not np.isfinite(height) or height == 0:
            continue
        bottom = min(0.0, float(height))
        colour = style.BASE_COLOURS.get(base, style.BASE_COLOURS["N"])
        gid = f"letter_{_safe(result.model)}_{position}_{base}_{float(height):.6f}"
        axis.add_patch(
            _letter_patch(
                glyphs.get(base, glyphs["N"]),
                float(offset),
                bottom,
                abs(float(height)),
                colour,
                gid,
            )
        )
    axis.axvline(0, color="black", lw=0.6, alpha=0.4, ls=":")
    axis.axhline(0, color="black", lw=0.6)
    finite = importance[np.isfinite(importance)]
    top = max(float(finite.max(initial=0.0)), 1e-3)
    low = min(float(finite.min(initial=0.0)), 0.0)
    axis.set_ylim(low - 0.05 * (top - low), top + 0.08 * (top - low))
    axis.set_xlim(float(result.offsets.min()) - 0.6, float(result.offsets.max()) + 0.6)
    axis.set_ylabel("mean drop")
    axis.set_title(
        f"{result.model}   P({result.site.kind}) = {result.reference_probability:.3f}",
        loc="left",
        fontsize=9,
    )


def _safe(text: str) -> str:
    """``text`` with only letters, digits, dots and dashes (an SVG id part)."""
    return re.sub(r"[^A-Za-z0-9.-]+", "-", text)


def write_logo(results: Sequence[Mutagenesis], path: str | Path) -> LogoDrawing:
    """Draw the logo of ``results`` to ``path`` (PNG, SVG or PDF by its name), atomically."""
    kind = style.format_of(path, "")
    if kind not in style.FORMATS:
        raise ValueError(f"{path}: the logo name must end in .png, .svg or .pdf")
    figure, drawing = draw_logo(results)
    style.save_figure(figure, path, kind)
    return drawing
