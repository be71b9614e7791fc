"""The genes a variant is scored against, as Pangolin finds them.

Pangolin asks a gffutils database for ``gene`` features overlapping
``POS - 1`` and keeps those with ``start <= POS <= end``: a gene must start
before ``POS`` (one that starts at ``POS`` is not found) and end at or after
it.  A gene is its ``gene_id``; its positions are ``start, end`` (1-based)
of every ``exon`` below it, in the database's order, repeated exons
included.  Genes on ``+`` and ``-`` are scored separately.

Two sources give the same shape: :class:`FeatureDbGenes` (Pangolin's own
``.db`` files, made by its ``create_db.py``) and :class:`AnnotationGenes`
(our annotations: a SpliceAI table, GTF or GFF3; each transcript row is a
gene named by its row name).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from spliceannot.errors import InputError
from spliceannot.readers.annotation import Annotation


@dataclass(frozen=True)
class Genes:
    """Genes containing a variant: ``gene -> exon start/end positions`` per strand, in Pangolin's order."""

    plus: dict[str, list[int]]
    minus: dict[str, list[int]]

    def __bool__(self) -> bool:
        return bool(self.plus or self.minus)

    def key(self) -> str:
        """Identifies these genes and their exons (part of a score cache key)."""
        return repr((sorted(self.plus.items()), sorted(self.minus.items())))


class FeatureDbGenes:
    """Genes from a gffutils database (Pangolin's ``create_db.py`` output)."""

    def __init__(self, path: str | Path) -> None:
        import gffutils

        self.path = str(path)
        if not Path(path).is_file():
            raise InputError(f"{path}: annotation database not found")
        try:
            self._db = gffutils.FeatureDB(self.path)
            self._db.execute("SELECT count(*) FROM features").fetchone()
        except (sqlite3.DatabaseError, ValueError, TypeError) as error:
            raise InputError(f"{path}: not a gffutils database (make one with Pangolin's create_db.py): {error}") from None
        self.source = self.path

    def genes(self, contig: str, pos: int) -> Genes:
        plus: dict[str, list[int]] = {}
        minus: dict[str, list[int]] = {}
        try:
            found = list(self._db.region((contig, pos - 1, pos - 1), featuretype="gene"))
        except sqlite3.DatabaseError as error:
            raise InputError(f"{self.path}: cannot read the gffutils database: {error}") from None
        for gene in found:
            if gene.start > pos or gene.end < pos:
                continue
            exons: list[int] = []
            for exon in self._db.children(gene, featuretype="exon"):
                exons.extend([exon.start, exon.end])
            side = plus if gene.strand == "+" else minus if gene.strand == "-" else None
            if side is not None:
                side[gene["gene_id"][0]] = exons
        return Genes(plus, minus)

    def digest(self) -> str:
        from spliceannot.engine.files import file_digest

        return file_digest([Path(self.path)])


class AnnotationGenes:
    """Genes from one of our annotations: each transcript row is a gene named by its row name.

    Pangolin's containment rule applies (the row's first base before ``POS``);
    a row's positions are its exon starts (1-based) and ends.
    """

    def __init__(self, annotation: Annotation) -> None:
        self.annotation = annotation
        self.source = annotation.source

    def genes(self, contig: str, pos: int) -> Genes:
        plus: dict[str, list[int]] = {}
        minus: dict[str, list[int]] = {}
        for row in self.annotation.overlapping(contig, pos):
            transcript = self.annotation.transcripts[row]
            if transcript.tx_start + 1 > pos - 1:
                continue
            exons: list[int] = []
            for start, end in zip(transcript.exon_starts, transcript.exon_ends):
                exons.extend([start + 1, end])
            side = plus if transcript.strand == "+" else minus if transcript.strand == "-" else None
            if side is not None:
                side[transcript.name] = exons
        return Genes(plus, minus)

    def digest(self) -> str:
        return self.annotation.digest()


def open_genes(spec: str, annotation: Annotation | None = None, *, transcripts: str = "canonical"):
    """The gene source ``-A`` names: a gffutils ``.db`` file, else one of our annotations."""
    if annotation is None and is_feature_db(spec):
        return FeatureDbGenes(spec)
    if annotation is None:
        from spliceannot.readers.annotation import load_annotation

        annotation = load_annotation(spec, transcripts=transcripts)
    return AnnotationGenes(annotation)


def is_feature_db(spec: str) -> bool:
    """Whether ``spec`` is an SQLite file (what gffutils databases are)."""
    try:
        with open(spec, "rb") as handle:
            return handle.read(16) == b"SQLite format 3\x00"
    except OSError:
        return False
