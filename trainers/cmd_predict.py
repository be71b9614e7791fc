"""``spliceannot predict``: splice-site tracks of a whole genome (or parts of it)."""

from __future__ import annotations

import contextlib
import time

import click

from spliceannot.commands import options as shared
from spliceannot.commands._common import fail, handle_signals, log_to_stderr, progress_bar

COMMAND = "predict"
PROG = f"spliceannot {COMMAND}"


@click.command(COMMAND, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-R", "--fasta", required=True, metavar="FASTA",
              help="Genome FASTA: plain, gzip or bgzip (read one contig at a time).")
@click.option("-m", "--model", default="spliceai", show_default=True, metavar="MODEL",
              help="`spliceai` (Illumina's five 10k models), `pangolin` (Pangolin's twelve P(splice) "
                   "networks: per-tissue tracks), a weight file or a directory of them.")
@click.option("-A", "--annotation", metavar="ANNOTATION",
              help="Predict only inside genes, each on its own strand: grch37, grch38 (SpliceAI's "
                   "GENCODE tables), a SpliceAI-style table, or a GTF/GFF3 (plain or gzip).")
@click.option("--transcripts", type=click.Choice(["canonical", "all"]), default="canonical",
              show_default=True,
              help="With a GTF/GFF3: the canonical transcript of each gene, or all (a table's rows "
                   "are used as they are).")
@click.option("--biotype", default="all", show_default=True, metavar="BIOTYPE|all",
              help="With a GTF/GFF3: keep only genes of this biotype.")
@click.option("--regions", multiple=True, metavar="CHR:BEG-END[,...]",
              help="Predict only these positions (1-based, inclusive; `CHR` alone = whole contig). "
                   "Context still comes from the genome around them.")
@click.option("--strands", type=click.Choice(["both", "plus", "minus"]), default="both",
              show_default=True, help="Strands to score (with -A: genes on these strands).")
@click.option("--bedgraph", metavar="PREFIX",
              help="PREFIX.TRACK.{plus,minus}.bedGraph: values >= --threshold (TRACK: acceptor, donor; "
                   "Pangolin: heart, liver, brain, testis).")
@click.option("--bigwig", metavar="PREFIX",
              help="PREFIX.TRACK.{plus,minus}.bw: every predicted position.")
@click.option("--bed", metavar="FILE",
              help="Called sites (p >= --bed-threshold) as BED6 + probability.")
@click.option("--hdf5", metavar="FILE",
              help="Full-resolution arrays per contig and strand (NaN = not predicted).")
@click.option("--hdf5-dtype", type=click.Choice(["float16", "float32"]), default="float16",
              show_default=True, help="Value type of the --hdf5 arrays.")
@click.option("--threshold", type=click.FloatRange(0, 1), default=0.01, show_default=True,
              help="Smallest probability written to the bedGraph files.")
@click.option("--bed-threshold", type=click.FloatRange(0, 1), default=None,
              help="Smallest probability of a called site in --bed (default: --threshold).")
@click.option("--chunk-size", type=click.IntRange(min=1), default=50_000, show_default=True,
              help="Output positions per chunk (rounded up to a multiple of 64).")
@click.option("--batch-size", type=click.IntRange(min=1), default=4, show_default=True,
              help="Chunks per forward pass.")
@click.option("--skip-n", type=click.IntRange(min=0), default=1_000, show_default=True,
              help="Do not predict runs of at least this many N (non-ACGT) bases; 0 predicts all.")
@shared.device()
@click.option("--threads", type=click.IntRange(min=1), default=None,
              help="CPU threads for torch (with --engine ray: of each actor, default 1).")
@shared.engine_options
@click.option("--workers", type=click.IntRange(min=0), default=0, show_default=True,
              help="With --engine ray: CPU actors (0 = one per --threads CPUs of the cluster).")
@click.option("--tf32", is_flag=True,
              help="On CUDA, allow TF32 convolutions (faster, about 1e-3 less exact).")
@click.option("--progress/--no-progress", default=None,
              help="Progress bar in bases on stderr (default: when stderr is a terminal).")
def predict(fasta, model, annotation, transcripts, biotype, regions, strands, bedgraph, bigwig,
            bed, hdf5, hdf5_dtype, threshold, bed_threshold, chunk_size, batch_size, skip_n,
            device, threads, tf32, engine, ray_address, workers, progress) -> None:
    """Predict acceptor and donor probabilities along a genome.

    With a Pangolin model (-m pangolin, a directory of its files) the tracks
    are instead each tissue's P(splice) (heart, liver, brain, testis: the
    mean of its three networks).  Without -A both strands of every contig are scored (the minus strand is
    the model run on the reverse complement); with -A only the genes are,
    each on its own strand.  Coordinates are 0-based half-open in every
    output; a site is the labelled base itself (acceptor = first base of
    an exon, donor = last base of an exon).  Output directories must exist
    (checked before any work, as annotate checks -O); files appear only
    when complete.
    """
    from spliceannot.errors import InputError, ModelError
    from spliceannot.trainers.predict_run import TrackOutputs, predict_tracks
    from spliceannot.writers.tracks import STRANDS

    chosen = STRANDS if strands == "both" else (("+",) if strands == "plus" else ("-",))
    outputs = TrackOutputs(bedgraph=bedgraph, bigwig=bigwig, bed=bed, hdf5=hdf5, threshold=threshold,
                           bed_threshold=bed_threshold, hdf5_dtype=hdf5_dtype)  # fmt: skip
    with contextlib.ExitStack() as cleanup:  # a Ray cluster is left after any error message
        try:
            with handle_signals(), log_to_stderr(PROG):
                run = predict_tracks(
                    fasta, outputs, cleanup=cleanup, model=model, annotation=annotation,
                    transcripts=transcripts, biotype=biotype, regions=regions, strands=chosen,
                    chunk_size=chunk_size, batch_size=batch_size, skip_n=skip_n, device=device,
                    threads=threads, tf32=tf32, engine=engine, ray_address=ray_address, workers=workers,
                    progress=lambda total: progress_bar(progress, unit="nt", total=total),
                )  # fmt: skip
        except (InputError, ModelError, ValueError) as error:
            fail(COMMAND, str(error))
        except OSError as error:
            where = f"{error.filename}: " if error.filename else ""
            fail(COMMAND, f"{where}{error.strerror or error}")
    _report(run.summary, time.perf_counter() - run.started)
    if run.retried:
        click.echo(f"{PROG}: {run.retried} batch(es) computed again after a worker was lost", err=True)


def _report(summary, elapsed: float) -> None:
    per_strand = ", ".join(f"{strand}: {count}" for strand, count in summary.positions.items())
    rate = summary.predicted / elapsed if elapsed > 0 else 0.0  # predicting and writing
    line = (f"{PROG}: {summary.contigs} contigs, {summary.predicted} positions predicted "
            f"({per_strand}), {summary.skipped_n} nt in runs of N skipped")
    if summary.sites is not None:
        line += f", {summary.sites} sites called"
    click.echo(f"{line}; {elapsed:.1f} s ({rate:,.0f} positions/s)", err=True)
    for path in summary.outputs:
        click.echo(f"{PROG}: wrote {path}", err=True)
