"""FLOP accounting of SpliceAI-10k: one network over a sequence, SpliceAI's
padded windows per variant, and spliceannot's shared tiles and alternate cones;
the same for Pangolin, whose networks are SpliceAI-10k's trunk with a wider head.

A convolution with ``c_in`` inputs, ``c_out`` outputs and kernel width ``w``
costs ``c_in * c_out * w`` multiply-adds (2 FLOP each) per output position,
whatever its dilation. Elementwise work (BatchNorm, ReLU, residual adds,
softmax) is left out: it is under 1% of the convolutions.

The architecture is the one of ``spliceannot/engine/architecture.py``
(``benchmarks/test_flops.py`` checks that the two agree); the harness keeps a
copy because it runs with the standard library only.

Tile and cone rules follow ``spliceannot/tracks.py`` (``ConeTracks._tiles``)
and ``spliceannot/engine/cone.py`` (``ConeRunner._alternate_pass``):

- ``annotate`` scores records in chunks (``--chunk-size``, 256); with ``W``
  workers each chunk is cut into ``W`` contiguous pieces. Within a piece,
  jobs (record x ALT x overlapping gene) with the same window are computed
  once; jobs sharing a gene (strand and transcript mask) are sorted by
  position, and a job's window ``[pos - wid//2 - 1, pos + wid//2)`` joins the
  current tile when it starts at most ``flank`` bases after the tile's end and
  the tile stays within ``max_tile + wid`` bases (40,000 + wid).
- A tile of ``T`` bases costs one valid pass: ``T - flank`` outputs.
- Each job adds its alternate cone: at residual unit ``k`` only the positions
  that the change reaches (``R_k`` either side of it, ``R_k`` the cumulative
  radius) and that the ``2D + 1`` outputs still need (``R_16 - R_k`` either
  side of them) are recomputed, each unit over its span ``S`` plus its radius
  ``r``: ``32 * 32 * w * (2 S + r)`` multiply-adds.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

CHANNELS = 32
INPUT_CHANNELS = 4
CLASSES = 3
UNITS_PER_GROUP = 4
#: (kernel width, dilation) of SpliceAI-10k's four groups of four residual units
GROUPS = ((11, 1), (11, 4), (21, 10), (41, 25))
UNITS = tuple(group for group in GROUPS for _ in range(UNITS_PER_GROUP))
FLANK = 2 * sum(d * (w - 1) for w, d in UNITS)  # 10,000
MEMBERS = 5
#: ConeTracks' default longest tile beyond one window, in bases
MAX_TILE = 40_000
#: annotate's default --chunk-size
CHUNK_SIZE = 256

_CC = CHANNELS * CHANNELS


@dataclass(frozen=True)
class Family:
    """What a model family adds to the shared trunk.

    Attributes
    ----------
    name
        For the reports.
    members
        Networks run per window.
    classes
        Channels of each network's head.
    covers_ref
        The window reaches ``len(REF) - 1`` bases beyond ``10,001 + 2D`` so that
        every REF base is scored (Pangolin).
    """

    name: str
    members: int
    classes: int
    covers_ref: bool

    def reach(self, ref_len: int) -> int:
        return max(ref_len - 1, 0) if self.covers_ref else 0


SPLICEAI = Family("SpliceAI", MEMBERS, CLASSES, covers_ref=False)
PANGOLIN = Family("Pangolin", 12, 12, covers_ref=True)


def _radii() -> list[int]:
    """Cumulative radius ``R_k`` after residual unit ``k`` (``R_0 = 0``, ``R_16 = 5000``)."""
    radii = [0]
    for w, d in UNITS:
        radii.append(radii[-1] + d * (w - 1))
    return radii


def valid_macs(outputs: int, classes: int = CLASSES) -> int:
    """Multiply-adds of one network over ``outputs + flank`` bases with valid convolutions.

    One more output costs what one position of a padded pass costs:

    >>> valid_macs(2) - valid_macs(1) == padded_macs(FLANK + 2) - padded_macs(FLANK + 1)
    True
    >>> 2 * valid_macs(101) / 1e9   # one isolated window at -D 50, one model: GFLOP
    9.113454784
    """
    length = outputs + FLANK
    macs = length * INPUT_CHANNELS * CHANNELS + length * _CC  # stem, stem skip
    for index, (w, d) in enumerate(UNITS):
        length -= d * (w - 1)
        macs += length * _CC * w
        length -= d * (w - 1)
        macs += length * _CC * w
        if index % UNITS_PER_GROUP == UNITS_PER_GROUP - 1:
            macs += length * _CC  # the group's skip
    assert length == outputs
    return macs + outputs * CHANNELS * classes


def padded_macs(length: int, classes: int = CLASSES) -> int:
    """Multiply-adds of one network over ``length`` bases with 'same' (padded) convolutions.

    How SpliceAI's Keras models run: every layer computes all ``length``
    positions; the head sees the ``length - flank`` central ones.

    >>> padded_macs(10_101) / 1e9   # one SpliceAI window at -D 50, one model
    7.003800672
    """
    per_position = INPUT_CHANNELS * CHANNELS + _CC  # stem, stem skip
    per_position += sum(2 * _CC * w for w, _ in UNITS) + len(GROUPS) * _CC
    return length * per_position + (length - FLANK) * CHANNELS * classes


def cone_macs(ref_len: int, alt_len: int, distance: int, reach: int = 0, classes: int = CLASSES) -> int:
    """Multiply-adds of one network for one alternate cone (spliceannot, forward geometry).

    The wanted outputs are the ``2D + 1 + reach + alt_len - ref_len`` positions
    from ``-D`` around the substitution's first base (``reach``: ``len(REF) - 1``
    for a window that covers REF, else 0).

    >>> 2 * cone_macs(1, 1, 50) / 1e9   # an SNV at -D 50: GFLOP per model
    2.648118464
    """
    radii = _radii()
    total = radii[-1]
    out_lo = -distance
    out_hi = out_lo + 2 * distance + 1 + reach + alt_len - ref_len - 1
    outputs = out_hi - out_lo + 1
    macs = alt_len * INPUT_CHANNELS * CHANNELS  # the stem over the new bases
    macs += outputs * _CC  # stem skip over the outputs
    for layer, (w, d) in enumerate(UNITS, start=1):
        lo = max(out_lo - (total - radii[layer]), -radii[layer])
        hi = min(out_hi + (total - radii[layer]), alt_len - 1 + radii[layer])
        span = max(0, hi - lo + 1)
        if span:
            macs += _CC * w * (2 * span + d * (w - 1))
        if layer % UNITS_PER_GROUP == 0:
            macs += outputs * _CC  # the group's skip
    return macs + outputs * CHANNELS * classes


@dataclass(frozen=True)
class Job:
    """One ALT of one record scored against one gene row (1-based ``pos``; 0-based half-open mask)."""

    pos: int
    ref: str
    alt: str
    strand: str
    tx_start: int
    tx_end: int


def jobs_of(records: Iterable[tuple[int, str, str]], genes: Sequence) -> list[list[Job]]:
    """The jobs of each record ``(pos, ref, alts)``: every ALT against every gene containing ``pos``.

    ``genes``: objects with ``strand``, ``tx_start_0based``, ``tx_end_1based``
    (``harness.genome.Gene``), in table order.
    """
    out = []
    for pos, ref, alts in records:
        out.append([
            Job(pos, ref, alt, g.strand, g.tx_start_0based, g.tx_end_1based)
            for alt in alts.split(",")
            for g in genes
            if g.tx_start_0based < pos <= g.tx_end_1based
        ])
    return out


def pangolin_jobs_of(
    records: Iterable[tuple[int, str, str]], genes: Sequence[tuple[str, int, int]], contig_length: int
) -> list[list[Job]]:
    """Pangolin's jobs of each record ``(pos, ref, alts)``: its first ALT on each strand with a gene.

    ``genes``: ``(strand, start1, end1)`` of the annotation's ``gene``
    features; Pangolin finds a gene when ``start1 < pos <= end1`` (one that
    starts at ``pos`` is missed). The windows are plain genome: every job's
    mask is the whole contig. Records Pangolin skips are not modelled.
    """
    out = []
    for pos, ref, alts in records:
        strands = sorted({strand for strand, start1, end1 in genes if start1 < pos <= end1})
        out.append([Job(pos, ref, alts.split(",")[0], strand, 0, contig_length) for strand in strands])
    return out


def pangolin_flop(jobs: Iterable[Job], distance: int) -> int:
    """FLOP Pangolin 5cf94b8 executes: per job and network, padded REF and ALT windows that cover REF.

    >>> round(pangolin_flop([Job(100_000, "A", "C", "+", 0, 10**6)], 50) / 1e9)   # one SNV, one strand
    336
    """
    width = FLANK + 2 * distance + 1
    classes = PANGOLIN.classes
    macs = sum(padded_macs(width + len(j.ref) - 1, classes) + padded_macs(width + len(j.alt) - 1, classes) for j in jobs)
    return 2 * PANGOLIN.members * macs


def spliceai_flop(jobs: Iterable[Job], distance: int) -> int:
    """FLOP SpliceAI 1.3.1 executes: per job and model, a padded REF and a padded ALT window."""
    width = FLANK + 2 * distance + 1
    macs = sum(padded_macs(width) + padded_macs(width + len(j.alt) - len(j.ref)) for j in jobs)
    return 2 * MEMBERS * macs


def _masks(jobs: Sequence[Job]) -> dict[tuple, list[Job]]:
    by_mask: dict[tuple, list[Job]] = {}
    for job in jobs:
        by_mask.setdefault((job.strand, job.tx_start, job.tx_end), []).append(job)
    return by_mask


def _tiles(jobs: Sequence[Job], width: int, max_tile: int, family: Family = SPLICEAI) -> list[tuple[int, int]]:
    """``(lo, hi)`` of the tiles ConeTracks builds for one piece of a chunk (distinct tiles)."""
    tiles = set()
    for (strand, tx_start, tx_end), members in _masks(jobs).items():
        current = False
        lo = hi = 0
        for job in sorted(members, key=lambda j: j.pos):
            start, end = job.pos - width // 2 - 1, job.pos + width // 2 + family.reach(len(job.ref))
            if current and start <= hi + FLANK and end - lo <= max_tile + width:
                hi = max(hi, end)
                continue
            if current:
                tiles.add((strand, lo, hi, max(lo, tx_start), min(hi, tx_end)))
            current, lo, hi = True, start, end
        if current:
            tiles.add((strand, lo, hi, max(lo, tx_start), min(hi, tx_end)))
    return [(lo, hi) for _, lo, hi, _, _ in tiles]


def _best_tiles(jobs: Sequence[Job], width: int, max_tile: int) -> list[tuple[int, int]]:
    """The tiles that minimise the reference FLOP: the cheapest cut of each gene's sorted windows.

    A tile costs :func:`valid_macs` of its outputs, so joining two windows
    pays only while the bases between the variants cost less than a second
    tile's flank (about 3,300 bases at -D 50). Tiles stay within
    ``max_tile + width`` bases, as ConeTracks' do.
    """
    tiles = []
    for members in _masks(jobs).values():
        positions = sorted({job.pos for job in members})
        best = [0] + [None] * len(positions)  # best[j]: cheapest tiling of the first j windows
        cut = [0] * (len(positions) + 1)
        for j in range(1, len(positions) + 1):
            for i in range(j, 0, -1):
                span = positions[j - 1] - positions[i - 1]
                if span > max_tile:
                    break
                cost = best[i - 1] + valid_macs(span + width - FLANK)
                if best[j] is None or cost < best[j]:
                    best[j], cut[j] = cost, i
        j = len(positions)
        while j:
            i = cut[j]
            lo = positions[i - 1] - width // 2 - 1
            tiles.append((lo, positions[j - 1] + width // 2))
            j = i - 1
    return tiles


def spliceannot_flop(
    record_jobs: Sequence[Sequence[Job]],
    distance: int,
    workers: int = 1,
    chunk_size: int = CHUNK_SIZE,
    max_tile: int = MAX_TILE,
    best_tiles: bool = False,
    family: Family = SPLICEAI,
) -> dict:
    """FLOP ``spliceannot annotate`` (cone engine) executes, split into tiles and cones.

    Parameters
    ----------
    record_jobs
        The jobs of each record, in input order (:func:`jobs_of`, :func:`pangolin_jobs_of`).
    best_tiles
        Cut tiles where that saves FLOP (:func:`_best_tiles`) instead of
        following ConeTracks' rule: what a better tile rule would allow
        (windows that do not cover REF only).
    family
        :data:`SPLICEAI` or :data:`PANGOLIN`: members, head and window reach.

    Returns
    -------
    dict
        ``reference`` (tile passes), ``alternate`` (cones), ``total``, ``tiles``
        (count) and ``jobs`` (distinct windows computed).
    """
    width = FLANK + 2 * distance + 1
    reference = alternate = tiles = computed = 0
    for first in range(0, len(record_jobs), chunk_size):
        chunk = record_jobs[first : first + chunk_size]
        step = -(-len(chunk) // workers)
        for piece_start in range(0, len(chunk), step):
            seen, unique = set(), []
            for jobs in chunk[piece_start : piece_start + step]:
                for job in jobs:
                    half = width // 2  # the window's N padding, as windows.WindowGeometry.padding
                    padding = (max(half + job.tx_start + 1 - job.pos, 0), max(half - job.tx_end + job.pos, 0))
                    key = (job.pos, job.ref, job.alt, job.strand, padding)
                    if key not in seen:
                        seen.add(key)
                        unique.append(job)
            cut = _best_tiles(unique, width, max_tile) if best_tiles else _tiles(unique, width, max_tile, family)
            for lo, hi in cut:
                reference += valid_macs(hi - lo - FLANK, family.classes)
                tiles += 1
            alternate += sum(
                cone_macs(len(j.ref), len(j.alt), distance, family.reach(len(j.ref)), family.classes) for j in unique
            )
            computed += len(unique)
    scale = 2 * family.members
    return {
        "reference": scale * reference,
        "alternate": scale * alternate,
        "total": scale * (reference + alternate),
        "tiles": tiles,
        "jobs": computed,
    }


def isolated_ratio(distance: int = 50, family: Family = SPLICEAI) -> float:
    """The peer's / spliceannot's FLOP for one SNV alone in its tile (SpliceAI or Pangolin).

    >>> round(isolated_ratio(50), 1), round(isolated_ratio(50, PANGOLIN), 1)
    (2.4, 2.4)
    """
    width = FLANK + 2 * distance + 1
    ours = valid_macs(width - FLANK, family.classes) + cone_macs(1, 1, distance, classes=family.classes)
    return 2 * padded_macs(width, family.classes) / ours
