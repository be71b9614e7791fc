"""A static, self-contained HTML page about a VCF annotated by spliceannot or SpliceAI.

The page holds the distribution of each record's largest delta score (an
inline SVG histogram), the top variants with their landscape plots
(embedded PNG ``data:`` URIs) and the run's parameters (the
``##spliceannot...`` and SpliceAI header lines).  It loads nothing from
anywhere: it opens offline, from a mail attachment or a CI artefact.
"""

from __future__ import annotations

import base64
import html
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from spliceannot.errors import InputError
from spliceannot.viz import style
from spliceannot.viz.scores import ScoreSummary, command_options, read_scores, report_settings

HISTOGRAM_BINS = np.linspace(0, 1, 21)
WORKING_DIRECTORY_LINE = "##spliceannotWorkingDirectory="  # where annotate ran (absolute)
# -R/-A/-m of the ##spliceannotCommand line that name files: key, flag, what, names that are no file
_FILE_OPTIONS = (
    ("reference", "-R", "reference FASTA", ()),
    ("annotation", "-A", "annotation", ("grch37", "grch38")),
    ("model", "-m", "model", ("spliceai",)),
)


def search_directories(summary: ScoreSummary) -> list[Path]:
    """Where relative paths of the ``##spliceannotCommand`` line are looked for, in order.

    The directory ``annotate`` ran in (its ``##spliceannotWorkingDirectory``
    line, when the VCF has one), then the VCF's own directory, then the
    current directory; each once.
    """
    found = []
    for line in summary.header:
        if line.startswith(WORKING_DIRECTORY_LINE):
            recorded = Path(line[len(WORKING_DIRECTORY_LINE) :])
            if recorded.is_absolute():
                found.append(recorded)
            break  # the line beside the first ##spliceannotCommand, which is the one used
    if summary.path != "-":
        found.append(Path(os.path.abspath(summary.path)).parent)
    found.append(Path.cwd())
    return list(dict.fromkeys(found))


def locate_inputs(summary: ScoreSummary, overrides: dict) -> dict:
    """``overrides`` plus the files of the ``##spliceannotCommand`` line, found on disk.

    A relative ``-R``/``-A``/``-m`` path of the command line is looked for in
    :func:`search_directories` and replaced by the first that exists (an
    option given in ``overrides`` is used as given).  ``grch37``, ``grch38``
    and ``spliceai`` are names, not files.

    Raises
    ------
    InputError
        If a file of the command line is in none of them: the message lists
        the paths tried and says which option to pass instead.
    """
    found = command_options(summary.command)
    located = dict(overrides)
    for key, flag, what, names in _FILE_OPTIONS:
        value = found.get(key)
        if overrides.get(key) is not None or not value or value in names:
            continue
        path = Path(value)
        candidates = [path] if path.is_absolute() else [d / path for d in search_directories(summary)]
        hit = next((candidate for candidate in candidates if candidate.exists()), None)
        if hit is None:
            tried = ", ".join(str(candidate) for candidate in candidates)
            raise InputError(
                f"{summary.path}: {what} {value} of the ##spliceannotCommand line not found "
                f"(tried {tried}); pass {flag} or --no-plots"
            )
        located[key] = str(hit)
    return located


def histogram_svg(maxima: Sequence[float]) -> tuple[str, np.ndarray]:
    """The distribution of max delta scores as inline SVG markup, and the bar heights drawn (records per bin)."""
    values = np.asarray(maxima, dtype=float)
    with style.styled():
        figure = style.new_figure(7.0, 3.0)
        axis = figure.subplots()
        counts, _, _ = axis.hist(
            np.clip(values, 0, 1),
            bins=HISTOGRAM_BINS,
            color=style.ACCEPTOR_COLOUR,
            edgecolor="white",
            log=True,
        )
        for cut, ls in ((0.2, ":"), (0.5, "--"), (0.8, "-")):
            axis.axvline(cut, color="black", lw=0.8, ls=ls, alpha=0.6)
        axis.set_xlim(0, 1)
        axis.set_xlabel(
            "largest delta score of the record (max over DS_AG, DS_AL, DS_DG, DS_DL and genes)"
        )
        axis.set_ylabel("records")
    text = style.figure_bytes(figure, "svg").decode()
    return text[text.index("<svg") :], counts.astype(int)


def landscape_images(summary: ScoreSummary, settings) -> dict[int, str]:
    """``{record index: PNG data URI or the reason there is no plot}`` for the top records."""
    from spliceannot.factory import build_scorer
    from spliceannot.viz.landscape import landscapes
    from spliceannot.viz.plot import draw_landscape

    scorer = build_scorer(settings)
    images = {}
    try:
        for record in summary.top:
            try:
                (view,) = landscapes(scorer, [record.variant], [record.ident])
            except InputError as error:
                images[record.index] = str(error)
                continue
            figure, _ = draw_landscape(view)
            encoded = base64.b64encode(style.figure_bytes(figure, "png")).decode()
            images[record.index] = f"data:image/png;base64,{encoded}"
    finally:
        scorer.reference.close()
    return images


# --------------------------------------------------------------------------- page

_CSS = """
body { font-family: 'DejaVu Sans', Arial, sans-serif; margin: 2em auto; max-width: 70em; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 2em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; font-size: 0.9em; }
th, td { padding: 0.25em 0.6em; border-bottom: 1px solid #e4e4e4; text-align: right; }
th { background: #f4f4f4; } td.text, th.text { text-align: left; }
tr.plot td { text-align: left; border-bottom: 2px solid #bbb; }
img { max-width: 100%; }
pre { background: #f7f7f7; padding: 0.8em; overflow-x: auto; font-size: 0.85em; }
.high { font-weight: bold; color: #b00; } .note { color: #666; }
"""

# Records load errors (scripts, images) on the page itself, and counts decoded images when loaded.
_ERRORS_JS = """
window.addEventListener('error', function (event) {
  var root = document.documentElement, target = event.target || {};
  var what = event.message || ('cannot load ' + (target.src || target.href || target.tagName));
  root.setAttribute('data-errors', (root.getAttribute('data-errors') || '') + what + '; ');
}, true);
"""
_LOADED_JS = """
window.addEventListener('load', function () {
  var images = document.images, good = 0;
  for (var i = 0; i < images.length; i++) { if (images[i].complete && images[i].naturalWidth > 0) good++; }
  document.body.setAttribute('data-images-loaded', good + '/' + images.length);
});
"""


def _cell(value, css: str = "") -> str:
    attribute = f' class="{css}"' if css else ""
    return f"<td{attribute}>{html.escape(str(value))}</td>"


def _top_table(summary: ScoreSummary, images: dict[int, str] | None) -> str:
    heads = [
        "#",
        "CHROM",
        "POS",
        "ID",
        "REF",
        "ALT",
        "gene",
        "DS_AG",
        "DS_AL",
        "DS_DG",
        "DS_DL",
        "DP_AG",
        "DP_AL",
        "DP_DG",
        "DP_DL",
        "max",
    ]
    text_columns = {"CHROM", "ID", "REF", "ALT", "gene"}
    header = "".join(
        f'<th class="text">{h}</th>' if h in text_columns else f"<th>{h}</th>" for h in heads
    )
    rows = [f'<table id="top-variants"><thead><tr>{header}</tr></thead><tbody>']
    for rank, record in enumerate(summary.top, start=1):
        best = record.best
        cells = [
            _cell(rank),
            _cell(record.chrom, "text"),
            _cell(record.pos),
            _cell(record.ident, "text"),
            _cell(record.ref, "text"),
            _cell(best.allele, "text"),
            _cell(best.symbol, "text"),
        ]
        cells += [_cell(score, "high" if float(score) >= 0.5 else "") for score in best.scores]
        cells += [_cell(position) for position in best.positions]
        cells.append(_cell(f"{best.maximum:.2f}"))
        rows.append(
            f'<tr class="variant" id="variant-{rank}" data-max="{best.maximum}">{"".join(cells)}</tr>'
        )
        if images is not None:
            image = images.get(record.index, "")
            alt = html.escape(f"{record.chrom}:{record.pos}:{record.ref}:{best.allele}")
            content = (
                f'<img src="{image}" alt="{alt}">'
                if image.startswith("data:")
                else f'<span class="note">no plot: {html.escape(image)}</span>'
            )
            rows.append(f'<tr class="plot"><td colspan="{len(heads)}">{content}</td></tr>')
    rows.append("</tbody></table>")
    return "\n".join(rows)


def _histogram(maxima: Sequence[float]) -> str:
    """The histogram figure, its bar heights in ``data-counts`` (bins of 0.05 from 0 to 1)."""
    if not maxima:
        return '<p class="note">no scored records</p>'
    svg, counts = histogram_svg(maxima)
    return f'<figure id="histogram" data-counts="{",".join(str(c) for c in counts)}">{svg}</figure>'


def render_html(
    summary: ScoreSummary, images: dict[int, str] | None, *, title: str | None = None
) -> str:
    """The report page (a complete HTML document)."""
    name = html.escape(title or Path(summary.path).name)
    high = sum(1 for m in summary.maxima if m >= 0.5)
    parameters = (
        "\n".join(html.escape(line) for line in summary.header)
        or "(no spliceannot/SpliceAI header lines)"
    )
    counts = (
        f'<table id="counts"><tr><th class="text">records</th><td>{summary.records}</td></tr>'
        f'<tr><th class="text">with numeric SpliceAI scores</th><td>{summary.scored}</td></tr>'
        f'<tr><th class="text">max delta score &ge; 0.5</th><td>{high}</td></tr></table>'
    )
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            f"<title>spliceannot report: {name}</title>",
            f"<style>{_CSS}</style>",
            f"<script>{_ERRORS_JS}</script>",
            "</head><body>",
            f"<h1>spliceannot report: {name}</h1>",
            f'<section id="summary"><h2>Summary</h2>{counts}</section>',
            '<section id="distribution"><h2>Largest delta score per record</h2>',
            _histogram(summary.maxima),
            "</section>",
            f'<section id="top"><h2>Top {len(summary.top)} variants</h2>',
            (
                '<p class="note">The entry (ALT and gene) with the largest delta score of each record; '
                "DP in nucleotides from the variant.</p>"
            ),
            _top_table(summary, images),
            "</section>",
            f'<section id="parameters"><h2>Run parameters</h2><pre>{parameters}</pre></section>',
            f"<script>{_LOADED_JS}</script>",
            "</body></html>",
            "",
        ]
    )


def write_report(
    vcf_path: str,
    output: str | Path,
    *,
    top: int = 10,
    plots: bool = True,
    overrides: dict | None = None,
) -> ScoreSummary:
    """Read ``vcf_path``, draw the top variants (unless ``plots`` is False) and write the page atomically.

    ``overrides``: ``reference``, ``annotation``, ``model``, ``distance``,
    ``mask``, ``transcripts``, ``iupac``, ``device``, ``batch_size`` for redrawing
    (None values are taken from the VCF's ``##spliceannotCommand`` line, its
    relative paths found by :func:`locate_inputs`).
    """
    from spliceannot.atomic import atomic_path

    style.check_output(output)
    summary = read_scores(vcf_path, top)
    images = None
    if plots and summary.top:
        located = locate_inputs(summary, overrides or {})
        images = landscape_images(summary, report_settings(summary, located))
    page = render_html(summary, images)
    with atomic_path(output) as temporary:
        Path(temporary).write_text(page, encoding="utf-8")
    return summary
