"""Splice sites for mutagenesis: parsing ``CHROM:POS`` / ``CHROM:START-END`` and finding annotated sites."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from spliceannot.classes import SITE_CLASSES
from spliceannot.errors import InputError
from spliceannot.readers.annotation import Annotation
from spliceannot.readers.transcript import Transcript

KINDS = SITE_CLASSES  # site kind -> output column
MAX_REGION = 2001  # nucleotides mutated at most (3 mutants each)
_SITE = re.compile(r"^([^:\s]+):([\d,]+)$")
_REGION = re.compile(r"^([^:\s]+):([\d,]+)-([\d,]+)$")


@dataclass(frozen=True)
class Site:
    """A splice site: 1-based ``pos`` of the exon's first (acceptor) or last (donor) base, transcript ``strand``."""

    chrom: str
    pos: int
    kind: str
    strand: str

    @property
    def label(self) -> str:
        return f"{self.chrom}:{self.pos} {self.kind} ({self.strand})"


def annotated_sites(transcript: Transcript) -> list[Site]:
    """The acceptors and donors of a transcript's introns (first/last exon base, 1-based)."""
    exons = sorted(
        (start + 1, end) for start, end in zip(transcript.exon_starts, transcript.exon_ends)
    )
    sites = []
    for (_, left_last), (right_first, _) in itertools.pairwise(exons):
        upstream, downstream = (
            ("donor", "acceptor") if transcript.strand == "+" else ("acceptor", "donor")
        )
        sites.append(Site(transcript.chrom, left_last, upstream, transcript.strand))
        sites.append(Site(transcript.chrom, right_first, downstream, transcript.strand))
    return sites


def parse_location(text: str) -> tuple[str, int, int | None]:
    """``chrom:pos`` -> ``(chrom, pos, None)``; ``chrom:start-end`` -> ``(chrom, start, end)``, 1-based."""
    text = text.strip()
    match = _SITE.match(text)
    if match:
        return match.group(1), _number(match.group(2), text), None
    match = _REGION.match(text)
    if match:
        start, end = _number(match.group(2), text), _number(match.group(3), text)
        if end < start:
            raise InputError(f"{text!r}: region end before its start")
        if end - start + 1 > MAX_REGION:
            raise InputError(f"{text!r}: region longer than {MAX_REGION} nt")
        return match.group(1), start, end
    raise InputError(f"{text!r}: not a site or region (expected CHROM:POS or CHROM:START-END)")


def _number(text: str, whole: str) -> int:
    value = int(text.replace(",", ""))
    if value < 1:
        raise InputError(f"{whole!r}: positions are 1-based")
    return value


def resolve_site(
    location: str,
    annotation: Annotation | None,
    *,
    kind: str | None = None,
    strand: str | None = None,
) -> tuple[Site, tuple[int, int] | None]:
    """The site that ``location`` names, and the region to mutate if it was a region.

    A position with both ``kind`` and ``strand`` given is used as it is.
    Otherwise the annotation's splice sites are searched: at the position,
    or (for a region) inside it, nearest its centre; ``kind``/``strand``
    narrow the search.

    Raises
    ------
    InputError
        No such annotated site, or several that ``kind``/``strand`` do not
        tell apart.
    """
    chrom, start, end = parse_location(location)
    if end is None and kind and strand:
        return Site(chrom, start, kind, strand), None
    if annotation is None:
        raise InputError(f"{location}: give -A to find the annotated site, or --site and --strand")
    last = start if end is None else end
    found = _sites_inside(annotation, chrom, start, last, kind, strand)
    if not found:
        what = f"{kind} " if kind else ""
        raise InputError(
            f"{location}: no annotated {what}splice site there in {annotation.source} "
            "(give --site and --strand to use any position)"
        )
    centre = (start + last) / 2
    best = min(found, key=lambda s: (abs(s.pos - centre), s.pos, s.kind, s.strand))
    ties = [s for s in found if s.pos == best.pos]
    if len(ties) > 1:
        raise InputError(
            f"{location}: several annotated sites at {chrom}:{best.pos} "
            f"({', '.join(sorted(s.kind + s.strand for s in ties))}); choose with --site/--strand"
        )
    return best, (None if end is None else (start, end))


def _sites_inside(
    annotation: Annotation, chrom: str, start: int, last: int, kind, strand
) -> set[Site]:
    """Annotated sites in ``[start, last]`` (1-based, inclusive) matching ``kind``/``strand`` when given."""
    rows: set[int] = set()
    for pos in range(start, last + 1):
        rows.update(annotation.overlapping(chrom, pos))
    found = set()
    for row in rows:
        for site in annotated_sites(annotation.transcripts[row]):
            if (
                start <= site.pos <= last
                and kind in (None, site.kind)
                and strand in (None, site.strand)
            ):
                found.add(Site(chrom, site.pos, site.kind, site.strand))
    return found
