"""The scorers of a server: one per ``(-D, -M)`` and model, derived from the server's own."""

from __future__ import annotations

import logging
from collections import OrderedDict
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from spliceannot.annotate import VariantScorer
    from spliceannot.pangolin.scorer import PangolinScorer

    Scorer = VariantScorer | PangolinScorer

log = logging.getLogger(__name__)

MAX_SCORERS = 16  # scorers kept for -D/-M other than the server's own (least recently used dropped)


class ScorerSet:
    """One scorer per ``(distance, mask)``, made when first asked for.

    The scorers are SpliceAI's :class:`VariantScorer` or
    :class:`~spliceannot.pangolin.scorer.PangolinScorer` (then ``mask`` is
    Pangolin's ``-m``); a server holds one set per model.

    The server's own scorer (``base``) is always kept; of the others, the
    ``max_scorers`` asked for most recently are kept and the least recently
    used one is dropped (its score cache closed) to make room.  A dropped
    one is made again when asked for, and scores as before.

    Parameters
    ----------
    base
        The scorer of the server's ``-D``/``-M`` (from
        :func:`spliceannot.factory.build_scorer`); it makes the others
        (``derive``), with the same score cache file where it has one.
    model_digest
        The model's digest (part of a score cache's context).
    encoding
        How IUPAC codes are encoded (part of a score cache's context).
    max_scorers
        Most scorers kept besides ``base`` (at least 1).
    name
        What the log calls these scorers (``Pangolin``); empty for SpliceAI's.
    """

    def __init__(
        self,
        base: Scorer,
        *,
        model_digest: str = "",
        encoding: str = "spliceai",
        max_scorers: int = MAX_SCORERS,
        name: str = "",
    ) -> None:
        if max_scorers < 1:
            raise ValueError(f"max_scorers must be at least 1, got {max_scorers}")
        self.base = base
        self.model_digest = model_digest
        self.encoding = encoding
        self.max_scorers = max_scorers
        self._label = f"{name} scorer" if name else "scorer"
        self._base_key = (base.distance, bool(base.mask))
        self._others: OrderedDict[tuple[int, bool], Scorer] = OrderedDict()
        self._dropped_hits = 0  # cache counters of the scorers dropped so far
        self._dropped_misses = 0

    def get(self, distance: int, mask: bool) -> Scorer:
        key = (distance, bool(mask))
        if key == self._base_key:
            return self.base
        if key in self._others:
            self._others.move_to_end(key)
            return self._others[key]
        # the base scorer owns the geometry and makes one for this -D/-M, sharing its model
        scorer = self.base.derive(distance=distance, mask=mask, cache=self._cache(distance, mask))
        log.info("%s for -D %d -M %d ready", self._label, distance, int(mask))
        while len(self._others) >= self.max_scorers:
            self._drop(*self._others.popitem(last=False))
        self._others[key] = scorer
        return scorer

    def _drop(self, key: tuple[int, bool], scorer: Scorer) -> None:
        cache = getattr(scorer, "cache", None)
        if cache is not None:
            self._dropped_hits += cache.hits
            self._dropped_misses += cache.misses
            cache.close()
        log.info(
            "%s for -D %d -M %d dropped (least recently used)", self._label, key[0], int(key[1])
        )

    def loaded(self) -> list[tuple[int, bool]]:
        """The ``(distance, mask)`` of the scorers held now."""
        return sorted([self._base_key, *self._others])

    def cache_counts(self) -> tuple[int, int] | None:
        """Score-cache hits and misses of every scorer made so far; None without a cache."""
        if getattr(self.base, "cache", None) is None:
            return None  # then no other scorer has one either
        held = (getattr(s, "cache", None) for s in (self.base, *self._others.values()))
        caches = [cache for cache in held if cache is not None]
        return (
            self._dropped_hits + sum(cache.hits for cache in caches),
            self._dropped_misses + sum(cache.misses for cache in caches),
        )

    def _cache(self, distance: int, mask: bool):
        """The base scorer's cache file, in the context of this ``-D``/``-M``; None without one."""
        base_cache = getattr(self.base, "cache", None)
        if base_cache is None or not self.model_digest:
            return None
        from spliceannot.cache import EntryCache, ScoreCache
        from spliceannot.pangolin.scorer import PangolinScorer

        if isinstance(self.base, PangolinScorer):  # whole values; the context names every setting
            kind, own = EntryCache, self.base.context()
            wanted = self.base.derive(distance=distance, mask=mask).context()
        else:
            kind, own = ScoreCache, self._context(self.base.distance, self.base.mask)
            wanted = self._context(distance, mask)
        if own != base_cache.context:
            log.warning(
                "cannot rebuild the score cache's context; -D %d -M %d is not cached",
                distance,
                mask,
            )
            return None
        return kind(base_cache.path, wanted)

    def _context(self, distance: int, mask: bool) -> str:
        """The SpliceAI score cache's context of this ``-D``/``-M``."""
        from spliceannot.cache import context_digest

        return context_digest(
            model=self.model_digest,
            annotation=self.base.annotation.digest(),
            distance=distance,
            mask=mask,
            encoding=self.encoding,
        )
