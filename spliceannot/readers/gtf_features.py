"""One streaming pass over a GTF/GFF3: its gene, transcript, exon and CDS lines, gathered by key.

The lines and their attributes come from :mod:`spliceannot.readers.gff`;
only the attributes the rows need are split out and kept.  What is
gathered here becomes transcript rows in :mod:`spliceannot.readers.gtf_rows`.
"""

from __future__ import annotations

import sys
from array import array
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from spliceannot.errors import InputError
from spliceannot.readers.gff import STRAND_NAMES, attribute_splitter, read_features

# A gene's name (SpliceAI's SYMBOL) comes from these attributes of its gene
# line, else of its transcript line (where Name is the transcript's own name),
# else it is the gene_id attribute, else the gene's ID.
GENE_NAME_KEYS = ("gene_name", "Name", "gene")
TRANSCRIPT_GENE_NAME_KEYS = ("gene_name", "gene")
GENE_BIOTYPE_KEYS = ("gene_type", "gene_biotype")
TRANSCRIPT_BIOTYPE_KEYS = ("transcript_type", "transcript_biotype")

# Attributes kept from gene and transcript lines; the rest are dropped early.
_KEPT_ATTRIBUTES = frozenset(
    GENE_NAME_KEYS + GENE_BIOTYPE_KEYS + TRANSCRIPT_BIOTYPE_KEYS + ("gene_id", "biotype", "tag")
)
# Every attribute the reader looks at; the others are not even split out.
_READ_ATTRIBUTES = _KEPT_ATTRIBUTES | {"transcript_id", "ID", "Parent"}
_PARENT_KEYS = {"gtf": ("transcript_id",), "gff3": ("Parent",)}  # an exon's transcript(s)
# Feature types that never hold exons, CDS or transcripts: not parsed at all.
_UNUSED_TYPES = frozenset(
    {
        "UTR", "five_prime_UTR", "three_prime_UTR", "five_prime_utr", "three_prime_utr",
        "start_codon", "stop_codon", "stop_codon_redefined_as_selenocysteine",
        "Selenocysteine", "intron", "region", "chromosome", "biological_region",
    }
)  # fmt: skip

# Why lines or transcripts were left out (the keys of GeneModels.skipped).
SKIP_NO_TRANSCRIPT = "exons without a transcript"
SKIP_NO_EXONS = "transcripts without exons"
SKIP_EMPTY = "features with end < start"
SKIP_TRANS_SPLICED = "exons off their transcript's chromosome or strand"
SKIP_UNSTRANDED = "transcripts without a strand"

Key = tuple[str, str, str]  # (kind, scope, identifier); the identifier is the file's ID


@dataclass(slots=True)
class Feature:
    """A gene or transcript line, or a transcript implied by its first exon."""

    type: str
    chrom: str
    strand: str
    order: int
    attributes: dict[str, tuple[str, ...]]
    parent: Key | None


@dataclass
class Collector:
    """Everything one pass over the file gathers."""

    features: dict[Key, Feature] = field(default_factory=dict)
    implied: dict[Key, Feature] = field(default_factory=dict)
    # transcript -> flat (locus, 0-based start, half-open end) triples
    exons: dict[Key, array] = field(default_factory=dict)
    cds: dict[Key, array] = field(default_factory=dict)
    loci: dict[tuple[str, str], int] = field(default_factory=dict)  # (chrom, strand) -> locus
    chrom_rank: dict[str, int] = field(default_factory=dict)
    skipped: Counter = field(default_factory=Counter)


def collect_features(path: str) -> Collector:
    """Gather the gene, transcript, exon and CDS lines of the GTF/GFF3 at ``path`` in one pass.

    Raises
    ------
    InputError
        If the file holds no GTF/GFF3 features.
    """
    collector = Collector()
    fmt, dialect, lines = read_features(path, skip_types=_UNUSED_TYPES)
    if fmt is None:
        raise InputError(f"{path}: no GTF/GFF3 features found")
    # exon and CDS lines: only their parents' key is split out, unless they imply a transcript
    split_all = attribute_splitter(dialect, keys=_READ_ATTRIBUTES)
    split_parents = attribute_splitter(dialect, keys=_PARENT_KEYS[fmt])
    chroms: dict[str, str] = {}
    for order, (fields, (start, end)) in enumerate(lines):
        chrom, feature_type, strand = fields[0], fields[2], fields[6]
        if chrom not in collector.chrom_rank:
            collector.chrom_rank[chrom] = len(collector.chrom_rank)
            chroms[chrom] = chrom
        chrom, strand = chroms[chrom], STRAND_NAMES[strand]  # one string object each
        if end <= start:
            collector.skipped[SKIP_EMPTY] += 1
            continue
        if feature_type in ("exon", "CDS"):
            parents = _part_parents(fmt, chrom, split_parents(fields[8]))
            if not parents and feature_type == "exon":
                collector.skipped[SKIP_NO_TRANSCRIPT] += 1
            table = collector.exons if feature_type == "exon" else collector.cds
            locus = collector.loci.setdefault((chrom, strand), len(collector.loci))
            for key in parents:
                parts = table.get(key)
                if parts is None:
                    parts = table[key] = array("q")
                parts.extend((locus, start, end))
                if key not in collector.implied and key not in collector.features:
                    attributes = split_all(fields[8])
                    gene_key = _gtf_gene_key(chrom, attributes) if fmt == "gtf" else None
                    collector.implied[key] = Feature(
                        "transcript", chrom, strand, order, _kept(attributes), gene_key
                    )
            continue
        attributes = split_all(fields[8])
        key, parent = _feature_key(fmt, chrom, feature_type, attributes)
        if key is not None and key not in collector.features:
            collector.features[key] = Feature(
                feature_type, chrom, strand, order, _kept(attributes), parent
            )
    return collector


def split_values(attributes: Mapping[str, Sequence[str]], key: str) -> list[str]:
    """Non-empty values of ``key``, comma-separated lists split."""
    return [v for value in attributes.get(key, ()) for v in value.split(",") if v]


def first_value(attributes: Mapping[str, Sequence[str]], keys: tuple[str, ...]) -> str | None:
    """The first non-empty value of the first of ``keys`` that has one."""
    for key in keys:
        for value in attributes.get(key, ()):
            if value:
                return value
    return None


def _kept(attributes: dict[str, list[str]]) -> dict[str, tuple[str, ...]]:
    # interned: the same names, biotypes and tags recur on many lines
    return {
        sys.intern(key): tuple(sys.intern(value) for value in values)
        for key, values in attributes.items()
        if key in _KEPT_ATTRIBUTES
    }


def _gtf_gene_key(chrom: str, attributes: dict[str, list[str]]) -> Key | None:
    gene_id = first_value(attributes, ("gene_id",))
    return ("gene", chrom, gene_id) if gene_id else None


def _part_parents(fmt: str, chrom: str, attributes: dict[str, list[str]]) -> list[Key]:
    """Keys of the transcripts an exon or CDS line belongs to."""
    if fmt == "gtf":
        transcript_id = first_value(attributes, ("transcript_id",))
        return [("transcript", chrom, transcript_id)] if transcript_id else []
    return [("id", "", parent) for parent in dict.fromkeys(split_values(attributes, "Parent"))]


def _feature_key(
    fmt: str, chrom: str, feature_type: str, attributes: dict[str, list[str]]
) -> tuple[Key | None, Key | None]:
    """Key and parent key of a gene or transcript line (``None`` for other lines)."""
    if fmt == "gtf":
        if feature_type == "gene":
            return _gtf_gene_key(chrom, attributes), None
        transcript_id = first_value(attributes, ("transcript_id",))
        if not transcript_id or not is_transcript_type(feature_type):
            return None, None
        return ("transcript", chrom, transcript_id), _gtf_gene_key(chrom, attributes)
    identifier = first_value(attributes, ("ID",))
    if not identifier:
        return None, None
    parents = split_values(attributes, "Parent")
    return ("id", "", identifier), (("id", "", parents[0]) if parents else None)


def is_transcript_type(feature_type: str) -> bool:
    """Whether a feature of this type is a transcript (``transcript``, ``mRNA``, ``lnc_RNA``...)."""
    return feature_type == "transcript" or feature_type.endswith(("RNA", "_transcript"))
