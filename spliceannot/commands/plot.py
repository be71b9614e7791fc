"""``spliceannot plot``: reference vs alternate splice tracks around variants."""

from __future__ import annotations

import copy

import click

from spliceannot.commands._common import fail, handle_signals, log_to_stderr

CONTEXT = {"help_option_names": ["-h", "--help"]}


# The options of ``annotate`` that say how variants are scored; commands that score
# variants take these very click options (same flags, types, defaults and help).
SCORING_OPTIONS = ("reference", "annotation", "distance", "mask", "model", "transcripts", "iupac",
                   "device", "batch_size")


def scoring_options(required: bool = True):
    """Add ``annotate``'s -R/-A/-D/-M/-m/--transcripts/--iupac/--device/--batch-size to a command.

    Apply it above ``@click.command``.  With ``required=False`` the options
    are optional and default to None (the caller fills them in).
    """
    from spliceannot.commands.annotate import annotate

    shared = [param for param in annotate.params if param.name in SCORING_OPTIONS]

    def decorate(command: click.Command) -> click.Command:
        for param in shared:
            if not required:
                param = copy.copy(param)
                param.required, param.default, param.show_default = False, None, False
            command.params.append(param)
        return command

    return decorate


def annotate_settings(reference, annotation, distance, mask, model, transcripts, iupac, device, batch_size):
    """The :class:`~spliceannot.pipeline.AnnotateSettings` these options describe (no score cache)."""
    from spliceannot.encoding import iupac_encoding
    from spliceannot.pipeline import AnnotateSettings

    return AnnotateSettings(reference=reference, annotation=annotation, model=model, distance=distance,
                            mask=bool(mask), transcripts=transcripts, encoding=iupac_encoding(iupac),
                            device=device, batch_size=batch_size, workers=1, cache=None)


@scoring_options()
@click.command(context_settings=CONTEXT)
@click.argument("variants", nargs=-1, metavar="VARIANT...")
@click.option("--vcf", "vcf_path", default=None, metavar="VCF",
              help="Take the variants from this VCF: VARIANT... are then record IDs, CHROM:POS or "
                   "CHROM:POS:REF:ALT (none = every record).")
@click.option("-o", "--output", required=True, metavar="OUT.png|svg|pdf",
              help="Figure file: one variant -> this file; several -> OUT.<ID>.png each, or one "
                   "multi-page PDF.")
def plot(variants, vcf_path, output, reference, annotation, distance, mask, model, transcripts, iupac,
         device, batch_size) -> None:
    """Plot reference and alternate acceptor/donor probabilities around variants.

    VARIANT is CHROM:POS:REF:ALT (1-based POS).  Each transcript containing
    the variant gets an acceptor and a donor panel over +/- D nucleotides;
    the exons of every overlapping transcript are drawn underneath, and the
    four delta scores and their positions are labelled with the numbers
    annotate writes for the same -R/-A/-D/-M/-m.
    """
    from spliceannot.errors import InputError, ModelError
    from spliceannot.viz.plot import plot_variants
    from spliceannot.viz.variants import parse_variant, variants_from_vcf

    settings = annotate_settings(reference, annotation, distance, mask, model, transcripts, iupac, device,
                                 batch_size)
    try:
        with handle_signals(), log_to_stderr("spliceannot plot"):
            if vcf_path:
                chosen = variants_from_vcf(vcf_path, variants)
            elif variants:
                chosen = [(parse_variant(text), None) for text in variants]
            else:
                raise InputError("give at least one VARIANT (CHROM:POS:REF:ALT) or --vcf FILE")
            paths, _ = plot_variants(settings, [v for v, _ in chosen], output, [i for _, i in chosen])
    except (InputError, ModelError, ValueError) as error:
        fail("plot", str(error))
    except OSError as error:
        fail("plot", f"{error.filename or output}: {error.strerror or error}")
    click.echo(f"spliceannot plot: wrote {len(paths)} file(s): {', '.join(str(p) for p in paths[:3])}"
               + (" ..." if len(paths) > 3 else ""), err=True)
