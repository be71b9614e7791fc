"""``spliceannot plot``: reference vs alternate splice tracks around variants (Pangolin: per-tissue change)."""

from __future__ import annotations

import click

from spliceannot.commands import options
from spliceannot.commands._common import fail, handle_signals, log_to_stderr


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("variants", nargs=-1, metavar="VARIANT...")
@click.option("--vcf", "vcf_path", default=None, metavar="VCF",
              help="Take the variants from this VCF: VARIANT... are then record IDs, CHROM:POS or "
                   "CHROM:POS:REF:ALT (none = every record).")
@click.option("-o", "--output", required=True, metavar="OUT.png|svg|pdf",
              help="Figure file: one variant -> this file; several -> OUT.<ID>.png each, or one "
                   "multi-page PDF.")
@click.option("--cis", multiple=True, metavar="VARIANT",
              help="Another variant on the same haplotype (repeatable): plot the variant in its haplotype, "
                   "the cis variants marked (one VARIANT; see --haplotypes).")
@click.option("--haplotypes", type=click.Choice(["background", "combined"]), default=None,
              help="With --cis: background = the haplotype without the variant against it with it "
                   "(default); combined = the genome against the whole haplotype.")
@options.mnv()
@options.scoring_options()
def plot(variants, vcf_path, output, cis, haplotypes, mnv, **scoring) -> None:
    """Plot reference and alternate acceptor/donor probabilities around variants.

    VARIANT is CHROM:POS:REF:ALT (1-based POS).  Each transcript containing
    the variant gets an acceptor and a donor panel over +/- D nucleotides;
    the exons of every overlapping transcript are drawn underneath, and the
    four delta scores and their positions are labelled with the numbers
    annotate writes for the same -R/-A/-D/-M/-m.  With a Pangolin model
    (-m pangolin) each strand with genes gets one panel of the four tissues'
    change in P(splice) and their loss/gain envelope, labelled with each
    gene's Pangolin gain and loss.  With --cis, the variant is scored on a
    haplotype carrying the cis variants too (as annotate --haplotypes).
    """
    from spliceannot.errors import InputError, ModelError
    from spliceannot.pipeline import AnnotateSettings
    from spliceannot.viz.plot import plot_variants
    from spliceannot.viz.variants import parse_variant, variants_from_vcf

    settings = options.scorer_settings(AnnotateSettings, **scoring, workers=1, cache=None, mnv=mnv)
    if cis and not haplotypes:
        haplotypes = "background"
    try:
        with handle_signals(), log_to_stderr("spliceannot plot"):
            if vcf_path:
                chosen = variants_from_vcf(vcf_path, variants)
            elif variants:
                chosen = [(parse_variant(text), None) for text in variants]
            else:
                raise InputError("give at least one VARIANT (CHROM:POS:REF:ALT) or --vcf FILE")
            if haplotypes and len(chosen) != 1:
                raise InputError("--cis/--haplotypes plot one VARIANT in its haplotype: give exactly one")
            cis_variants = [parse_variant(text) for text in cis]
            paths, _ = plot_variants(settings, [v for v, _ in chosen], output, [i for _, i in chosen],
                                     cis=cis_variants, haplotypes=haplotypes)
    except (InputError, ModelError, ValueError) as error:
        fail("plot", str(error))
    except OSError as error:
        fail("plot", f"{error.filename or output}: {error.strerror or error}")
    click.echo(f"spliceannot plot: wrote {len(paths)} file(s): {', '.join(str(p) for p in paths[:3])}"
               + (" ..." if len(paths) > 3 else ""), err=True)
