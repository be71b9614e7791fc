"""HGVS ``c.`` notation against a loaded transcript -> a VCF-style variant (pure but for the genome read).

Supported: substitutions (``c.123+1G>A``), deletions (``c.10del``,
``c.10_12delCTG``), duplications (``c.10dup``, ``c.10_12dup``), insertions
(``c.10_11insAT``) and deletion-insertions (``c.10_12delinsAT``), at coding
positions (``c.123``), in the 5' UTR (``c.-15``), in the 3' UTR (``c.*20``)
and in introns (``c.123+1``, ``c.124-2``, ``c.-15+3``, ``c.*5-1``), on
either strand.  The transcript's version may be left out.

Numbering follows HGVS: ``c.1`` is the A of the start codon, there is no
``c.0``, ``c.-1`` is the base before it, ``c.*1`` the base after the stop
codon; an intronic offset counts from the nearest exonic base named.
Positions past the transcript's ends are extrapolated along the genome.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

HGVS_RE = re.compile(
    r"(?P<accession>[A-Za-z][A-Za-z0-9_]*?)(?:\.(?P<version>\d+))?"
    r"(?:\((?P<gene>[A-Za-z0-9_.-]+)\))?:c\.(?P<change>.+)"
)
_POSITION = r"[-*]?\d+(?:[+-]\d+)?"
_CHANGE_RE = re.compile(
    rf"(?P<first>{_POSITION})(?:_(?P<last>{_POSITION}))?"
    r"(?:(?P<ref>[ACGT]+)>(?P<alt>[ACGT]+)|(?P<kind>delins|del|dup|ins)(?P<bases>[ACGT]*))"
)
_POSITION_RE = re.compile(r"(?P<anchor>[-*]?\d+)(?P<offset>[+-]\d+)?")
_COMPLEMENT = str.maketrans("ACGTN", "TGCAN")


class HgvsError(ValueError):
    """An HGVS text that cannot be read or placed; the text says why, in one line."""


@dataclass(frozen=True)
class CodingTranscript:
    """What placing ``c.`` positions needs of a transcript.

    ``exons`` are 0-based half-open ``(start, end)`` in genome order;
    ``coding_start0``/``coding_end0`` the 0-based half-open genomic extent of
    the coding sequence, start and stop codons included (None: non-coding).
    """

    chrom: str
    strand: str
    exons: tuple[tuple[int, int], ...]
    coding_start0: int | None
    coding_end0: int | None


@dataclass(frozen=True)
class HgvsVariant:
    """A parsed ``ACCESSION[.VERSION]:c.CHANGE``."""

    accession: str
    version: str | None
    change: str


@dataclass(frozen=True)
class GenomicVariant:
    """A variant as a VCF writes it: 1-based ``pos1`` of REF's first base, bases on the + strand."""

    chrom: str
    pos1: int
    ref: str
    alt: str


def reverse_complement(bases: str) -> str:
    return bases.translate(_COMPLEMENT)[::-1]


def parse_hgvs(text: str) -> HgvsVariant:
    """Split ``NM_000249.4:c.116G>A`` (or ``NM_000249.4(MLH1):c.116G>A``) into its parts."""
    match = HGVS_RE.fullmatch(text.strip())
    if match is None:
        raise HgvsError(f"not HGVS c. notation (TRANSCRIPT:c.CHANGE): {text!r}")
    return HgvsVariant(match["accession"], match["version"], match["change"])


def _transcript_order(model: CodingTranscript) -> list[tuple[int, int]]:
    return list(model.exons if model.strand == "+" else reversed(model.exons))


def _to_genome(model: CodingTranscript, offset0: int) -> int:
    """The 0-based genomic position of 0-based transcript offset ``offset0`` (extrapolated past the ends)."""
    exons = _transcript_order(model)
    forward = model.strand == "+"
    if offset0 < 0:
        first = exons[0][0] if forward else exons[0][1] - 1
        return first + offset0 if forward else first - offset0
    walked = 0
    for start, end in exons:
        length = end - start
        if offset0 < walked + length:
            inside = offset0 - walked
            return start + inside if forward else end - 1 - inside
        walked += length
    last = exons[-1][1] - 1 if forward else exons[-1][0]
    beyond = offset0 - walked + 1
    return last + beyond if forward else last - beyond


def _to_transcript(model: CodingTranscript, genomic0: int) -> int:
    """The 0-based transcript offset of exonic 0-based genomic position ``genomic0``."""
    walked = 0
    for start, end in _transcript_order(model):
        if start <= genomic0 < end:
            return walked + (genomic0 - start if model.strand == "+" else end - 1 - genomic0)
        walked += end - start
    raise HgvsError("the coding sequence does not start or end in an exon")


def position_to_genome(model: CodingTranscript, text: str) -> int:
    """The 0-based genomic position of one ``c.`` position (``123``, ``-15``, ``*20``, ``123+1``)."""
    match = _POSITION_RE.fullmatch(text)
    if match is None:
        raise HgvsError(f"not a c. position: {text!r}")
    if model.coding_start0 is None or model.coding_end0 is None:
        raise HgvsError("c. positions need a coding transcript; this one has no CDS")
    forward = model.strand == "+"
    first_coding = _to_transcript(model, model.coding_start0 if forward else model.coding_end0 - 1)
    last_coding = _to_transcript(model, model.coding_end0 - 1 if forward else model.coding_start0)
    anchor = match["anchor"]
    if anchor.startswith("*"):
        offset0 = last_coding + int(anchor[1:])
    else:
        number = int(anchor)
        if number == 0:
            raise HgvsError("there is no position c.0")
        offset0 = first_coding + number - 1 if number > 0 else first_coding + number
    genomic0 = _to_genome(model, offset0)
    intronic = int(match["offset"] or 0)
    return genomic0 + intronic if forward else genomic0 - intronic


def to_genomic(
    model: CodingTranscript, change: str, fetch: Callable[[int, int], str]
) -> GenomicVariant:
    """Place one ``c.`` change on the genome as a VCF-style variant.

    Parameters
    ----------
    model
        The transcript the change is written against.
    change
        What follows ``c.``: ``123+1G>A``, ``10_12del``, ``10dup``, ``10_11insAT``, ...
    fetch
        ``fetch(start0, end0)``: the genome's bases (upper case) of
        ``[start0, end0)`` on ``model.chrom``.

    Raises
    ------
    HgvsError
        A change that cannot be read, or whose stated bases differ from the genome's.
    """
    match = _CHANGE_RE.fullmatch(change)
    if match is None:
        raise HgvsError(f"cannot read the change c.{change} (substitution, del, dup, ins or delins)")
    first = position_to_genome(model, match["first"])
    last = position_to_genome(model, match["last"]) if match["last"] else first
    low, high = min(first, last), max(first, last)  # 0-based, inclusive
    forward = model.strand == "+"

    def plus(bases: str) -> str:
        return bases if forward else reverse_complement(bases)

    if match["ref"] is not None:
        if low != high or len(match["ref"]) != 1 or len(match["alt"]) != 1:
            raise HgvsError(f"c.{change}: a substitution changes one base (use delins for more)")
        ref, alt = plus(match["ref"]), plus(match["alt"])
        found = fetch(low, low + 1)
        if found != ref:
            raise HgvsError(f"c.{change}: REF {match['ref']} does not match the genome "
                            f"({plus(found)} on the transcript's strand at {model.chrom}:{low + 1})")
        return GenomicVariant(model.chrom, low + 1, ref, alt)
    kind, bases = match["kind"], match["bases"]
    if kind == "ins":
        if high - low != 1:
            raise HgvsError(f"c.{change}: an insertion goes between two adjacent positions")
        if not bases:
            raise HgvsError(f"c.{change}: an insertion names its bases")
        before = fetch(low, low + 1)
        return GenomicVariant(model.chrom, low + 1, before, before + plus(bases))
    span = fetch(low, high + 1)
    if kind in ("del", "delins", "dup") and bases and plus(bases) != span:
        raise HgvsError(f"c.{change}: the bases named ({bases}) do not match the genome "
                        f"({plus(span)} on the transcript's strand)")
    if kind == "dup":
        after = fetch(high, high + 1)
        return GenomicVariant(model.chrom, high + 1, after, after + span)
    if kind == "delins":
        if not bases:
            raise HgvsError(f"c.{change}: delins names the inserted bases")
        return GenomicVariant(model.chrom, low + 1, span, plus(bases))
    if low == 0:
        raise HgvsError(f"c.{change}: a deletion at the contig's first base cannot be written in VCF")
    before = fetch(low - 1, low)
    return GenomicVariant(model.chrom, low, before + span, before)
