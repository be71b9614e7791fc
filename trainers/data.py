"""Splice-site training data from a genome FASTA and its gene models: ``create-data``.

The pieces, in the order ``create-data`` uses them:

1. :func:`~spliceannot.trainers.genes.load_genes`: transcripts from a
   GTF/GFF3 (the same reader and the same canonical-transcript rules as
   ``annotate``), matched to the FASTA's contigs and grouped into genes.
2. :func:`~spliceannot.trainers.splits.assign_splits`: every gene to
   ``train``, ``validation`` or ``test`` (by chromosome lists, SpliceAI's
   human split, or a seeded, length-balanced random split of chromosomes
   or genes); :mod:`spliceannot.trainers.paralogs` may drop train and
   validation genes that map to test genes.
3. :func:`~spliceannot.readers.fasta_stream.stream_fasta`: the genome read
   one contig at a time, so only one contig's sequence is ever in memory.
4. :func:`~spliceannot.trainers.gene_windows.gene_windows`: a gene's
   labelled windows (the layout of :mod:`spliceannot.trainers.layout`).
5. :func:`create_data` (here): all of the above, written to ``train.h5``,
   ``validation.h5`` and ``test.h5`` as the windows are produced, plus
   ``summary.tsv`` (and ``paralogs_removed.tsv``).

:func:`~spliceannot.trainers.gene_windows.iter_gene_windows` gives the
windows without writing anything.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from spliceannot.atomic import discard, publish, temporary_beside
from spliceannot.errors import InputError
from spliceannot.readers.fasta_stream import fasta_contigs
from spliceannot.trainers.gene_windows import FLANK_SEQUENCE_CHOICES, GeneWindows, produce_windows
from spliceannot.trainers.genes import Gene, load_genes
from spliceannot.trainers.layout import CLASSES, CONTEXT, FORMAT, POSITIONS, SPLITS, VERSION, WIDTH
from spliceannot.trainers.paralogs import PARALOG_COLUMNS, ParalogHit, ParalogScreen, require_mappy
from spliceannot.trainers.splits import SplitOptions, assign_splits

log = logging.getLogger(__name__)

SPLIT_FILES = {split: f"{split}.h5" for split in SPLITS}

SUMMARY_FILE = "summary.tsv"

PARALOG_FILE = "paralogs_removed.tsv"

NOTE_PARALOGS = "genes removed as paralogs of test genes"

SUMMARY_COLUMNS = (
    "split", "chromosomes", "genes", "transcripts",
    "acceptor_sites", "donor_sites", "windows", "chromosome_names",
)  # fmt: skip


@dataclass
class SplitStats:
    """What one split file holds."""

    chromosomes: list[str] = field(default_factory=list)
    genes: int = 0
    transcripts: int = 0
    acceptors: int = 0
    donors: int = 0
    windows: int = 0

    def add(self, windows: GeneWindows) -> None:
        if windows.chrom not in self.chromosomes:
            self.chromosomes.append(windows.chrom)
        self.genes += 1
        self.transcripts += windows.transcripts
        self.acceptors += windows.acceptors
        self.donors += windows.donors
        self.windows += len(windows.starts)


@dataclass
class Summary:
    """Counts of a ``create-data`` run.

    Attributes
    ----------
    splits
        Per split (``train``, ``validation``, ``test``) what was written.
    skipped
        Skipped or notable items by reason (transcripts, introns, genes).
    output_dir
        Where the files are.
    contigs
        The FASTA's contig order, in which the total row lists chromosomes.
    """

    splits: dict[str, SplitStats]
    skipped: dict[str, int]
    output_dir: Path | None = None
    contigs: list[str] = field(default_factory=list)  # FASTA order, for the total row

    @property
    def windows(self) -> int:
        return sum(stats.windows for stats in self.splits.values())

    def rows(self) -> list[list[str]]:
        """One row per split, then ``total``, in :data:`SUMMARY_COLUMNS` order."""
        rows = []
        total = SplitStats()
        for split in SPLITS:
            stats = self.splits[split]
            rows.append([split] + _numbers(stats) + [",".join(stats.chromosomes)])
            total.chromosomes += [c for c in stats.chromosomes if c not in total.chromosomes]
            for name in ("genes", "transcripts", "acceptors", "donors", "windows"):
                setattr(total, name, getattr(total, name) + getattr(stats, name))
        rank = {name: index for index, name in enumerate(self.contigs)}
        total.chromosomes.sort(key=lambda name: rank.get(name, len(rank)))
        rows.append(["total"] + _numbers(total) + [",".join(total.chromosomes)])
        return rows

    def tsv(self) -> str:
        """``summary.tsv``: the split table, a blank line, then ``skipped<TAB>count`` rows."""
        lines = ["\t".join(SUMMARY_COLUMNS)] + ["\t".join(row) for row in self.rows()]
        lines += ["", "skipped\tcount"]
        lines += [f"{reason}\t{count}" for reason, count in self.skipped.items()]
        return "\n".join(lines) + "\n"

    def table(self) -> str:
        """The same, aligned for a terminal."""
        rows = [list(SUMMARY_COLUMNS)] + self.rows()
        for row in rows[1:]:
            if len(row[-1]) > 40:
                row[-1] = row[-1][:37] + "..."
        widths = [max(len(row[i]) for row in rows) for i in range(len(SUMMARY_COLUMNS) - 1)]
        lines = []
        for row in rows:
            cells = [row[0].ljust(widths[0])]
            cells += [cell.rjust(width) for cell, width in zip(row[1:-1], widths[1:])]
            lines.append("  ".join(cells + [row[-1]]))
        lines += [f"skipped: {reason}: {count}" for reason, count in self.skipped.items()]
        return "\n".join(lines)


def _numbers(stats: SplitStats) -> list[str]:
    values = (len(stats.chromosomes), stats.genes, stats.transcripts, stats.acceptors,
              stats.donors, stats.windows)  # fmt: skip
    return [str(value) for value in values]


class SplitWriter:
    """One split's HDF5 file, appended to gene by gene (layout of ``trainers/layout.py``)."""

    def __init__(self, path: str | os.PathLike, split: str, attributes: dict) -> None:
        import h5py

        self.path = path
        self.rows = 0
        self._file = h5py.File(path, "w")
        attrs = self._file.attrs
        attrs["format"], attrs["version"], attrs["split"] = FORMAT, VERSION, split
        attrs["context"], attrs["positions"] = CONTEXT, POSITIONS
        attrs["classes"] = list(CLASSES)
        for key, value in attributes.items():
            attrs[key] = value
        packed = {"compression": "gzip", "compression_opts": 4, "shuffle": True}
        self._x = self._file.create_dataset(
            "x", (0, WIDTH, 4), maxshape=(None, WIDTH, 4), dtype="i1",
            chunks=(1, WIDTH, 4), **packed,
        )  # fmt: skip
        self._y = self._file.create_dataset(
            "y", (0, POSITIONS), maxshape=(None, POSITIONS), dtype="i1",
            chunks=(1, POSITIONS), **packed,
        )  # fmt: skip
        text = h5py.string_dtype("utf-8")
        self._columns = {
            name: self._file.create_dataset(
                name, (0,), maxshape=(None,), dtype=dtype, chunks=(4096,), **packed
            )
            for name, dtype in (("chrom", text), ("strand", text), ("gene", text), ("start", "i8"))
        }

    def append(self, windows: GeneWindows) -> None:
        """Add a gene's windows at the end."""
        first, count = self.rows, len(windows.starts)
        last = first + count
        for dataset in (self._x, self._y, *self._columns.values()):
            dataset.resize(last, axis=0)
        self._x[first:last] = windows.x
        self._y[first:last] = windows.y
        self._columns["chrom"][first:last] = [windows.chrom] * count
        self._columns["strand"][first:last] = [windows.strand] * count
        self._columns["gene"][first:last] = [windows.gene] * count
        self._columns["start"][first:last] = np.asarray(windows.starts, dtype=np.int64)
        self.rows = last

    def close(self) -> None:
        if self._file:
            self._file.attrs["windows"] = self.rows
            self._file.close()


def create_data(
    fasta: str | os.PathLike,
    annotation: str | os.PathLike,
    output_dir: str | os.PathLike,
    *,
    transcripts: str = "canonical",
    biotype: str | None = "protein_coding",
    canonical_introns: bool = False,
    flank_sequence: str = "n",
    split: str | None = None,
    test_chroms: Iterable[str] = (),
    val_chroms: Iterable[str] = (),
    split_by: str = "chromosome",
    test_fraction: float = 0.1,
    val_fraction: float = 0.1,
    seed: int = 42,
    remove_paralogs: bool = False,
    paralog_identity: float = 0.8,
    force: bool = False,
    progress: Callable[[int], None] | None = None,
) -> Summary:
    """Write ``train.h5``, ``validation.h5``, ``test.h5`` and ``summary.tsv`` to ``output_dir``.

    Parameters
    ----------
    fasta, annotation
        Genome FASTA (plain, gzip or bgzip) and GTF/GFF3 (plain or gzip).
    output_dir
        Created if missing.
    transcripts, biotype, canonical_introns, flank_sequence
        As for :func:`load_genes` and :func:`gene_windows`.
    split, test_chroms, val_chroms, split_by, test_fraction, val_fraction, seed
        As for :meth:`SplitOptions.resolve`.
    remove_paralogs
        Drop train/validation genes whose spliced sequence maps to a test
        gene's with identity >= ``paralog_identity`` over >= 50% of the
        query (needs mappy); they are listed in ``paralogs_removed.tsv``.
    force
        Overwrite existing output files.
    progress
        Called with 1 after each gene.

    Returns
    -------
    Summary

    Raises
    ------
    InputError
        If an input is unusable, nothing usable remains, or the outputs
        exist and ``force`` is false.  Nothing is left at the output paths
        by a failed or interrupted run (files are written beside them and
        renamed into place at the end).
    ValueError
        If options contradict each other.
    """
    options = SplitOptions.resolve(
        split, test_chroms=test_chroms, val_chroms=val_chroms, by=split_by,
        test_fraction=test_fraction, val_fraction=val_fraction, seed=seed,
    )  # fmt: skip
    if flank_sequence not in FLANK_SEQUENCE_CHOICES:
        raise ValueError(f"flank_sequence must be one of {FLANK_SEQUENCE_CHOICES}")
    if remove_paralogs:
        require_mappy()
    out = Path(output_dir)
    targets = _output_paths(out, remove_paralogs, force)
    counts: Counter = Counter()
    genes = load_genes(
        annotation, fasta_contigs(fasta), transcripts=transcripts, biotype=biotype, counts=counts
    )
    splits = assign_splits(genes, options)
    for name in SPLITS:
        if name not in splits:
            log.warning("the %s split has no genes; %s will hold 0 windows",
                        name, SPLIT_FILES[name])  # fmt: skip
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        reason = error.strerror or error
        raise InputError(f"{out}: cannot create the output directory: {reason}") from None
    screen = None
    if remove_paralogs:
        screen = ParalogScreen.build(fasta, genes, splits, paralog_identity, out)
        if screen is None:
            log.warning("--remove-paralogs: there are no test genes to compare with")
    provenance = _provenance(
        fasta, annotation, transcripts, biotype, canonical_introns,
        flank_sequence, options, remove_paralogs, paralog_identity,
    )  # fmt: skip
    summary = _write(
        genes, splits, fasta, targets, provenance, counts, screen, progress,
        canonical_introns=canonical_introns, flank_sequence=flank_sequence,
    )  # fmt: skip
    summary.output_dir = out
    return summary


def _output_paths(out: Path, remove_paralogs: bool, force: bool) -> dict[str, Path]:
    """Output files by key (split names, ``summary``, ``paralogs``); refuse to overwrite.

    An existing ``paralogs_removed.tsv`` counts as output even without
    ``remove_paralogs``: with ``force`` the run removes it, so that it never
    describes other data.
    """
    if out.exists() and not out.is_dir():
        raise InputError(f"{out}: exists and is not a directory")
    targets = {split: out / name for split, name in SPLIT_FILES.items()}
    targets["summary"] = out / SUMMARY_FILE
    if remove_paralogs:
        targets["paralogs"] = out / PARALOG_FILE
    existing = [path.name for path in [*targets.values(), out / PARALOG_FILE] if path.exists()]
    existing = list(dict.fromkeys(existing))
    if existing and not force:
        raise InputError(f"{out}: {', '.join(existing)} already exist; use --force to overwrite")
    return targets


def _provenance(fasta, annotation, transcripts, biotype, canonical_introns, flank_sequence,
                options: SplitOptions, remove_paralogs, paralog_identity) -> dict:  # fmt: skip
    from spliceannot import __version__

    return {
        "fasta": os.path.abspath(fasta),
        "annotation": os.path.abspath(annotation),
        "transcripts": transcripts,
        "biotype": biotype if biotype not in (None, "all") else "all",
        "canonical_introns": bool(canonical_introns),
        "flank_sequence": flank_sequence,
        "split_method": options.method,
        "split_by": options.by,
        "test_chroms": ",".join(options.test_chroms),
        "val_chroms": ",".join(options.val_chroms),
        "test_fraction": options.test_fraction,
        "val_fraction": options.val_fraction,
        "seed": options.seed,
        "remove_paralogs": bool(remove_paralogs),
        "paralog_identity": paralog_identity,
        "spliceannot_version": __version__,
    }


def _write(
    genes: list[Gene],
    splits: list[str],
    fasta,
    targets: dict[str, Path],
    provenance: dict,
    counts: Counter,
    screen: ParalogScreen | None,
    progress: Callable[[int], None] | None,
    *,
    canonical_introns: bool,
    flank_sequence: str,
) -> Summary:
    """Stream the windows into temporary files and publish them all at the end."""
    temporaries: dict[str, str] = {}
    writers: dict[str, SplitWriter] = {}
    stats = {split: SplitStats() for split in SPLITS}
    removed: list[ParalogHit] = []

    def keep(index: int, sequence: bytearray) -> bool:
        if progress is not None:
            progress(1)
        if screen is None or splits[index] == "test":
            return True
        hit = screen(splits[index], genes[index], sequence)
        if hit is not None:
            removed.append(hit)
        return hit is None

    try:
        for key, path in targets.items():
            temporaries[key] = temporary_beside(path)
        for split in SPLITS:
            writers[split] = SplitWriter(temporaries[split], split, provenance)
        produced = produce_windows(genes, fasta, canonical_introns=canonical_introns,
                            flank_sequence=flank_sequence, counts=counts, keep=keep)  # fmt: skip
        for index, windows in produced:
            writers[splits[index]].append(windows)
            stats[splits[index]].add(windows)
        if removed:
            counts[NOTE_PARALOGS] += len(removed)
        contigs = list(dict.fromkeys(gene.chrom for gene in genes))
        summary = Summary(stats, dict(counts), contigs=contigs)
        if summary.windows == 0:
            reasons = "; ".join(f"{reason}: {count}" for reason, count in counts.items())
            raise InputError(f"{fasta}: no gene could be cut into windows ({reasons})")
        for writer in writers.values():
            writer.close()
        Path(temporaries["summary"]).write_text(summary.tsv())
        if "paralogs" in temporaries:
            lines = ["\t".join(PARALOG_COLUMNS)] + [hit.line() for hit in removed]
            Path(temporaries["paralogs"]).write_text("\n".join(lines) + "\n")
        for key, temporary in temporaries.items():
            publish(temporary, targets[key])
    except OSError as error:
        _abandon(writers, temporaries)
        reason = error.strerror or error
        raise InputError(f"{targets['summary'].parent}: cannot write: {reason}") from None
    except BaseException:
        _abandon(writers, temporaries)
        raise
    stale = targets["summary"].with_name(PARALOG_FILE)
    if "paralogs" not in targets and stale.exists():
        stale.unlink()  # from an earlier run with --remove-paralogs; overwritten by --force
    return summary


def _abandon(writers: dict[str, SplitWriter], temporaries: dict[str, str]) -> None:
    for writer in writers.values():
        try:
            writer.close()
        except Exception:  # noqa: BLE001 - already failing; the file is discarded anyway
            pass
    for temporary in temporaries.values():
        discard(temporary)
