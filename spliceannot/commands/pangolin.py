"""``spliceannot pangolin``: Pangolin's command line (tkzeng/Pangolin 5cf94b8), a drop-in."""

from __future__ import annotations

import time

import click

from spliceannot.commands import options
from spliceannot.commands._common import fail, handle_signals, log_to_stderr


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("variant_file")
@click.argument("reference_file")
@click.argument("annotation_file")
@click.argument("output_file")
@click.option("-c", "--column_ids", default="CHROM,POS,REF,ALT", show_default=True,
              help="CSV input: the names of its chromosome, position, REF and ALT columns, comma-separated.")
@click.option("-m", "--mask", type=click.Choice(["False", "True"]), default="True", show_default=True,
              help="True: a gain at an annotated splice site, or a loss at an unannotated position, "
                   "counts as 0.")
@click.option("-s", "--score_cutoff", type=float, default=None,
              help="Print every position whose score changes by at least this much, not only the "
                   "largest gain and loss.")
@click.option("-d", "--distance", type=click.IntRange(0, options.MAX_DISTANCE), default=50, show_default=True,
              help="Positions scored on each side of the variant.")
@click.option("--score_exons", type=click.Choice(["False", "True"]), default="False", show_default=True,
              help="True: print the change at both ends of every annotated exon with an end within -d, "
                   "as gene_sites1|pos:score|...|gene_sites2|pos:score|...")
@click.option("--pangolin-models", default=None, metavar="DIR",
              help="Pangolin's 12 weight files (final.R.T.3.v2), when the pangolin package is not installed "
                   "(default $SPLICEANNOT_PANGOLIN_MODELS).")
@click.option("--mask-per-gene", is_flag=True,
              help="Mask each gene on its own copy of the scores (Pangolin lets one gene's mask show in the "
                   "next gene of the same strand: its issue 29). Changes numbers; off by default.")
@options.compute()
@options.device()
@options.batch_size()
@click.option("--threads", default=1, show_default=True, type=click.IntRange(1, 256), help="CPU threads.")
def pangolin(variant_file, reference_file, annotation_file, output_file, column_ids, mask, score_cutoff, distance,
             score_exons, pangolin_models, mask_per_gene, compute, device, batch_size, threads) -> None:
    """Pangolin's command line: VARIANT_FILE (VCF or CSV) scored against REFERENCE_FILE (FASTA) and
    ANNOTATION_FILE (a gffutils database from Pangolin's create_db.py; a GTF/GFF3 or SpliceAI table
    works too), written to OUTPUT_FILE.vcf or OUTPUT_FILE.csv as Pangolin writes them."""
    from spliceannot.engine.pangolin_files import models_dir
    from spliceannot.errors import InputError, ModelError
    from spliceannot.factory import ScorerSpec, build_scorer
    from spliceannot.pangolin import dropin
    from spliceannot.pangolin.genes import is_feature_db

    try:
        kind, output = dropin.output_path(output_file, variant_file)
        _check_annotation(annotation_file, is_feature_db)
        table = dropin.read_csv(variant_file, column_ids) if kind == "csv" else None
        spec = ScorerSpec(
            reference=reference_file,
            annotation=annotation_file,
            model=str(models_dir(pangolin_models)),
            distance=distance,
            compute=compute,
            device=device,
            batch_size=batch_size,
            threads_per_worker=threads,
            pangolin_mask=mask == "True",
            pangolin_cutoff=score_cutoff,
            pangolin_score_exons=score_exons == "True",
            pangolin_mask_per_gene=mask_per_gene,
        )
        started = time.perf_counter()
        with handle_signals(), log_to_stderr("spliceannot pangolin"):
            scorer = build_scorer(spec)
            click.echo(f"Using {'GPU' if _on_gpu(device) else 'CPU'}")
            if kind == "vcf":
                summary = dropin.annotate_vcf(variant_file, output, scorer, click.echo)
            else:
                summary = dropin.annotate_csv(variant_file, *table, output, scorer, click.echo)
    except (InputError, ModelError, ValueError) as error:
        fail("pangolin", str(error))
    except OSError as error:
        where = f"{error.filename}: " if error.filename else ""
        fail("pangolin", f"{where}{error.strerror or error}")
    summary.seconds = time.perf_counter() - started
    click.echo(f"spliceannot pangolin: {summary.line()}", err=True)


def _check_annotation(path: str, is_feature_db) -> None:
    """A gffutils database, or (beyond Pangolin) one of our annotations named by its suffix."""
    from pathlib import Path

    from spliceannot.errors import InputError
    from spliceannot.readers.annotation import BUILTIN_TABLES

    if path in BUILTIN_TABLES:
        return
    if is_feature_db(path):
        from spliceannot.pangolin.genes import FeatureDbGenes

        FeatureDbGenes(path)  # a foreign SQLite file is refused before the weights are looked for
        return
    if not Path(path).is_file():
        raise InputError(f"{path}: annotation_file not found")
    if not path.lower().endswith((".gtf", ".gtf.gz", ".gff", ".gff.gz", ".gff3", ".gff3.gz", ".txt", ".txt.gz")):
        raise InputError(f"{path}: annotation_file could not be opened: not a gffutils database file "
                         "(make one with Pangolin's create_db.py, or give a GTF/GFF3)")


def _on_gpu(device: str) -> bool:
    from spliceannot.engine._device import resolve_device

    return resolve_device(device).type == "cuda"
