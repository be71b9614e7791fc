"""``predict`` end to end: its output files checked and opened, the model set up, the genome streamed.

:func:`predict_tracks` is what ``spliceannot predict`` runs; the pieces it
puts together are described in :mod:`spliceannot.trainers.predict`.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

from spliceannot.errors import InputError
from spliceannot.trainers.intervals import DEFAULT_SKIP_N
from spliceannot.trainers.predict import DEFAULT_BATCH_SIZE, DEFAULT_CHUNK_SIZE
from spliceannot.trainers.predict_genome import PredictSummary
from spliceannot.trainers.predict_layout import SPLICEAI_LAYOUT, TrackLayout
from spliceannot.writers.tracks import STRANDS

Progress = Callable[[int | None], AbstractContextManager[Callable[[int], None] | None]]


@dataclass(frozen=True)
class TrackOutputs:
    """What ``predict`` writes.

    ``bedgraph`` and ``bigwig`` are prefixes (``PREFIX.TRACK.{plus,minus}.bedGraph``
    / ``.bw``, TRACK ``acceptor``, ``donor`` or, for Pangolin, a tissue), ``bed`` and ``hdf5`` file names; None
    writes no such output.  The bedGraph files hold values ``>= threshold``,
    the BED file sites ``>= bed_threshold`` (default: ``threshold``); the
    HDF5 arrays are of ``hdf5_dtype``.
    """

    bedgraph: str | None = None
    bigwig: str | None = None
    bed: str | None = None
    hdf5: str | None = None
    threshold: float = 0.01
    bed_threshold: float | None = None
    hdf5_dtype: str = "float16"

    def given(self) -> dict[str, str]:
        """``{kind: option value}`` of the outputs asked for, in the order bedgraph, bigwig, bed, hdf5."""
        kinds = (("bedgraph", self.bedgraph), ("bigwig", self.bigwig), ("bed", self.bed), ("hdf5", self.hdf5))
        return {kind: value for kind, value in kinds if value}


def check_outputs(outputs: TrackOutputs, strands: Sequence[str], names: Sequence[str] = SPLICEAI_LAYOUT.names) -> None:
    """Raise :class:`InputError` unless the outputs can be written, before any work.

    There must be one; no two may name the same file (``names``: the
    tracks'); every file's directory must exist and be writable (as
    ``annotate`` requires of -O).
    """
    from spliceannot.writers.tracks import track_paths

    targets = outputs.given()
    if not targets:
        raise InputError("no output: give at least one of --bedgraph, --bigwig, --bed, --hdf5")
    files = []  # (the option's value, a file it names)
    for kind, value in targets.items():
        if kind in ("bedgraph", "bigwig"):
            suffix = "bedGraph" if kind == "bedgraph" else "bw"
            files += [(value, str(p)) for p in track_paths(value, suffix, strands, names).values()]
        else:
            files.append((value, value))
    seen = set()
    for given, name in files:
        key = os.path.abspath(name)
        if key in seen:
            raise InputError(f"{name}: named by two outputs")
        seen.add(key)
        path = Path(name)
        if path.is_dir():
            raise InputError(f"{name}: is a directory, expected an output file name")
        parent = path.resolve().parent
        if not parent.is_dir():
            raise InputError(f"{given}: output directory {parent} does not exist")
        if not os.access(parent, os.W_OK):
            raise InputError(f"{given}: output directory {parent} is not writable")


def open_writers(
    outputs: TrackOutputs, strands: Sequence[str], lengths, loaded, layout: TrackLayout = SPLICEAI_LAYOUT
) -> list:
    """The track writers of ``outputs`` (temporary files beside the targets); all closed on failure.

    ``lengths`` are the contigs' ``(name, length)`` (needed by bigWig);
    ``loaded`` is the :class:`~spliceannot.engine.weights.LoadedModel`,
    named in the HDF5 file's attributes; ``layout`` names the tracks.
    """
    from spliceannot.writers.tracks import BedGraphWriter, BedWriter, BigWigWriter, Hdf5Writer

    tracks = layout.tracks
    writers = []
    try:
        if outputs.bedgraph:
            writers.append(BedGraphWriter(outputs.bedgraph, strands, outputs.threshold, tracks))
        if outputs.bigwig:
            writers.append(BigWigWriter(outputs.bigwig, strands, lengths, tracks))
        if outputs.bed:
            cut = outputs.threshold if outputs.bed_threshold is None else outputs.bed_threshold
            writers.append(BedWriter(outputs.bed, cut, tracks))
        if outputs.hdf5:
            attributes = {
                "model": loaded.name, "model_sha256": loaded.digest, "flank": loaded.flank,
            }  # fmt: skip
            writers.append(Hdf5Writer(outputs.hdf5, strands, outputs.hdf5_dtype, attributes, tracks))
    except BaseException:
        for writer in writers:
            writer.abort()
        raise
    return writers


@dataclass
class PredictRun:
    """What :func:`predict_tracks` did; ``started`` is ``time.perf_counter()`` when prediction began."""

    summary: PredictSummary
    started: float
    retried: int  # batches computed again after a Ray worker was lost


def predict_tracks(
    fasta: str,
    outputs: TrackOutputs,
    *,
    cleanup: contextlib.ExitStack,
    model: str = "spliceai",
    annotation: str | None = None,
    transcripts: str = "canonical",
    biotype: str | None = "all",
    regions: Sequence[str] = (),
    strands: Sequence[str] = STRANDS,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    batch_size: int = DEFAULT_BATCH_SIZE,
    skip_n: int = DEFAULT_SKIP_N,
    device: str = "auto",
    threads: int | None = None,
    tf32: bool = False,
    engine: str = "local",
    ray_address: str | None = None,
    workers: int = 0,
    progress: Progress | None = None,
) -> PredictRun:
    """Predict splice-site tracks along ``fasta`` and write ``outputs``.

    SpliceAI's acceptor and donor probabilities, or for a Pangolin model
    (``pangolin``, a directory of its files, a converted checkpoint) each
    tissue's P(splice), the mean of its networks.  Only inside the genes of ``annotation`` (each on its own strand) when
    given, and only at ``regions`` (``CHR:BEG-END``, 1-based inclusive) when
    given; ``strands`` are those scored.  ``engine`` ``ray`` runs the network
    on Ray actors (``ray_address``, ``workers``, ``threads`` CPU threads
    each); their cluster is left when ``cleanup`` closes, so the caller
    decides when.  ``progress(total)`` opens a progress display for
    ``total`` positions (None if unknown) and gives its update function.

    Raises
    ------
    InputError, ModelError, ValueError
        Bad options or input, with a one-line message.
    OSError
        A file that cannot be read or written.
    """
    from spliceannot.engine._device import resolve_device, set_cpu_threads
    from spliceannot.engine.weights import load_model
    from spliceannot.readers.fasta_stream import fasta_contigs, fasta_lengths, has_index
    from spliceannot.trainers.predict import GenomePredictor
    from spliceannot.trainers.predict_genome import predict_genome
    from spliceannot.trainers.predict_layout import guessed_names, layout_of
    from spliceannot.trainers.predict_plan import (
        annotation_spans,
        check_regions,
        parse_regions,
        planned_positions,
        regions_by_contig,
    )
    from spliceannot.writers.tracks import require_pybigwig

    names = guessed_names(model)
    check_outputs(outputs, strands, names)
    if engine != "ray" and (ray_address or workers):
        raise InputError("--ray-address and --workers need --engine ray")
    resolve_device(device)
    if not Path(fasta).is_file():
        raise InputError(f"{fasta}: FASTA not found")
    contigs = fasta_contigs(fasta)
    wanted_regions = None
    if regions:
        wanted_regions = regions_by_contig(parse_regions(regions), contigs)
    genes = None
    if annotation:
        genes = annotation_spans(annotation, contigs, transcripts=transcripts, biotype=biotype)
    if outputs.bigwig:
        require_pybigwig()
    lengths = fasta_lengths(fasta) if outputs.bigwig or has_index(fasta) else None
    if wanted_regions is not None and lengths is not None:
        check_regions(wanted_regions, lengths)
    set_cpu_threads(threads)
    loaded = load_model(model)
    layout = layout_of(loaded)
    if layout.names != names:  # known only once loaded (a checkpoint without metadata)
        check_outputs(outputs, strands, layout.names)
    network = loaded
    if engine == "ray":
        from spliceannot.cluster.connection import RaySettings
        from spliceannot.cluster.predict_pool import RayNetwork

        cluster = RaySettings(address=ray_address, workers=workers, threads=threads or 1, device=device)
        network = RayNetwork(model, loaded.flank, cluster, tf32=tf32)
        cleanup.callback(network.close)  # Ray actors (and the local cluster they started)
    predictor = GenomePredictor(network, device=device, chunk_size=chunk_size, batch_size=batch_size,
                                skip_n=skip_n, tf32=tf32, layout=layout)  # fmt: skip
    total = planned_positions(contigs, lengths, strands, wanted_regions, genes)
    writers = open_writers(outputs, strands, lengths, loaded, layout)
    started = time.perf_counter()
    with progress(total) if progress else contextlib.nullcontext() as bar:
        summary = predict_genome(fasta, predictor, writers, strands=strands, regions=wanted_regions,
                                 genes=genes, progress=bar)  # fmt: skip
    return PredictRun(summary, started, getattr(network, "retried", 0))
