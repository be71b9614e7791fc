"""Sorted, disjoint interval lists (0-based half-open) and the runs of N that predict skips."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

Interval = tuple[int, int]  # 0-based half-open
DEFAULT_SKIP_N = 1_000  # runs of at least this many N are not predicted

_NOT_ACGT = re.compile(rb"[^ACGTacgt]+")


def n_runs(sequence: bytes | bytearray, min_length: int) -> list[Interval]:
    """Runs of at least ``min_length`` bases other than A, C, G, T (none if ``min_length`` < 1)."""
    if min_length < 1:
        return []
    return [m.span() for m in _NOT_ACGT.finditer(sequence) if m.end() - m.start() >= min_length]


def merge_intervals(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted union of intervals; touching intervals join, empty ones vanish."""
    merged: list[list[int]] = []
    for start, end in sorted(i for i in intervals if i[1] > i[0]):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(start, end) for start, end in merged]


def subtract_intervals(intervals: Sequence[Interval], holes: Sequence[Interval]) -> list[Interval]:
    """``intervals`` (sorted, disjoint) without ``holes`` (sorted, disjoint)."""
    result = []
    k = 0
    for start, end in intervals:
        while k < len(holes) and holes[k][1] <= start:
            k += 1
        position, j = start, k
        while j < len(holes) and holes[j][0] < end:
            if holes[j][0] > position:
                result.append((position, holes[j][0]))
            position = max(position, holes[j][1])
            j += 1
        if position < end:
            result.append((position, end))
    return result


def intersect_intervals(a: Sequence[Interval], b: Sequence[Interval]) -> list[Interval]:
    """Intersection of two sorted, disjoint interval lists."""
    result, i, j = [], 0, 0
    while i < len(a) and j < len(b):
        start, end = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if start < end:
            result.append((start, end))
        if a[i][1] <= b[j][1]:
            i += 1
        else:
            j += 1
    return result
