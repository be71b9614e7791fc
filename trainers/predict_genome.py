"""``spliceannot predict``'s run: a FASTA streamed through a :class:`GenomePredictor` into track writers."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from spliceannot.readers.fasta_stream import stream_fasta
from spliceannot.trainers.intervals import Interval
from spliceannot.trainers.predict import GenomePredictor
from spliceannot.trainers.predict_plan import plan_contig
from spliceannot.writers.tracks import STRANDS, BedWriter, TrackWriter


@dataclass
class PredictSummary:
    """What a :func:`predict_genome` run did."""

    contigs: int = 0
    positions: dict[str, int] = field(default_factory=lambda: {s: 0 for s in STRANDS})
    skipped_n: int = 0
    sites: int | None = None
    outputs: list[Path] = field(default_factory=list)

    @property
    def predicted(self) -> int:
        return sum(self.positions.values())


def predict_genome(
    fasta: str | os.PathLike,
    predictor: GenomePredictor,
    writers: Sequence[TrackWriter],
    *,
    strands: Sequence[str] = STRANDS,
    regions: dict[str, list[tuple[int, int]]] | None = None,
    genes: dict[str, dict[str, list[Interval]]] | None = None,
    progress: Callable[[int], None] | None = None,
) -> PredictSummary:
    """Stream ``fasta`` through ``predictor`` into ``writers``, then publish their files.

    Parameters
    ----------
    fasta
        Plain, gzip or bgzip FASTA; read one contig at a time.
    predictor
        Chunked inference (its ``skip_n`` applies).
    writers
        Output formats; on any error (or interrupt) they are all discarded
        and nothing appears at their paths.
    strands
        Strands to score.
    regions
        contig -> region list (:func:`~spliceannot.trainers.predict_plan.regions_by_contig`): only these positions.
    genes
        contig -> strand -> spans (:func:`~spliceannot.trainers.predict_plan.gene_spans`): only positions inside
        genes, on the gene's strand.
    progress
        Called with the number of bases (per strand) done.

    Returns
    -------
    PredictSummary
    """
    wanted = None
    if regions is not None:
        wanted = set(regions)
    if genes is not None:
        wanted = set(genes) if wanted is None else wanted & set(genes)
    summary = PredictSummary()
    work = _genome_batches(fasta, predictor, wanted, strands, regions, genes)
    try:
        for step, probs in predictor.map_batches(work):
            _apply(step, probs, predictor, writers, summary, progress)
        for writer in writers:
            writer.close()
        for writer in writers:
            summary.outputs.extend(writer.paths)
            writer.publish()
    except BaseException:
        work.close()
        for writer in writers:
            writer.abort()
        raise
    for writer in writers:
        if isinstance(writer, BedWriter):
            summary.sites = writer.count
    return summary


def _genome_batches(
    fasta: str | os.PathLike,
    predictor: GenomePredictor,
    wanted: set[str] | None,
    strands: Sequence[str],
    regions: dict[str, list[tuple[int, int]]] | None,
    genes: dict[str, dict[str, list[Interval]]] | None,
) -> Iterator[tuple[tuple, np.ndarray | None]]:
    """The work of a genome, in output order: ``(("begin", plan), None)``, then
    ``(("batch", contig, strand, chunks), codes)`` per forward pass, then ``(("end", plan), None)``
    for each contig.  One contig's sequence is held at a time (while its batches are made)."""
    done: set[str] = set()
    for contig, sequence in stream_fasta(fasta, wanted=wanted):
        if contig in done:
            continue  # a repeated name: the first record counts
        done.add(contig)
        plan = plan_contig(
            contig, sequence, strands=strands,
            regions=None if regions is None else regions[contig],
            genes=None if genes is None else genes[contig], skip_n=predictor.skip_n,
        )  # fmt: skip
        yield ("begin", plan), None
        for strand, intervals in plan.intervals.items():
            for chunks, codes in predictor.batches(sequence, intervals, strand):
                yield ("batch", contig, strand, chunks), codes
        del sequence  # before the next contig is read
        yield ("end", plan), None


def _apply(
    step: tuple,
    probs: np.ndarray | None,
    predictor: GenomePredictor,
    writers: Sequence[TrackWriter],
    summary: PredictSummary,
    progress: Callable[[int], None] | None,
) -> None:
    """Hand one step of :func:`_genome_batches`, with its probabilities, to the writers."""
    if step[0] == "begin":
        plan = step[1]
        summary.contigs += 1
        summary.skipped_n += plan.skipped
        for writer in writers:
            writer.begin_contig(plan.contig, plan.length)
    elif step[0] == "batch":
        _, contig, strand, chunks = step
        for block in predictor.blocks_of(contig, chunks, strand, probs):
            for writer in writers:
                writer.write(block)
            summary.positions[strand] += len(block.probs)
            if progress is not None:
                progress(len(block.probs))
    else:
        plan = step[1]
        if progress is not None and plan.skipped:
            progress(plan.skipped)
        for writer in writers:
            writer.end_contig(plan.contig)
