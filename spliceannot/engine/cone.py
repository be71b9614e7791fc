"""Exact fast scoring: shared reference tiles and cone recomputation.

Convolutions are valid, so the activation of layer ``k`` at position ``i``
depends only on the input within ``R_k`` of ``i`` (``R_k`` = cumulative
radius of units ``1..k``).  This gives two exact shortcuts:

- **Reference tiles.**  The reference window of a variant is the genome
  masked outside its transcript; it does not depend on the variant.  One
  pass over a *tile* (the union of the windows of nearby variants) yields
  every reference track in it, and every layer's activations.
- **Cones.**  An alternate sequence differs from the reference only where
  REF is replaced by ALT, so at layer ``k`` its activations differ only
  within ``R_k`` of the change.  Left of that they equal the reference
  activations; right of it they equal the reference activations shifted by
  the length difference ``len(ALT) - len(REF)``.  Only the cone is
  recomputed, and only where later layers need it.

Coordinates here are tile coordinates in *model orientation* (a
minus-strand tile is reverse-complemented before it gets here): position
``j`` of a tile is its ``j``-th input base; a layer-``k`` tensor stores
position ``j`` at index ``j - R_k``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from spliceannot.engine.architecture import UNITS_PER_GROUP
from spliceannot.engine.model import Ensemble, SpliceAI


@dataclass(frozen=True)
class TrackRequest:
    """Reference probabilities of positions ``[start, start + length)`` of tile ``tile``."""

    tile: int
    start: int
    length: int


@dataclass(frozen=True)
class Change:
    """``ref_len`` tile bases from ``offset`` (relative to its substitution's ``start``) replaced by
    ``alt`` (one-hot ``(alt_len, 4)``, model orientation)."""

    offset: int
    ref_len: int
    alt: np.ndarray


@dataclass(frozen=True)
class Substitution:
    """An alternate sequence: tile ``tile`` with ``ref_len`` bases at ``start`` replaced by ``alt``,
    and the further changes ``more`` (a haplotype: several changes, one cone each).

    Attributes
    ----------
    alt
        One-hot ``(alt_len, 4)`` in model orientation.
    output_start
        Alternate-sequence coordinate of the first wanted output; positions
        left of ``start`` keep their tile coordinate, positions right of a
        change are shifted by the length changes (``alt_len - ref_len``) of
        it and every change before it.
    output_length
        Number of wanted outputs.
    more
        Changes right of the first, sorted, not overlapping it or each other.
    """

    tile: int
    start: int
    ref_len: int
    alt: np.ndarray
    output_start: int
    output_length: int
    more: tuple[Change, ...] = ()

    def changes(self) -> list[Change]:
        """Every change, the first at offset 0."""
        return [Change(0, self.ref_len, self.alt), *self.more]

    def layout(self) -> tuple:
        """What substitutions computed together must share: the changes' places and lengths, the outputs."""
        shape = tuple((c.offset, c.ref_len, len(c.alt)) for c in self.changes())
        return (shape, self.output_start - self.start, self.output_length)


@dataclass(frozen=True)
class _Span:
    """Inclusive range of positions relative to the substitution start (empty if lo > hi)."""

    lo: int
    hi: int

    @property
    def empty(self) -> bool:
        return self.lo > self.hi

    @property
    def size(self) -> int:
        return max(0, self.hi - self.lo + 1)

    def __and__(self, other: _Span) -> _Span:
        return _Span(max(self.lo, other.lo), min(self.hi, other.hi))

    def widen(self, by: int) -> _Span:
        return _Span(self.lo - by, self.hi + by)


def _cumulative_radii(model: SpliceAI) -> list[int]:
    radii = [0]
    for radius in model.architecture.unit_radii():
        radii.append(radii[-1] + radius)
    return radii


def _is_skip_layer(layer: int) -> bool:
    return layer % UNITS_PER_GROUP == 0


class ConeRunner:
    """Reference tiles and alternate cones for one ensemble.

    Parameters
    ----------
    ensemble
        The networks (averaged as :class:`~spliceannot.engine.model.Ensemble`
        does); BatchNorm-folded copies of them run here.
    device
        Where to compute.
    batch_size
        Substitutions recomputed together.
    max_positions
        Tiles whose activations are held at once, in total nucleotides (each
        costs ``(units + 1) * 32 * 4`` bytes per nucleotide).
    """

    def __init__(
        self, ensemble: Ensemble, device: torch.device, batch_size: int = 32, max_positions: int = 65_536
    ) -> None:
        self.ensemble = ensemble.for_inference(device)
        self.members = list(self.ensemble.members)
        self.device = device
        self.batch_size = max(1, batch_size)
        self.max_positions = max_positions
        self.flank = ensemble.flank

    def run(
        self,
        tiles: Sequence[np.ndarray],
        requests: Sequence[TrackRequest],
        substitutions: Sequence[Substitution],
    ) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Reference tracks for ``requests`` and alternate tracks for ``substitutions``.

        Parameters
        ----------
        tiles
            One-hot ``(length_i, 4)`` reference sequences, model orientation.

        Returns
        -------
        tuple of lists
            float32 ``(length, columns)`` per request and ``(output_length,
            columns)`` per substitution: the ensemble's output (its members'
            mean, or one selected channel per member).
        """
        ref_sum: list[torch.Tensor | None] = [None] * len(requests)
        alt_sum: list[torch.Tensor | None] = [None] * len(substitutions)
        requests_of: dict[int, list[int]] = defaultdict(list)
        for index, request in enumerate(requests):
            requests_of[request.tile].append(index)
        substitutions_of: dict[int, list[int]] = defaultdict(list)
        for index, sub in enumerate(substitutions):
            substitutions_of[sub.tile].append(index)
        with torch.inference_mode():
            for member_index, member in enumerate(self.members):
                for tile_group in self._tile_groups(tiles):
                    activations, tile_probs = self._reference_pass(member, {i: tiles[i] for i in tile_group})
                    for tile in tile_group:
                        for index in requests_of[tile]:
                            request = requests[index]
                            begin = request.start - self.flank // 2
                            track = tile_probs[tile][:, begin : begin + request.length]
                            ref_sum[index] = self.ensemble.gather(member_index, track, ref_sum[index])
                    geometries: dict[tuple, list[int]] = defaultdict(list)
                    for tile in tile_group:
                        for index in substitutions_of[tile]:
                            sub = substitutions[index]
                            geometries[sub.layout()].append(index)
                    for indices in geometries.values():
                        for first in range(0, len(indices), self.batch_size):
                            batch = indices[first : first + self.batch_size]
                            probs = self._alternate_pass(member, activations, [substitutions[i] for i in batch])
                            for row, index in enumerate(batch):
                                alt_sum[index] = self.ensemble.gather(member_index, probs[row], alt_sum[index])
                    del activations, tile_probs
        finish = self.ensemble.finish
        refs = [finish(t).T.float().cpu().numpy() for t in ref_sum]  # type: ignore[arg-type]
        alts = [finish(t).T.float().cpu().numpy() for t in alt_sum]  # type: ignore[arg-type]
        return refs, alts

    def _tile_groups(self, tiles: Sequence[np.ndarray]) -> list[list[int]]:
        """Consecutive tiles whose activations together stay within ``max_positions``."""
        groups: list[list[int]] = []
        total = 0
        for index, tile in enumerate(tiles):
            if groups and total + len(tile) <= self.max_positions:
                groups[-1].append(index)
                total += len(tile)
            else:
                groups.append([index])
                total = len(tile)
        return groups

    def _reference_pass(
        self, member: SpliceAI, tiles: dict[int, np.ndarray]
    ) -> tuple[dict[int, list[torch.Tensor]], dict[int, torch.Tensor]]:
        """Every layer's activations ``(32, length)`` and the probabilities ``(3, L - flank)`` of each tile."""
        activations = {}
        probabilities = {}
        for tile_id, tile in tiles.items():
            x = torch.from_numpy(np.ascontiguousarray(tile, dtype=np.float32)).to(self.device).T[None]
            layers: list[torch.Tensor] = []
            logits = member(x, activations=layers)
            activations[tile_id] = [layer[0] for layer in layers]
            probabilities[tile_id] = self.ensemble.probabilities(logits)[0]
        return activations, probabilities

    def _alternate_pass(
        self, member: SpliceAI, activations: dict[int, list[torch.Tensor]], batch: Sequence[Substitution]
    ) -> torch.Tensor:
        """Probabilities ``(batch, 3, output_length)`` of substitutions sharing one layout.

        Positions are alternate-sequence coordinates relative to the first
        change.  At layer ``k`` each change's activations differ from the
        reference within ``R_k`` of it; those cones (merged where they meet)
        are recomputed where later layers need them, the rest is the
        reference's, shifted by the length changes left of it.
        """
        radii = _cumulative_radii(member)
        layers = len(member.units)
        first = batch[0]
        changes = first.changes()
        starts = []  # alternate coordinate of each change's first base
        shifts = []  # length change up to and including each change
        total = 0
        for change in changes:
            starts.append(change.offset + total)
            total += len(change.alt) - change.ref_len
            shifts.append(total)
        output = _Span(first.output_start - first.start, first.output_start - first.start + first.output_length - 1)

        def needed(layer: int) -> _Span:
            return output.widen(radii[layers] - radii[layer])

        def changed(layer: int) -> list[_Span]:
            """The cones of ``layer`` that later layers need, merged where they meet."""
            spans = []
            for begin, change in zip(starts, changes):
                span = _Span(begin - radii[layer], begin + len(change.alt) - 1 + radii[layer]) & needed(layer)
                if span.empty:
                    continue
                if spans and span.lo <= spans[-1].hi + 1:
                    spans[-1] = _Span(spans[-1].lo, max(spans[-1].hi, span.hi))
                else:
                    spans.append(span)
            return spans

        def shift_at(position: int) -> int:
            """Length change of the changes wholly left of ``position``."""
            done = [shifts[i] for i, begin in enumerate(starts) if begin + len(changes[i].alt) - 1 < position]
            return done[-1] if done else 0

        def assemble(layer: int, region: _Span, pieces: list[tuple[_Span, torch.Tensor]]) -> torch.Tensor:
            """Alternate activations of ``layer`` over ``region``: recomputed in ``pieces``, reference elsewhere."""
            parts = []
            cursor = region.lo
            for span, tensor in pieces:
                middle = region & span
                if middle.empty:
                    continue
                if cursor < middle.lo:
                    gap = _Span(cursor, middle.lo - 1)
                    parts.append(self._gather(activations, layer, batch, gap, radii[layer], shift_at(cursor)))
                parts.append(tensor[..., middle.lo - span.lo : middle.hi - span.lo + 1])
                cursor = middle.hi + 1
            if cursor <= region.hi:
                gap = _Span(cursor, region.hi)
                parts.append(self._gather(activations, layer, batch, gap, radii[layer], shift_at(cursor)))
            return parts[0] if len(parts) == 1 else torch.cat(parts, dim=-1)

        pieces: list[tuple[_Span, torch.Tensor]] = []
        for index, (begin, change) in enumerate(zip(starts, changes)):
            span = _Span(begin, begin + len(change.alt) - 1) & needed(0)
            if span.empty:
                continue
            bases = np.stack([sub.changes()[index].alt for sub in batch]).astype(np.float32)
            stem = member.stem(torch.from_numpy(bases).to(self.device).transpose(1, 2))
            pieces.append((span, stem[..., span.lo - begin : span.hi - begin + 1]))
        skip = member.stem_skip(assemble(0, output, pieces))
        for layer in range(1, layers + 1):
            unit = member.units[layer - 1]
            pieces = [(span, unit(assemble(layer - 1, span.widen(unit.radius), pieces))) for span in changed(layer)]
            if _is_skip_layer(layer):
                skip = skip + member.group_skips[layer // UNITS_PER_GROUP - 1](assemble(layer, output, pieces))
        return self.ensemble.probabilities(member.head(skip))

    def _gather(
        self,
        activations: dict[int, list[torch.Tensor]],
        layer: int,
        batch: Sequence[Substitution],
        region: _Span,
        radius: int,
        shift: int,
    ) -> torch.Tensor:
        """Reference activations of ``layer`` at ``start + region - shift`` for each substitution."""
        rows = []
        for sub in batch:
            begin = sub.start + region.lo - shift - radius
            rows.append(activations[sub.tile][layer][:, begin : begin + region.size])
        return torch.stack(rows)
