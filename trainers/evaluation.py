"""``evaluate``: top-k accuracy and PR-AUC of models on create-data windows or on a genome's genes."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from spliceannot.trainers.layout import SpliceData
from spliceannot.trainers.lifecycle import LifecycleError, device_name, load, open_data
from spliceannot.trainers.tables import format_table, write_tsv


@dataclass
class Evaluation:
    """One row per model: ``model``, ``members``, ``flank``, ``windows``, site counts, then the metrics."""

    rows: list[dict]

    @property
    def columns(self) -> list[str]:
        return list(self.rows[0])

    def table(self) -> str:
        """The rows as aligned text."""
        return format_table(self.rows, self.columns)

    def write_tsv(self, path: str | os.PathLike) -> None:
        """The rows as TSV at ``path``."""
        write_tsv(path, self.rows, self.columns)


def genome_windows(
    fasta: str | os.PathLike,
    annotation: str | os.PathLike,
    *,
    transcripts: str = "canonical",
    biotype: str | None = "protein_coding",
    chromosomes: Sequence[str] | None = None,
) -> tuple[tempfile.TemporaryDirectory, SpliceData]:
    """Windows of the genes of ``annotation`` in a temporary HDF5 file (one split).

    Returns the temporary directory (the caller cleans it up) and the data.
    ``biotype`` ``all`` or None keeps every gene; ``chromosomes`` None every contig.
    """
    from spliceannot.errors import InputError
    from spliceannot.trainers.data import SplitWriter
    from spliceannot.trainers.gene_windows import iter_gene_windows

    temporary = tempfile.TemporaryDirectory(prefix="spliceannot-evaluate-")
    path = Path(temporary.name) / "windows.h5"
    try:
        windows = iter_gene_windows(
            fasta, annotation, transcripts=transcripts,
            biotype=None if biotype == "all" else biotype, chromosomes=chromosomes,
        )  # fmt: skip
        writer = SplitWriter(path, "evaluate", {"fasta": str(fasta), "annotation": str(annotation)})
        try:
            for gene in windows:
                writer.append(gene)
        finally:
            writer.close()
        return temporary, SpliceData(path)
    except (InputError, ValueError, OSError) as error:
        temporary.cleanup()
        raise LifecycleError(str(error)) from None


def evaluate_models(
    models: Sequence[str],
    *,
    data_path: str | None = None,
    fasta: str | None = None,
    annotation: str | None = None,
    transcripts: str = "canonical",
    biotype: str | None = "protein_coding",
    chromosomes: Sequence[str] | None = None,
    max_windows: int | None = None,
    batch_size: int = 8,
    device: str = "auto",
) -> Evaluation:
    """Top-k accuracy (k = 0.5, 1, 2, 4 x sites) and PR-AUC of every model, acceptor and donor.

    On the windows of ``data_path`` (a create-data file), or of the genes of
    ``annotation`` cut from ``fasta`` (see :func:`genome_windows`); only the
    first ``max_windows`` when given.
    """
    from spliceannot.trainers.training import evaluate_data

    if bool(data_path) == bool(fasta or annotation):
        raise LifecycleError("give either --data or both --fasta and --annotation")
    if not data_path and not (fasta and annotation):
        raise LifecycleError("--fasta and --annotation go together")
    device = device_name(device)
    loaded = [(spec, load(spec)) for spec in models]
    temporary = None
    try:
        if data_path:
            data = open_data(data_path)
        else:
            temporary, data = genome_windows(
                fasta, annotation, transcripts=transcripts, biotype=biotype, chromosomes=chromosomes
            )
        windows = range(min(len(data), max_windows or len(data)))
        if not len(windows):
            raise LifecycleError(f"{data_path or annotation}: no windows to evaluate")
        rows = []
        for spec, model in loaded:
            metrics = evaluate_data(model.ensemble, data, windows=windows, batch_size=batch_size, device=device)
            row = {"model": spec, "members": len(model.ensemble.members), "flank": model.flank, "windows": len(windows)}
            for site in ("acceptor", "donor"):
                row[f"{site}_sites"] = metrics.sites[site]
            row.update(metrics.flat())
            rows.append(row)
    finally:
        if temporary is not None:
            temporary.cleanup()
    return Evaluation(rows)
