"""The ``ism`` command's files: the ISM of each model, its TSV and its sequence logos.

The numbers come from :mod:`spliceannot.ism`; the logos are drawn by
:mod:`spliceannot.viz.logo`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from spliceannot.ism import Mutagenesis, run_mutagenesis, write_tsv
from spliceannot.viz.logo import LogoDrawing, write_logo
from spliceannot.viz.style import FORMATS, check_output


def run_ism(
    reference_path: str,
    location: str,
    models: Sequence[str],
    output_prefix: str,
    *,
    annotation: str | None = None,
    kind: str | None = None,
    strand: str | None = None,
    width: int = 50,
    labels: Sequence[str] = (),
    formats: Sequence[str] = ("png",),
    device: str = "auto",
    batch_size: int = 32,
    compute: str = "cone",
) -> tuple[list[Mutagenesis], list[Path], LogoDrawing | None]:
    """Resolve the site, run ISM with each model, write ``PREFIX.tsv`` and ``PREFIX.<format>`` logos.

    Returns
    -------
    tuple
        The :class:`~spliceannot.ism.Mutagenesis` results, the files
        written, and the :class:`~spliceannot.viz.logo.LogoDrawing` of the
        last logo.
    """
    bad = [f for f in formats if f not in FORMATS]
    if bad:
        raise ValueError(f"logo format {bad[0]!r}: expected one of {', '.join(FORMATS)}")
    check_output(f"{output_prefix}.tsv")
    results = run_mutagenesis(
        reference_path,
        location,
        models,
        annotation=annotation,
        kind=kind,
        strand=strand,
        width=width,
        labels=labels,
        device=device,
        batch_size=batch_size,
        compute=compute,
    )
    written = [Path(f"{output_prefix}.tsv")]
    write_tsv(results, written[0])
    drawing = None
    for kind_of_file in formats:
        written.append(Path(f"{output_prefix}.{kind_of_file}"))
        drawing = write_logo(results, written[-1])
    return results, written, drawing
