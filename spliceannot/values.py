"""The value types of the scoring path, each with its coordinate convention in its type.

- :class:`Record` -- what scoring needs of a VCF record: 1-based ``pos`` (VCF
  POS) and every ALT.  It is the one variant value that crosses process
  boundaries (worker processes and Ray actors receive records); with
  ``annotate --haplotypes`` it carries the distinct local haplotypes of its
  samples (:class:`CisContext`).
- :class:`Variant` -- one ALT of a record: 1-based ``pos``.
- :class:`Span` -- a stretch of a contig: 0-based half-open ``[start, end)``,
  the convention of annotation tables, BED and FASTA slicing.
- :class:`VariantJob` -- one ALT scored against one transcript: a
  :class:`Variant` on the FASTA's contig, the transcript's strand and the
  :class:`Span` outside which the window is masked.

Splice sites (:class:`spliceannot.sites.Site`) are 1-based too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple


@dataclass(frozen=True, slots=True)
class Record:
    """What scoring needs of a VCF record.  ``pos`` is 1-based (VCF POS).

    ``contexts``: the record's ALTs in the haplotypes of its samples, each
    distinct local haplotype once (empty unless haplotypes are scored).
    """

    chrom: str
    pos: int
    ref: str
    alts: tuple[str, ...]
    contexts: tuple[CisContext, ...] = ()


@dataclass(frozen=True, slots=True)
class Variant:
    """One ALT of a VCF record.  ``pos`` is 1-based (VCF POS): REF's first base."""

    chrom: str
    pos: int
    ref: str
    alt: str


@dataclass(frozen=True, slots=True)
class CisContext:
    """One ALT of a record on one local haplotype: the record's ``alt`` and the other
    variants of that haplotype within the model's reach (``cis``: 1-based, sorted, not
    overlapping each other or the record), which are in the sequence when it is scored."""

    alt: str
    cis: tuple[Variant, ...] = ()


class Span(NamedTuple):
    """``[start, end)`` on a contig, 0-based half-open (a plain ``(start, end)`` tuple too)."""

    start: int
    end: int


@dataclass(frozen=True, slots=True)
class VariantJob:
    """One ALT scored against one transcript.

    ``variant.chrom`` is the FASTA's name of the contig; bases of the window
    outside ``span`` (the transcript) read as ``N``.
    """

    variant: Variant
    strand: str
    span: Span

    @property
    def contig(self) -> str:
        return self.variant.chrom

    @property
    def pos(self) -> int:
        """1-based position of REF's first base."""
        return self.variant.pos

    @property
    def ref(self) -> str:
        return self.variant.ref

    @property
    def alt(self) -> str:
        return self.variant.alt
