"""Cutting ``annotate``'s records into shards, one per actor, where neighbours share no window."""

from __future__ import annotations

from collections.abc import Iterable, Iterator


def genomic_shards(records: Iterable, size: int, gap: int, pieces: int = 1) -> Iterator[list]:
    """Consecutive records, ``size`` at a time, each batch cut into ``pieces`` shards for the actors.

    Each cut is placed near an even split, where the two records around it
    share no window (another contig, or more than ``gap`` bases apart) if
    such a place is near; in a dense stretch it falls at the even split.
    """
    batch: list = []
    for record in records:
        batch.append(record)
        if len(batch) >= size:
            yield from _split(batch, pieces, gap)
            batch = []
    if batch:
        yield from _split(batch, pieces, gap)


def _split(batch: list, pieces: int, gap: int) -> Iterator[list]:
    pieces = max(1, min(pieces, len(batch)))
    reach = len(batch) // (4 * pieces)  # how far a cut may move from the even split
    start = 0
    for k in range(1, pieces):
        even = k * len(batch) // pieces
        cut, best = even, 0
        for i in range(max(start + 1, even - reach), min(len(batch), even + reach + 1)):
            distance = _distance(batch[i - 1], batch[i])
            if distance > gap and distance > best:
                cut, best = i, distance
        if cut > start:
            yield batch[start:cut]
            start = cut
    yield batch[start:]


def _distance(a, b) -> float:
    return float("inf") if a.chrom != b.chrom else abs(b.pos - a.pos)
