"""``spliceannot ism``: in-silico mutagenesis around a splice site, as a TSV and a sequence logo."""

from __future__ import annotations

import click

from spliceannot.commands import options
from spliceannot.commands._common import fail, handle_signals, log_to_stderr


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("location", metavar="SITE_OR_REGION")
@options.reference(help="Reference genome FASTA (plain or bgzipped).")
@options.annotation(help="grch37, grch38, a SpliceAI-style table or a GTF/GFF3: finds the site's kind and strand.",
                    optional=True)
@click.option("-m", "--model", "models", multiple=True, default=("spliceai",), show_default=True,
              help="Model (spliceai, a .h5/.pt/.safetensors file or a directory); repeat to compare models "
                   "side by side.")
@click.option("--label", "labels", multiple=True, help="Name of each --model on the figure and in the TSV.")
@click.option("--site", "kind", type=click.Choice(["acceptor", "donor"]), default=None,
              help="Site kind (default: from the annotation).")
@click.option("--strand", type=click.Choice(["+", "-"]), default=None,
              help="Transcript strand (default: from the annotation).")
@click.option("-w", "--width", default=50, show_default=True, type=click.IntRange(1, 1000),
              help="Mutate every base within this many nucleotides of a SITE.")
@click.option("-o", "--output", "prefix", required=True, metavar="PREFIX",
              help="Writes PREFIX.tsv and PREFIX.png (and/or .svg, see --format).")
@click.option("--format", "formats", multiple=True, type=click.Choice(["png", "svg", "pdf"]), default=("png",),
              show_default=True, help="Logo format(s); repeat for several.")
@options.compute(help="cone: recompute only each mutant's receptive cone; window: every mutant's whole window.")
@options.device()
@options.batch_size(help="Mutants per forward pass.")
def ism(location, reference, annotation, models, labels, kind, strand, width, prefix, formats, compute, device,
        batch_size) -> None:
    """In-silico mutagenesis around a splice site.

    SITE_OR_REGION is CHROM:POS (the first base of an exon for an acceptor,
    the last base for a donor, 1-based; every base within --width of it is
    mutated) or CHROM:START-END (every base of the region is mutated, around
    the annotated site nearest its centre).  Each base is changed to the
    three others and the drop in the site's probability recorded; the
    importance of a position is the mean drop.  The site's kind and strand
    come from -A, or from --site and --strand.
    """
    from spliceannot.errors import InputError, ModelError
    from spliceannot.viz.ism import run_ism

    try:
        with handle_signals(), log_to_stderr("spliceannot ism"):
            results, written, _ = run_ism(
                reference, location, list(models), prefix, annotation=annotation, kind=kind, strand=strand,
                width=width, labels=list(labels), formats=list(dict.fromkeys(formats)), device=device,
                batch_size=batch_size, compute=compute,
            )
    except (InputError, ModelError, ValueError) as error:
        fail("ism", str(error))
    except OSError as error:
        fail("ism", f"{error.filename or prefix}: {error.strerror or error}")
    site = results[0].site
    click.echo(f"spliceannot ism: {site.label}, {len(results[0].positions)} positions x 3 mutants, "
               f"{len(results)} model(s); wrote {', '.join(str(p) for p in written)}", err=True)
