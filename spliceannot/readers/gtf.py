"""GTF/GFF3 gene models turned into SpliceAI-style transcript rows.

The feature lines and their attributes come from
:mod:`spliceannot.readers.gff`; the gene -> transcript -> exon hierarchy is
assembled here in one streaming pass over the file, with no database.

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
import sys
from array import array
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from spliceannot.errors import InputError
from spliceannot.readers.gene_table_cache import cached_gene_models
from spliceannot.readers.gff import STRAND_NAMES, attribute_splitter, read_features
from spliceannot.readers.transcript import GeneModels, Transcript

log = logging.getLogger(__name__)

TRANSCRIPT_CHOICES = ("canonical", "all")

# Tag values (lower case, spaces as underscores) that mark a gene's canonical
# transcript, with their priority.  RefSeq spells MANE_Select "MANE Select".
CANONICAL_TAGS = {"ensembl_canonical": 2, "mane_select": 1}

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

SKIP_NO_TRANSCRIPT = "exons without a transcript"
SKIP_NO_EXONS = "transcripts without exons"
SKIP_EMPTY = "features with end < start"
SKIP_TRANS_SPLICED = "exons off their transcript's chromosome or strand"
SKIP_UNSTRANDED = "transcripts without a strand"

_Key = tuple[str, str, str]  # (kind, scope, identifier); the identifier is the file's ID


@dataclass(slots=True)
class _Feature:
    """A gene or transcript line, or a transcript implied by its first exon."""

    type: str
    chrom: str
    strand: str
    order: int
    attributes: dict[str, tuple[str, ...]]
    parent: _Key | None


@dataclass
class _Collector:
    """Everything one pass over the file gathers."""

    features: dict[_Key, _Feature] = field(default_factory=dict)
    implied: dict[_Key, _Feature] = field(default_factory=dict)
    # transcript -> flat (locus, 0-based start, half-open end) triples
    exons: dict[_Key, array] = field(default_factory=dict)
    cds: dict[_Key, array] = field(default_factory=dict)
    loci: dict[tuple[str, str], int] = field(default_factory=dict)  # (chrom, strand) -> locus
    chrom_rank: dict[str, int] = field(default_factory=dict)
    skipped: Counter = field(default_factory=Counter)


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
    models, usable = _build(_collect(path), transcripts=transcripts, biotype=biotype)
    if not usable:
        reasons = ", ".join(f"{reason} ({count})" for reason, count in models.skipped.items())
        raise InputError(
            f"{path}: no transcripts with exons found; a GTF/GFF3 needs exon lines"
            + (f" (skipped {reasons})" if reasons else "")
        )
    return models


def _collect(path: str) -> _Collector:
    collector = _Collector()
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
                    collector.implied[key] = _Feature(
                        "transcript", chrom, strand, order, _kept(attributes), gene_key
                    )
            continue
        attributes = split_all(fields[8])
        key, parent = _feature_key(fmt, chrom, feature_type, attributes)
        if key is not None and key not in collector.features:
            collector.features[key] = _Feature(
                feature_type, chrom, strand, order, _kept(attributes), parent
            )
    return collector


def _values(attributes: Mapping[str, Sequence[str]], key: str) -> list[str]:
    """Non-empty values of ``key``, comma-separated lists split."""
    return [v for value in attributes.get(key, ()) for v in value.split(",") if v]


def _first(attributes: Mapping[str, Sequence[str]], keys: tuple[str, ...]) -> str | None:
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


def _gtf_gene_key(chrom: str, attributes: dict[str, list[str]]) -> _Key | None:
    gene_id = _first(attributes, ("gene_id",))
    return ("gene", chrom, gene_id) if gene_id else None


def _part_parents(fmt: str, chrom: str, attributes: dict[str, list[str]]) -> list[_Key]:
    """Keys of the transcripts an exon or CDS line belongs to."""
    if fmt == "gtf":
        transcript_id = _first(attributes, ("transcript_id",))
        return [("transcript", chrom, transcript_id)] if transcript_id else []
    return [("id", "", parent) for parent in dict.fromkeys(_values(attributes, "Parent"))]


def _feature_key(
    fmt: str, chrom: str, feature_type: str, attributes: dict[str, list[str]]
) -> tuple[_Key | None, _Key | None]:
    """Key and parent key of a gene or transcript line (``None`` for other lines)."""
    if fmt == "gtf":
        if feature_type == "gene":
            return _gtf_gene_key(chrom, attributes), None
        transcript_id = _first(attributes, ("transcript_id",))
        if not transcript_id or not _is_transcript_type(feature_type):
            return None, None
        return ("transcript", chrom, transcript_id), _gtf_gene_key(chrom, attributes)
    identifier = _first(attributes, ("ID",))
    if not identifier:
        return None, None
    parents = _values(attributes, "Parent")
    return ("id", "", identifier), (("id", "", parents[0]) if parents else None)


def _is_transcript_type(feature_type: str) -> bool:
    return feature_type == "transcript" or feature_type.endswith(("RNA", "_transcript"))


def _build(
    collector: _Collector, *, transcripts: str, biotype: str | None
) -> tuple[GeneModels, int]:
    """The rows, and how many transcripts with exons there were before the biotype filter."""
    features, skipped = collector.features, collector.skipped
    usable = 0
    # gene key -> [(preference, file order, row)]
    by_gene: dict[_Key, list[tuple[tuple[int, ...], int, Transcript]]] = {}
    for key, parts in collector.exons.items():
        transcript = features.get(key) or collector.implied[key]
        if transcript.strand not in ("+", "-"):
            skipped[SKIP_UNSTRANDED] += 1
            continue
        exons = _parts_on(transcript, parts, collector.loci, skipped)
        if not exons:
            skipped[SKIP_NO_EXONS] += 1
            continue
        usable += 1
        gene_key, gene = _gene_of(key, transcript, features)
        if biotype is not None and not _biotype_matches(biotype, transcript, gene):
            continue
        row = Transcript(
            name=_gene_name(gene_key, gene, transcript),
            chrom=transcript.chrom,
            strand=transcript.strand,
            tx_start=exons[0][0],
            tx_end=max(end for _, end in exons),
            exon_starts=tuple(start for start, _ in exons),
            exon_ends=tuple(end for _, end in exons),
        )
        cds = _parts_on(transcript, collector.cds.get(key, ()), collector.loci, None)
        preference = (
            _tag_rank(transcript),
            sum(end - start for start, end in cds),
            sum(end - start for start, end in exons),
            row.tx_end - row.tx_start,
            -transcript.order,
        )
        by_gene.setdefault(gene_key, []).append((preference, transcript.order, row))
    without_exons = {key for key in collector.cds if key not in collector.exons}
    without_exons.update(
        key
        for key, feature in features.items()
        if key not in collector.exons and _is_transcript_type(feature.type)
    )
    skipped[SKIP_NO_EXONS] += len(without_exons)

    if transcripts == "canonical":
        chosen = [max(rows, key=lambda item: item[0]) for rows in by_gene.values()]
    else:
        chosen = [item for rows in by_gene.values() for item in rows]
    chosen.sort(key=lambda item: item[1])  # file order breaks the ties of the sort below
    rank = collector.chrom_rank
    rows = sorted((row for *_, row in chosen), key=lambda t: (rank[t.chrom], t.tx_start, t.name))
    models = GeneModels(
        transcripts=rows,
        genes=len(by_gene),
        candidates=sum(len(rows) for rows in by_gene.values()),
        skipped={reason: count for reason, count in skipped.items() if count},
    )
    return models, usable


def _parts_on(
    transcript: _Feature,
    parts: Sequence[int],
    loci: dict[tuple[str, str], int],
    skipped: Counter | None,
) -> list[tuple[int, int]]:
    """Distinct sorted ``(start, end)`` of the parts on the transcript's chromosome and strand.

    ``parts`` holds flat ``(locus, start, end)`` triples.  Parts elsewhere
    (trans-splicing) are left out and, if ``skipped`` is given, counted there.
    """
    home = loci.get((transcript.chrom, transcript.strand))
    kept = set()
    for i in range(0, len(parts), 3):
        if parts[i] == home:
            kept.add((parts[i + 1], parts[i + 2]))
        elif skipped is not None:
            skipped[SKIP_TRANS_SPLICED] += 1
    return sorted(kept)


def _gene_of(
    key: _Key, transcript: _Feature, features: dict[_Key, _Feature]
) -> tuple[_Key, _Feature | None]:
    """The top of the transcript's ``Parent`` chain: its key and line.

    The line is the transcript itself when it has no parent, and ``None``
    when the top parent is named but has no line in the file.
    """
    seen = {key}
    current_key, current = key, transcript
    while current is not None and current.parent is not None and current.parent not in seen:
        seen.add(current.parent)
        current_key, current = current.parent, features.get(current.parent)
    return current_key, current


def _gene_name(gene_key: _Key, gene: _Feature | None, transcript: _Feature) -> str:
    """The gene's name, else its gene_id, else its ID (SpliceAI's SYMBOL)."""
    name = None
    if gene is not None and not _is_transcript_type(gene.type):
        name = _first(gene.attributes, GENE_NAME_KEYS)
    return (
        name
        or _first(transcript.attributes, TRANSCRIPT_GENE_NAME_KEYS)
        or _first((gene or transcript).attributes, ("gene_id",))
        or gene_key[2]
    )


def _biotype_matches(biotype: str, transcript: _Feature, gene: _Feature | None) -> bool:
    """Whether the transcript has biotype attributes and all of them equal ``biotype``."""
    gene_keys = GENE_BIOTYPE_KEYS if gene is None else GENE_BIOTYPE_KEYS + ("biotype",)
    found = [value for k in gene_keys for value in _values((gene or transcript).attributes, k)]
    found += [
        value
        for k in TRANSCRIPT_BIOTYPE_KEYS + ("biotype",)
        for value in _values(transcript.attributes, k)
    ]
    return bool(found) and all(value == biotype for value in found)


def _tag_rank(transcript: _Feature) -> int:
    tags = (tag.replace(" ", "_").lower() for tag in _values(transcript.attributes, "tag"))
    return max((CANONICAL_TAGS.get(tag, 0) for tag in tags), default=0)
