"""``spliceannot predict``: splice-site tracks of a whole genome (or parts of it)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import click

from spliceannot.commands._cluster import engine_options
from spliceannot.commands._common import fail, handle_signals, log_to_stderr, progress_bar

COMMAND = "predict"
PROG = f"spliceannot {COMMAND}"


@click.command(COMMAND, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-R", "--fasta", required=True, metavar="FASTA",
              help="Genome FASTA: plain, gzip or bgzip (read one contig at a time).")
@click.option("-m", "--model", default="spliceai", show_default=True, metavar="MODEL",
              help="`spliceai` (Illumina's five 10k models), a weight file or a directory of them.")
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
              help="PREFIX.{acceptor,donor}.{plus,minus}.bedGraph: values >= --threshold.")
@click.option("--bigwig", metavar="PREFIX",
              help="PREFIX.{acceptor,donor}.{plus,minus}.bw: every predicted position.")
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
@click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda or cuda:N.")
@click.option("--threads", type=click.IntRange(min=1), default=None,
              help="CPU threads for torch (with --engine ray: of each actor, default 1).")
@engine_options
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

    Without -A both strands of every contig are scored (the minus strand is
    the model run on the reverse complement); with -A only the genes are,
    each on its own strand.  Coordinates are 0-based half-open in every
    output; a site is the labelled base itself (acceptor = first base of
    an exon, donor = last base of an exon).  Output directories must exist
    (checked before any work, as annotate checks -O); files appear only
    when complete.
    """
    from spliceannot.engine._device import resolve_device, set_cpu_threads
    from spliceannot.engine.weights import load_model
    from spliceannot.errors import InputError, ModelError
    from spliceannot.readers.fasta_stream import fasta_contigs, fasta_lengths, has_index
    from spliceannot.trainers.predict import GenomePredictor
    from spliceannot.trainers.predict_genome import predict_genome
    from spliceannot.trainers.predict_plan import (
        annotation_spans,
        check_regions,
        parse_regions,
        planned_positions,
        regions_by_contig,
    )
    from spliceannot.writers.tracks import STRANDS, require_pybigwig

    chosen = STRANDS if strands == "both" else (("+",) if strands == "plus" else ("-",))
    targets = _output_targets(bedgraph, bigwig, bed, hdf5, chosen)
    if engine != "ray" and (ray_address or workers):
        fail(COMMAND, "--ray-address and --workers need --engine ray")
    network = None
    try:
        with handle_signals(), log_to_stderr(PROG):
            resolve_device(device)
            if not Path(fasta).is_file():
                raise InputError(f"{fasta}: FASTA not found")
            contigs = fasta_contigs(fasta)
            wanted_regions = None
            if regions:
                wanted_regions = regions_by_contig(parse_regions(regions), contigs)
            genes = None
            if annotation:
                genes = annotation_spans(annotation, contigs, transcripts=transcripts,
                                         biotype=biotype)
            if bigwig:
                require_pybigwig()
            lengths = fasta_lengths(fasta) if bigwig or has_index(fasta) else None
            if wanted_regions is not None and lengths is not None:
                check_regions(wanted_regions, lengths)
            set_cpu_threads(threads)
            loaded = load_model(model)
            network = loaded
            if engine == "ray":
                from spliceannot.cluster.connection import RaySettings
                from spliceannot.cluster.predict_pool import RayNetwork

                cluster = RaySettings(address=ray_address, workers=workers, threads=threads or 1,
                                      device=device)
                network = RayNetwork(model, loaded.flank, cluster, tf32=tf32)
            predictor = GenomePredictor(network, device=device, chunk_size=chunk_size,
                                        batch_size=batch_size, skip_n=skip_n, tf32=tf32)
            total = planned_positions(contigs, lengths, chosen, wanted_regions, genes)
            writers = _writers(targets, chosen, lengths, threshold, bed_threshold,
                               hdf5_dtype, loaded)
            started = time.perf_counter()
            with progress_bar(progress, unit="nt", total=total) as bar:
                summary = predict_genome(fasta, predictor, writers, strands=chosen,
                                         regions=wanted_regions, genes=genes, progress=bar)
    except (InputError, ModelError, ValueError) as error:
        fail(COMMAND, str(error))
    except OSError as error:
        where = f"{error.filename}: " if error.filename else ""
        fail(COMMAND, f"{where}{error.strerror or error}")
    finally:
        if hasattr(network, "close"):  # Ray actors (and the local cluster they started)
            network.close()
    elapsed = time.perf_counter() - started
    _report(summary, elapsed)
    retried = getattr(network, "retried", 0)
    if retried:
        click.echo(f"{PROG}: {retried} batch(es) computed again after a worker was lost", err=True)


def _output_targets(bedgraph, bigwig, bed, hdf5, strands) -> dict[str, str]:
    """The output options given, checked before any work.

    There must be one; no two may name the same file; every file's directory
    must exist and be writable (as ``annotate`` requires of -O).
    """
    from spliceannot.writers.tracks import track_paths

    targets = {k: v for k, v in
               (("bedgraph", bedgraph), ("bigwig", bigwig), ("bed", bed), ("hdf5", hdf5)) if v}
    if not targets:
        fail(COMMAND, "no output: give at least one of --bedgraph, --bigwig, --bed, --hdf5")
    files = []  # (the option's value, a file it names)
    for kind, value in targets.items():
        if kind in ("bedgraph", "bigwig"):
            suffix = "bedGraph" if kind == "bedgraph" else "bw"
            files += [(value, str(p)) for p in track_paths(value, suffix, strands).values()]
        else:
            files.append((value, value))
    seen = set()
    for given, name in files:
        key = os.path.abspath(name)
        if key in seen:
            fail(COMMAND, f"{name}: named by two outputs")
        seen.add(key)
        path = Path(name)
        if path.is_dir():
            fail(COMMAND, f"{name}: is a directory, expected an output file name")
        parent = path.resolve().parent
        if not parent.is_dir():
            fail(COMMAND, f"{given}: output directory {parent} does not exist")
        if not os.access(parent, os.W_OK):
            fail(COMMAND, f"{given}: output directory {parent} is not writable")
    return targets


def _writers(targets, strands, lengths, threshold, bed_threshold, hdf5_dtype, loaded) -> list:
    """Open the writers (temporary files beside the targets); close them all on failure."""
    from spliceannot.writers.tracks import BedGraphWriter, BedWriter, BigWigWriter, Hdf5Writer

    writers = []
    try:
        if "bedgraph" in targets:
            writers.append(BedGraphWriter(targets["bedgraph"], strands, threshold))
        if "bigwig" in targets:
            writers.append(BigWigWriter(targets["bigwig"], strands, lengths))
        if "bed" in targets:
            cut = threshold if bed_threshold is None else bed_threshold
            writers.append(BedWriter(targets["bed"], cut))
        if "hdf5" in targets:
            attributes = {
                "model": loaded.name, "model_sha256": loaded.digest, "flank": loaded.flank,
            }  # fmt: skip
            writers.append(Hdf5Writer(targets["hdf5"], strands, hdf5_dtype, attributes))
    except BaseException:
        for writer in writers:
            writer.abort()
        raise
    return writers


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
