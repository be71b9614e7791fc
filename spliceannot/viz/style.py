"""The one look of spliceannot's figures: colours, fonts, a figure factory, atomic saving.

Every figure spliceannot draws (variant landscapes, ISM logos, report
histograms, training curves, reliability diagrams) is made with
:func:`new_figure` and written with :func:`save_figure`, so they share
fonts, colours and sizes, and none needs a display: figures are built on
matplotlib's Agg canvas directly, without pyplot's global state.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from pathlib import Path

from spliceannot.atomic import atomic_path

# Colours (colour-blind safe, Okabe-Ito).
ACCEPTOR_COLOUR = "#0072B2"
DONOR_COLOUR = "#D55E00"
REFERENCE_COLOUR = "#7f7f7f"
EXON_COLOUR = "#333333"
GAIN_COLOUR = "#009E73"
LOSS_COLOUR = "#CC79A7"
CIS_COLOUR = "#E69F00"  # the other variants of a haplotype
SERIES_COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
BASE_COLOURS = {"A": "#109648", "C": "#255C99", "G": "#F7B32B", "T": "#D62839", "N": "#999999"}

FONT_FAMILY = "DejaVu Sans"
DPI = 100
FORMATS = ("png", "svg", "pdf")

STYLE = {
    "font.family": FONT_FAMILY,
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.prop_cycle": None,  # filled in below
    "legend.fontsize": 8,
    "legend.frameon": False,
    "lines.linewidth": 1.4,
    "lines.markersize": 4,
    "savefig.dpi": DPI,
    # text stays text in SVG (searchable, smaller); fonts are embedded in PDF
    "svg.fonttype": "none",
    "pdf.fonttype": 42,
    # no timestamps or random ids: the same input gives the same file
    "svg.hashsalt": "spliceannot",
}


def _style() -> dict:
    from cycler import cycler

    return {**STYLE, "axes.prop_cycle": cycler(color=list(SERIES_COLOURS))}


@contextlib.contextmanager
def styled() -> Iterator[None]:
    """Apply spliceannot's matplotlib settings inside the block."""
    import matplotlib

    with matplotlib.rc_context(_style()):
        yield


def new_figure(width: float, height: float):
    """A matplotlib Figure of ``width`` x ``height`` inches on an Agg canvas, in spliceannot's style.

    Build the whole figure inside :func:`styled` (fonts and colours are
    read when artists are created).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def format_of(path: str | Path, default: str = "png") -> str:
    """The image format a file name asks for (``png``, ``svg`` or ``pdf``)."""
    suffix = Path(path).suffix.lower().lstrip(".")
    return suffix if suffix in FORMATS else default


def _metadata(kind: str) -> dict:
    """File metadata without dates, so that output is reproducible."""
    if kind == "png":
        return {"Software": None}
    if kind == "svg":
        return {"Date": None, "Creator": None}
    return {"CreationDate": None, "Creator": None, "Producer": None}


def save_figure(figure, path: str | Path, kind: str | None = None) -> None:
    """Write ``figure`` to ``path`` (format from ``kind`` or the name); the file appears only when complete."""
    kind = kind or format_of(path)
    with styled(), atomic_path(path) as temporary:
        figure.savefig(temporary, format=kind, dpi=DPI, metadata=_metadata(kind))


def save_pages(figures: Sequence, path: str | Path) -> None:
    """Write ``figures`` as the pages of one PDF at ``path``, atomically."""
    from matplotlib.backends.backend_pdf import PdfPages

    with (
        styled(),
        atomic_path(path) as temporary,
        PdfPages(temporary, metadata=_metadata("pdf")) as pages,
    ):
        for figure in figures:
            pages.savefig(figure)


def figure_bytes(figure, kind: str = "png") -> bytes:
    """The encoded image of ``figure`` (for embedding in HTML)."""
    import io

    buffer = io.BytesIO()
    with styled():
        figure.savefig(buffer, format=kind, dpi=DPI, metadata=_metadata(kind))
    return buffer.getvalue()


def check_output(path: str | Path) -> None:
    """Fail early, before any work, when ``path``'s directory does not exist.

    Raises
    ------
    ValueError
        Naming the missing directory.
    """
    parent = Path(path).resolve().parent
    if not parent.is_dir():
        raise ValueError(f"{path}: directory {parent} does not exist")
