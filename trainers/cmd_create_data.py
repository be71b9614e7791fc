"""``spliceannot create-data``: HDF5 training data from a genome FASTA and a GTF/GFF3."""

from __future__ import annotations

import click

from spliceannot.commands._common import fail, handle_signals, log_to_stderr, progress_bar

PROG = "spliceannot create-data"


def _chromosome_list(ctx, param, value: str | None) -> tuple[str, ...]:
    return tuple(name.strip() for name in (value or "").split(",") if name.strip())


@click.command("create-data", context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-R", "--fasta", required=True, metavar="FASTA",
              help="Genome FASTA: plain, gzip or bgzip (read one contig at a time).")
@click.option("-A", "--annotation", required=True, metavar="GTF_OR_GFF3",
              help="Gene models, GTF or GFF3, plain or gzip.")
@click.option("-o", "--output-dir", required=True, metavar="DIR",
              help="Writes DIR/train.h5, validation.h5, test.h5 and summary.tsv.")
@click.option("--transcripts", type=click.Choice(["canonical", "all"]), default="canonical",
              show_default=True,
              help="One transcript per gene (chosen as annotate chooses), or every isoform "
                   "(labels are the union of their sites).")
@click.option("--biotype", default="protein_coding", show_default=True, metavar="BIOTYPE|all",
              help="Keep only genes of this biotype; `all` keeps every gene.")
@click.option("--canonical-introns", is_flag=True,
              help="Label only introns reading GT-AG, GC-AG or AT-AC.")
@click.option("--flank-sequence", type=click.Choice(["n", "genome"]), default="n",
              show_default=True,
              help="Context outside the gene: N (as in SpliceAI's training data) or the "
                   "genome's bases.")
@click.option("--split", type=click.Choice(["human", "random"]), default=None,
              help="human: test = chr1,3,5,7,9 (SpliceAI's), validation = a seeded --val-fraction "
                   "of the other genes.  random: seeded, length-balanced assignment of whole "
                   "chromosomes (or genes, with --split-by gene).  Default: human, or random "
                   "with --split-by gene.")
@click.option("--test-chroms", callback=_chromosome_list, metavar="CHR[,CHR...]",
              help="Test chromosomes (`chr` optional); instead of --split.")
@click.option("--val-chroms", callback=_chromosome_list, metavar="CHR[,CHR...]",
              help="Validation chromosomes; without it validation is a seeded --val-fraction "
                   "of the non-test genes.")
@click.option("--split-by", type=click.Choice(["chromosome", "gene"]), default="chromosome",
              show_default=True,
              help="What --split random assigns: whole chromosomes, or genes (for genomes with "
                   "few contigs).")
@click.option("--test-fraction", type=click.FloatRange(0, 1), default=0.1, show_default=True,
              help="Share of gene bases aimed at for test (--split random).")
@click.option("--val-fraction", type=click.FloatRange(0, 1), default=0.1, show_default=True,
              help="Share aimed at for validation (of gene bases with --split random, of the "
                   "remaining genes otherwise).")
@click.option("--seed", type=int, default=42, show_default=True, help="Seed of the random splits.")
@click.option("--remove-paralogs", is_flag=True,
              help="Drop train/validation genes similar to a test gene (needs mappy); "
                   "listed in DIR/paralogs_removed.tsv.")
@click.option("--paralog-identity", type=click.FloatRange(0, 1), default=0.8, show_default=True,
              help="Identity of a hit over >= 50% of the gene that makes it a paralog.")
@click.option("--force", is_flag=True, help="Overwrite existing output files.")
@click.option("--progress/--no-progress", default=None,
              help="Progress bar on stderr (default: when stderr is a terminal).")
def create_data(fasta, annotation, output_dir, transcripts, biotype, canonical_introns,
                flank_sequence, split, test_chroms, val_chroms, split_by, test_fraction,
                val_fraction, seed, remove_paralogs, paralog_identity, force, progress) -> None:
    """Build train/validation/test HDF5 files of labelled 15 kb windows.

    Every gene (in transcript orientation) is cut into windows of 5,000
    labelled positions (0 neither, 1 acceptor, 2 donor, -1 past the gene's
    end) with 5,000 nt of context on each side, enough for any flank.  A
    summary is printed and written to DIR/summary.tsv.
    """
    from spliceannot.errors import InputError
    from spliceannot.trainers.data import create_data as build

    try:
        with handle_signals(), log_to_stderr(PROG), progress_bar(progress, unit="gene") as bar:
            summary = build(
                fasta,
                annotation,
                output_dir,
                transcripts=transcripts,
                biotype=biotype,
                canonical_introns=canonical_introns,
                flank_sequence=flank_sequence,
                split=split,
                test_chroms=test_chroms,
                val_chroms=val_chroms,
                split_by=split_by,
                test_fraction=test_fraction,
                val_fraction=val_fraction,
                seed=seed,
                remove_paralogs=remove_paralogs,
                paralog_identity=paralog_identity,
                force=force,
                progress=bar,
            )
    except (InputError, ValueError) as error:
        fail("create-data", str(error))
    click.echo(summary.table(), err=True)
    click.echo(f"{PROG}: wrote {summary.windows} windows to {output_dir}", err=True)
