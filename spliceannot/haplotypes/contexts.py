"""From genotypes to local haplotypes: which other variants share a haplotype with each ALT.

:func:`haplotype_items` reads the sorted record stream with a window of
records within the model's reach on either side (memory bounded by the
records of one window, not the input), and attaches to each record the
distinct local haplotypes of its samples (:class:`~spliceannot.values.CisContext`)
and, per sample, which one each of its two haplotypes is.

The rules (docs/haplotypes.md):

- Haplotype 1 is the first allele of ``GT``, haplotype 2 the second; a
  haploid genotype has haplotype 1 only.
- Another record's ALT is in cis with this record's ALT on haplotype ``h``
  when the sample carries it on ``h`` and their phase is known: the other
  genotype is homozygous (or haploid: on the one haplotype), or both are
  phased (``|``) with the same ``PS`` (phased genotypes without ``PS`` form
  one phase set).  A homozygous record written unphased (``1/1``) therefore
  takes only homozygous neighbours: phasing tools write ``1|1``.
- A heterozygous ALT in reach whose phase with this record is not known is
  left out and counted (``unphased``); an ALT that overlaps this record's
  REF, or a cis ALT kept before it, is left out and counted (``overlap``);
  a symbolic, breakend or ``*`` ALT is not sequence: left out (``*`` silently,
  the others counted as ``symbolic``).  Missing alleles (``.``) carry nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np

from spliceannot.errors import InputError
from spliceannot.readers.vcf import InputRecord
from spliceannot.values import CisContext, Variant

ABSENT = -2  # the second haplotype of a haploid genotype
_SEQUENCE = set("ACGTNacgtn")


@dataclass(frozen=True, slots=True)
class HaplotypeItem(InputRecord):
    """An input record with the local haplotypes of its samples.

    Attributes
    ----------
    contexts
        Distinct (ALT, cis variants) pairs carried by some sample's haplotype.
    assignment
        int32 ``(samples, 2)``: per sample and haplotype the index into
        ``contexts``, or -1 (the haplotype carries no ALT of this record, or
        its allele is missing or absent).
    flags
        Per sample: ``{"unphased": n, "overlap": n, "symbolic": n}`` counts
        of ALTs in reach left out (empty when none).
    """

    contexts: tuple[CisContext, ...] = ()
    assignment: np.ndarray | None = None
    flags: tuple[dict, ...] = field(default=())


@dataclass
class _Calls:
    """One record's genotypes: allele indices ``(samples, 2)`` (-1 missing, ABSENT), phase, phase set."""

    item: InputRecord
    chrom: str
    pos: int
    end: int  # 1-based last REF base
    ref: str
    alts: tuple[str, ...]
    alleles: np.ndarray
    phased: np.ndarray
    phase_set: np.ndarray  # -1: no PS (the sample's default phase set)
    homozygous: np.ndarray
    sequence_alts: np.ndarray  # per allele index (0 = REF): whether it is sequence
    star_alts: np.ndarray  # per allele index: whether it is ``*`` (overlapped by a deletion)

    @classmethod
    def of(cls, item: InputRecord, samples: int) -> _Calls:
        record = item.record
        alleles = np.full((samples, 2), -1, dtype=np.int32)
        phased = np.zeros(samples, dtype=bool)
        phase_set = np.full(samples, -1, dtype=np.int64)
        has_ps = "PS" in record.format
        for index, sample in enumerate(record.samples.values()):
            indices = sample.allele_indices or ()
            if len(indices) == 1:
                alleles[index] = (-1 if indices[0] is None else indices[0], ABSENT)
            elif len(indices) >= 2:
                alleles[index] = [-1 if a is None else a for a in indices[:2]]
            phased[index] = sample.phased
            if has_ps:
                value = sample.get("PS")
                if isinstance(value, int):
                    phase_set[index] = value
        alts = tuple(record.alts or ())
        alleles[alleles > len(alts)] = -1  # an allele the record does not have reads as missing
        first, second = alleles[:, 0], alleles[:, 1]
        homozygous = (second == ABSENT) | ((first == second) & (first >= 0))
        sequence = np.array([False] + [bool(a) and set(a) <= _SEQUENCE for a in alts], dtype=bool)
        star = np.array([False] + [a == "*" for a in alts], dtype=bool)
        ref = record.ref or ""
        return cls(item, record.chrom, record.pos, record.pos + max(len(ref), 1) - 1, ref, alts,
                   alleles, phased, phase_set, homozygous, sequence, star)


def haplotype_items(items: Iterable[InputRecord], *, reach: int, samples: int, path: str) -> Iterator[HaplotypeItem]:
    """``items`` (sorted) as :class:`HaplotypeItem`, in order.

    ``reach``: half the model's window (``flank / 2 + distance``): another
    variant changes this record's scores when its REF lies within ``reach``
    bases of the record's first base.
    """
    done: list[_Calls] = []  # yielded, kept while still in reach of a queued record
    queue: list[_Calls] = []  # read, waiting for the records right of them
    finished: set[str] = set()
    for item in items:
        calls = _Calls.of(item, samples)
        last = queue[-1] if queue else (done[-1] if done else None)
        if last is not None and calls.chrom != last.chrom:
            yield from (_contexts(r, done + queue, reach) for r in queue)
            finished.add(last.chrom)
            done, queue, last = [], [], None
        if calls.chrom in finished or (last is not None and calls.pos < last.pos):
            where = f" (line {item.number})" if item.number else ""
            raise InputError(
                f"{path}{where}: --haplotypes needs records sorted by position: {calls.chrom}:{calls.pos} comes "
                "after records further on (sort it with `bcftools sort`)"
            )
        while queue and queue[0].pos + reach < calls.pos:
            record = queue.pop(0)
            yield _contexts(record, done + [record] + queue, reach)
            done.append(record)
        low = (queue[0].pos if queue else calls.pos) - reach
        if done and done[0].end < low:
            done = [c for c in done if c.end >= low]
        queue.append(calls)
    yield from (_contexts(r, done + queue, reach) for r in queue)


def _contexts(record: _Calls, nearby: list[_Calls], reach: int) -> HaplotypeItem:
    """The record's local haplotypes, from the records ``nearby`` (itself among them)."""
    item = record.item
    samples = len(record.alleles)
    flags: list[dict] = [{} for _ in range(samples)]
    assignment = np.full((samples, 2), -1, dtype=np.int32)
    if not samples or not record.alts:
        return HaplotypeItem(item.record, item.line, item.number, (), assignment, tuple(flags))
    lo, hi = record.pos - reach, record.pos + reach
    neighbours = [n for n in nearby if n is not record and n.pos <= hi and n.end >= lo]
    overlaps_record = np.array([n.pos <= record.end and n.end >= record.pos for n in neighbours], dtype=bool)
    contexts: dict[CisContext, int] = {}
    for haplotype in (0, 1):
        own = record.alleles[:, haplotype]
        carriers = np.flatnonzero(own > 0)
        if not len(carriers):
            continue
        kept = np.zeros((len(carriers), len(neighbours)), dtype=np.int32)
        for column, n in enumerate(neighbours):
            theirs = n.alleles[carriers, haplotype]
            valid = theirs > 0
            if not valid.any():
                continue
            safe = np.where(valid, np.minimum(theirs, len(n.alts)), 0)
            sequence = n.sequence_alts[safe] & valid
            star = n.star_alts[safe] & valid
            known = n.homozygous[carriers] | (record.phased[carriers] & n.phased[carriers]
                                              & (record.phase_set[carriers] == n.phase_set[carriers]))
            _count(flags, carriers[valid & ~sequence & ~star], "symbolic")
            _count(flags, carriers[valid & sequence & ~known], "unphased")
            usable = valid & sequence & known
            if overlaps_record[column]:
                _count(flags, carriers[usable], "overlap")
                continue
            kept[usable, column] = theirs[usable]
        rows = np.concatenate([own[carriers, None], kept], axis=1)
        unique, inverse = np.unique(rows, axis=0, return_inverse=True)
        for row_index, row in enumerate(unique):
            context, dropped = _context(record, neighbours, row)
            index = contexts.setdefault(context, len(contexts))
            members = carriers[inverse.reshape(-1) == row_index]
            assignment[members, haplotype] = index
            if dropped:
                _count(flags, members, "overlap", dropped)
    return HaplotypeItem(item.record, item.line, item.number, tuple(contexts), assignment, tuple(flags))


def _context(record: _Calls, neighbours: list[_Calls], row: np.ndarray) -> tuple[CisContext, int]:
    """The context of one haplotype (``row``: this record's allele, then each neighbour's kept
    allele or 0); a cis ALT overlapping one kept before it is left out (counted)."""
    cis: list[Variant] = []
    dropped = 0
    end = 0
    for n, allele in zip(neighbours, row[1:]):
        if allele <= 0:
            continue
        if n.pos <= end:
            dropped += 1
            continue
        cis.append(Variant(n.chrom, n.pos, n.ref, n.alts[allele - 1]))
        end = n.end
    return CisContext(record.alts[row[0] - 1], tuple(cis)), dropped


def _count(flags: list[dict], members: np.ndarray, name: str, by: int = 1) -> None:
    for member in members:
        flags[member][name] = flags[member].get(name, 0) + by
