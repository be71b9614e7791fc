"""GTF/GFF3 gene models turned into SpliceAI-style transcript rows.

The feature lines and their attributes come from
:mod:`spliceannot.readers.gff`; the gene -> transcript -> exon hierarchy is
assembled in one streaming pass over the file, with no database
(:mod:`spliceannot.readers.gtf_features`), and turned into rows
(:mod:`spliceannot.readers.gtf_rows`).

Hierarchy
---------
- GTF: exons and CDS belong to their ``transcript_id``, transcripts to their
  ``gene_id``.  ``gene`` and ``transcript`` lines are optional (UCSC and
  RefSeq GTFs have exon lines only).  IDs are scoped by chromosome, so the
  same ID on two chromosomes (GRCh37 PAR genes on chrX and chrY, UCSC alt
  haplotypes) gives two transcripts.  In UCSC's refGene GTF ``gene_id`` is
  the transcript accession, so every accession is its own "gene" there.
- GFF3: any feature that is the ``Parent`` of an exon is a transcript
  (``mRNA``, ``transcript``, ``ncRNA``, ``lnc_RNA``, ... or even a ``gene``);
  its gene is the top of its ``Parent`` chain.  A ``Parent`` that names no
  feature in the file is taken as a transcript known only by its exons.

Rows follow SpliceAI's ``grch38.txt``: ``name`` is the gene name, the
transcript spans its exons, and all coordinates are 0-based half-open.
"""

from __future__ import annotations

import logging
import os

from spliceannot.errors import InputError
from spliceannot.readers.gene_table_cache import cached_gene_models
from spliceannot.readers.gtf_features import collect_features
from spliceannot.readers.gtf_rows import build_gene_models
from spliceannot.readers.transcript import GeneModels, Transcript

log = logging.getLogger(__name__)

TRANSCRIPT_CHOICES = ("canonical", "all")


def read_gtf_transcripts(
    path: str | os.PathLike, *, transcripts: str = "canonical", biotype: str | None = None
) -> list[Transcript]:
    """Read transcript rows from a GTF/GFF3 file (plain or gzip).

    Parameters
    ----------
    path
        The GTF or GFF3 file; the format is detected from its attributes.
    transcripts
        ``canonical``: one row per gene, the transcript tagged
        ``Ensembl_canonical`` (else ``MANE_Select``), else the longest CDS,
        else the most exonic bases, else the longest genomic span, else the
        first in the file.  ``all``: every transcript.
    biotype
        Keep only transcripts whose every biotype attribute
        (``gene_type``/``gene_biotype``/``biotype`` of the gene,
        ``transcript_type``/``transcript_biotype``/``biotype`` of the
        transcript) equals this; transcripts with none are dropped.  ``None``
        keeps all.

    Raises
    ------
    InputError
        If the file cannot be read or is not a GTF/GFF3; the message names
        the file and, where known, the line.
    """
    return read_gene_models(path, transcripts=transcripts, biotype=biotype).transcripts


def read_gene_models(
    path: str | os.PathLike,
    *,
    transcripts: str = "canonical",
    biotype: str | None = None,
    cache_dir: str | os.PathLike | None = None,
) -> GeneModels:
    """Like :func:`read_gtf_transcripts`, with gene and skip counts.

    With ``cache_dir``, the result is kept there as a derived table keyed by
    the file's content and the options (see
    :mod:`spliceannot.readers.gene_table_cache`), and read from there when
    the same file is read again with the same options.

    Raises
    ------
    InputError
        Also if the file holds no transcript with exons at all (whatever
        ``biotype`` is); a ``biotype`` that no transcript has gives no rows.
    """
    if transcripts not in TRANSCRIPT_CHOICES:
        raise ValueError(f"transcripts must be one of {TRANSCRIPT_CHOICES}, not {transcripts!r}")
    path = os.fspath(path)
    if cache_dir is not None:

        def parse() -> GeneModels:
            return _parse_gene_models(path, transcripts=transcripts, biotype=biotype)

        models = cached_gene_models(
            path, parse, cache_dir, transcripts=transcripts, biotype=biotype
        )
    else:
        models = _parse_gene_models(path, transcripts=transcripts, biotype=biotype)
    if models.skipped:
        counts = ", ".join(f"{reason} ({count})" for reason, count in models.skipped.items())
        log.warning("%s: skipped %s", path, counts)
    return models


def _parse_gene_models(path: str, *, transcripts: str, biotype: str | None) -> GeneModels:
    models, usable = build_gene_models(
        collect_features(path), transcripts=transcripts, biotype=biotype
    )
    if not usable:
        reasons = ", ".join(f"{reason} ({count})" for reason, count in models.skipped.items())
        raise InputError(
            f"{path}: no transcripts with exons found; a GTF/GFF3 needs exon lines"
            + (f" (skipped {reasons})" if reasons else "")
        )
    return models
