"""``spliceannot report``: one self-contained HTML page about an annotated VCF."""

from __future__ import annotations

import click

from spliceannot.commands import options
from spliceannot.commands._common import fail, handle_signals, log_to_stderr


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("vcf_path", metavar="VCF")
@click.option("-o", "--output", required=True, metavar="REPORT.html", help="The HTML page to write.")
@click.option("-n", "--top", default=10, show_default=True, type=click.IntRange(0, 1000),
              help="Variants in the table (largest delta score first).")
@click.option("--plots/--no-plots", default=True, show_default=True,
              help="Embed each top variant's landscape plot (recomputed with the model).")
@options.scoring_options(optional=True)
def report(vcf_path, output, top, plots, **overrides) -> None:
    """Write a static HTML report of a VCF annotated by spliceannot or SpliceAI.

    The page shows the distribution of each record's largest delta score,
    the top variants with their plots, and the run's parameters.  Images are
    embedded: the file opens offline and loads nothing.  The plots are
    redrawn with -R/-A/-D/-M/-m as found in the VCF's ##spliceannotCommand
    line, its relative paths looked for in the directory annotate ran in
    (##spliceannotWorkingDirectory), then beside the VCF, then in the current
    directory.  Options given here take precedence (a VCF written by
    SpliceAI needs -R and -A, or --no-plots).
    """
    from spliceannot.errors import InputError, ModelError
    from spliceannot.viz.report import write_report

    try:
        with handle_signals(), log_to_stderr("spliceannot report"):
            summary = write_report(vcf_path, output, top=top, plots=plots, overrides=overrides)
    except (InputError, ModelError, ValueError) as error:
        fail("report", str(error))
    except OSError as error:
        fail("report", f"{error.filename or output}: {error.strerror or error}")
    click.echo(f"spliceannot report: {summary.records} records, {summary.scored} scored; wrote {output}", err=True)
