"""``--regions``: which records of an indexed VCF/BCF to read, as ``bcftools view -r`` reads them.

Regions are parsed (``chr``, ``chr:pos``, ``chr:start-``, ``chr:start-end``,
1-based inclusive) and merged per contig; a record that several merged
regions fetch is kept once, from the first.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TypeVar

from spliceannot.errors import InputError

Item = TypeVar("Item")


@dataclass(frozen=True)
class Region:
    """A merged ``--regions`` interval: 0-based half-open, ``end0`` None = to the contig's end."""

    contig: str
    start0: int
    end0: int | None


_REGION = re.compile(r"^(.+):([0-9,]+)(?:-([0-9,]*))?$")


def parse_region(text: str, contigs: set[str] | None = None) -> Region:
    """``chr``, ``chr:pos``, ``chr:start-`` or ``chr:start-end`` (1-based, inclusive)."""
    match = _REGION.match(text)
    if match is None or contigs is not None and text in contigs:
        return Region(text, 0, None)
    contig, start, end = match.group(1), int(match.group(2).replace(",", "")), match.group(3)
    if end is None:
        stop: int | None = start
    else:
        stop = int(end.replace(",", "")) if end.replace(",", "") else None
    start = max(start, 1)
    if stop is not None and stop < start:
        raise InputError(f"--regions: {text!r} ends before it starts")
    return Region(contig, start - 1, stop)


def merge_regions(texts: list[str], contigs: set[str] | None = None) -> list[Region]:
    """Regions as ``bcftools view -r`` reads them: per contig (in the order first named), sorted and merged."""
    by_contig: dict[str, list[Region]] = {}
    for text in texts:
        region = parse_region(text, contigs)
        by_contig.setdefault(region.contig, []).append(region)
    merged: list[Region] = []
    for contig, regions in by_contig.items():
        current: Region | None = None
        for region in sorted(regions, key=lambda r: r.start0):
            if current is not None and (current.end0 is None or region.start0 <= current.end0):
                end = (
                    None
                    if current.end0 is None or region.end0 is None
                    else max(current.end0, region.end0)
                )
                current = Region(contig, current.start0, end)
                continue
            if current is not None:
                merged.append(current)
            current = region
        merged.append(current)
    return merged


def first_sightings(regions: list[Region], tagged: Iterator[tuple[int, Item]]) -> Iterator[Item]:
    """Drop records that an earlier region of the same contig already gave.

    ``tagged`` holds ``(region index, item)`` pairs, each item's
    ``record.start`` the record's 0-based start
    (:class:`~spliceannot.readers.vcf.InputRecord`).

    Merged regions of a contig are disjoint and sorted, so a record fetched
    again for region ``k`` overlapped an earlier region exactly when it
    starts before that region's end.
    """
    seen_until: list[int] = []
    last_end: dict[str, int] = {}
    for region in regions:
        seen_until.append(last_end.get(region.contig, -1))
        last_end[region.contig] = sys.maxsize if region.end0 is None else region.end0
    for index, item in tagged:
        if item.record.start >= seen_until[index]:
            yield item


def index_path(path: str) -> str | None:
    """The ``.tbi`` or ``.csi`` index beside ``path``, if there is one."""
    for suffix in (".tbi", ".csi"):
        if os.path.isfile(path + suffix):
            return path + suffix
    return None


def check_index(path: str) -> None:
    """Refuse ``path`` for ``--regions`` when it has no index, or one older than itself."""
    index = index_path(path)
    if index is None:
        raise InputError(
            f"{path}: cannot fetch regions: no index (.tbi/.csi) beside it; "
            "--regions needs a bgzipped VCF indexed with `tabix -p vcf`, or an indexed BCF"
        )
    if os.stat(index).st_mtime < os.stat(path).st_mtime:
        raise InputError(
            f"{index}: the index is older than {path}, so it may not describe it; "
            "re-index it (`tabix -f -p vcf` or `bcftools index -f`)"
        )


def indexed_regions(texts: list[str], contigs: set[str], path: str) -> list[Region]:
    """:func:`merge_regions` of ``texts``, refusing a contig that the index of ``path`` does not know."""
    regions = merge_regions(texts, contigs)
    for region in regions:
        if region.contig not in contigs:
            raise InputError(
                f"{path}: cannot fetch region {region.contig!r}: no such contig in the index"
            )
    return regions
