"""What the lookup shows of a transcript beyond its annotation row: ID, gene, MANE/canonical tags, CDS.

Annotation rows (:class:`~spliceannot.readers.transcript.Transcript`) hold
what scoring needs: gene name, strand, exons.  A GTF/GFF3 says more, and
this module reads it in its own pass over the file
(:func:`read_transcript_details`), then pairs each row with its
transcript by contig, strand and exons (:func:`attach_details`).  Rows from
a SpliceAI-style table (``grch37``, ``grch38``) have no details.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from spliceannot.lookup.hgvs import CodingTranscript
from spliceannot.readers.annotation import GTF_SUFFIXES
from spliceannot.readers.gff import attribute_splitter, read_features
from spliceannot.readers.transcript import Transcript

_PARTS = ("exon", "CDS", "stop_codon")
_KEYS = (
    "ID", "Parent", "transcript_id", "transcript_version", "version", "gene_id", "gene_name",
    "gene", "Name", "tag", "transcript_type", "transcript_biotype", "biotype",
)  # fmt: skip
_ID_PREFIXES = ("transcript:", "rna-", "rna:")
_VERSIONED = re.compile(r"(?P<accession>.+)\.(?P<version>\d+)")
MANE_SELECT_TAG = "mane_select"
MANE_CLINICAL_TAG = "mane_plus_clinical"
CANONICAL_TAGS = ("ensembl_canonical", "canonical", "refseq_select")


@dataclass(frozen=True)
class TranscriptDetails:
    """One transcript's identity and tags.

    ``accession`` has no version (``ENST00000302118``, ``NM_000249``);
    ``coding_start0``/``coding_end0``: 0-based half-open genomic extent of
    the coding sequence with its stop codon (None: non-coding).
    """

    accession: str
    version: str | None
    gene_name: str | None
    gene_id: str | None
    biotype: str | None
    tags: tuple[str, ...]
    coding_start0: int | None
    coding_end0: int | None

    @property
    def transcript_id(self) -> str:
        return f"{self.accession}.{self.version}" if self.version else self.accession

    @property
    def mane_select(self) -> bool:
        return MANE_SELECT_TAG in self.tags

    @property
    def canonical(self) -> bool:
        return any(tag in self.tags for tag in CANONICAL_TAGS)

    @property
    def priority(self) -> str:
        """SpliceAI-lookup's ``t_priority``: MS (MANE Select), MP (MANE Plus Clinical), C (canonical) or N."""
        if self.mane_select:
            return "MS"
        if MANE_CLINICAL_TAG in self.tags:
            return "MP"
        return "C" if self.canonical else "N"


@dataclass
class _Gathered:
    chrom: str
    strand: str
    order: int
    attributes: dict
    exons: set
    cds: list
    parent: str | None = None


def _normal_tag(tag: str) -> str:
    return tag.strip().replace(" ", "_").lower()


def _first(attributes: dict, *keys: str) -> str | None:
    for key in keys:
        for value in attributes.get(key, ()):
            if value:
                return value
    return None


def _merge(target: dict, attributes: dict) -> None:
    for key, values in attributes.items():
        target.setdefault(key, values)


def read_transcript_details(path: str) -> list[tuple[tuple, TranscriptDetails]]:
    """Every transcript with exons in a GTF/GFF3, as ``(row key, details)`` in file order.

    The row key is ``(chrom, strand, exon_starts, exon_ends)`` as an
    annotation row built from the same file has them.
    """
    fmt, dialect, lines = read_features(path)
    if fmt is None:
        return []
    split = attribute_splitter(dialect, keys=_KEYS)
    transcripts: dict[str, _Gathered] = {}
    others: dict[str, dict] = {}  # GFF3 ID (genes) / GTF gene_id -> attributes
    for order, (fields, (start, end)) in enumerate(lines):
        kind = fields[2]
        attributes = split(fields[8])
        if fmt == "gtf":
            if kind == "gene":
                others.setdefault(_first(attributes, "gene_id") or "", attributes)
                continue
            owners = [_first(attributes, "transcript_id")]
        elif kind in _PARTS:
            owners = [p for value in attributes.get("Parent", ()) for p in value.split(",") if p]
        else:
            identifier = _first(attributes, "ID")
            if identifier:
                others.setdefault(identifier, attributes)
            continue
        for owner in filter(None, owners):
            gathered = transcripts.get(owner)
            if gathered is None:
                gathered = transcripts[owner] = _Gathered(fields[0], fields[6], order, {}, set(), [])
            if kind == "exon":
                gathered.exons.add((start, end))
            elif kind in ("CDS", "stop_codon"):
                gathered.cds.append((start, end, kind))
            if fmt == "gtf" or kind == "exon":
                _merge(gathered.attributes, attributes)
    details = []
    for owner, gathered in transcripts.items():
        if not gathered.exons or gathered.strand not in ("+", "-"):
            continue
        attributes = dict(gathered.attributes)
        if fmt == "gff3":
            _merge(attributes, others.get(owner, {}))
            gathered.parent = _first(attributes, "Parent")
        gene = others.get(gathered.parent or _first(attributes, "gene_id") or "", {})
        exons = sorted(gathered.exons)
        key = (gathered.chrom, gathered.strand, tuple(s for s, _ in exons), tuple(e for _, e in exons))
        details.append((key, _details(owner, fmt, attributes, gene, gathered)))
    return details


def _details(owner: str, fmt: str, attributes: dict, gene: dict, gathered: _Gathered) -> TranscriptDetails:
    accession = _first(attributes, "transcript_id") or owner
    if fmt == "gff3" and not _first(attributes, "transcript_id"):
        for prefix in _ID_PREFIXES:
            accession = accession.removeprefix(prefix)
    version = _first(attributes, "transcript_version", "version")
    versioned = _VERSIONED.fullmatch(accession)
    if versioned:
        accession, version = versioned["accession"], versioned["version"]
    tags = tuple(dict.fromkeys(_normal_tag(t) for values in attributes.get("tag", ())
                               for t in values.split(",") if t))  # fmt: skip
    coding = None
    if gathered.cds:
        starts = [s for s, _, _ in gathered.cds]
        ends = [e for _, e, _ in gathered.cds]
        coding = (min(starts), max(ends))
        has_stop = any(kind == "stop_codon" for *_, kind in gathered.cds)
        if fmt == "gtf" and not has_stop:
            coding = None  # a GTF's CDS leaves the stop codon out; without its line the end is unknown
    gene_name = _first(gene, "gene_name", "Name", "gene") or _first(attributes, "gene_name", "gene")
    return TranscriptDetails(
        accession=accession,
        version=version,
        gene_name=gene_name,
        gene_id=_first(attributes, "gene_id") or (gathered.parent if fmt == "gff3" else None),
        biotype=_first(attributes, "transcript_type", "transcript_biotype", "biotype"),
        tags=tags,
        coding_start0=None if coding is None else coding[0],
        coding_end0=None if coding is None else coding[1],
    )


def attach_details(
    rows: Sequence[Transcript], details: Sequence[tuple[tuple, TranscriptDetails]]
) -> list[TranscriptDetails | None]:
    """Each row's details (None where no transcript of the file has its contig, strand and exons).

    Transcripts with the same exons are paired with their rows in file order.
    """
    by_key: dict[tuple, list[TranscriptDetails]] = {}
    for key, item in details:
        by_key.setdefault(key, []).append(item)
    taken: dict[tuple, int] = {}
    paired: list[TranscriptDetails | None] = []
    for row in rows:
        key = (row.chrom, row.strand, row.exon_starts, row.exon_ends)
        candidates = by_key.get(key, [])
        index = taken.get(key, 0)
        paired.append(candidates[index % len(candidates)] if candidates else None)
        taken[key] = index + 1
    return paired


def is_feature_file(annotation: str) -> bool:
    """Whether ``-A`` names a GTF/GFF3 (which has transcript details), not a table."""
    return annotation.lower().endswith(GTF_SUFFIXES)


def coding_model(row: Transcript, details: TranscriptDetails | None) -> CodingTranscript:
    """What HGVS ``c.`` placement needs of a row."""
    return CodingTranscript(
        chrom=row.chrom,
        strand=row.strand,
        exons=tuple(zip(row.exon_starts, row.exon_ends)),
        coding_start0=details.coding_start0 if details else None,
        coding_end0=details.coding_end0 if details else None,
    )


class TranscriptIndex:
    """The rows of one annotation with their details, found by accession (version optional)."""

    def __init__(self, rows: Sequence[Transcript], details: Sequence[TranscriptDetails | None]) -> None:
        self.rows = list(rows)
        self.details = list(details)
        self._by_accession: dict[str, list[int]] = {}
        for index, item in enumerate(self.details):
            if item is not None:
                self._by_accession.setdefault(item.accession.upper(), []).append(index)

    def find(self, accession: str, version: str | None) -> list[int]:
        """Row numbers of the transcript; with ``version``, only rows of that version."""
        rows = self._by_accession.get(accession.upper(), [])
        if version is None:
            return rows
        return [row for row in rows if self.details[row].version in (version, None)]

    def versions(self, accession: str) -> list[str]:
        return sorted({self.details[r].transcript_id for r in self._by_accession.get(accession.upper(), [])})
