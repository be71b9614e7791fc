"""``annotate``'s scoring on Ray actors, each holding a scorer.

The driver parses the annotation once and puts it in Ray's object store;
each actor builds its scorer from the :class:`~spliceannot.factory.ScorerSpec`
and that annotation when its first shard arrives.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator

from spliceannot.cluster.actor_pool import ActorPool, guarded
from spliceannot.cluster.connection import RaySettings, import_ray
from spliceannot.cluster.shards import genomic_shards


class AnnotateWorker:
    """A Ray actor holding a :class:`~spliceannot.annotate.VariantScorer`."""

    def __init__(self, spec, threads: int) -> None:
        self.spec = spec  # a ScorerSpec
        self.threads = threads
        self.scorer = None

    def _score(self, views, annotation: list):
        if self.scorer is None:
            from spliceannot.factory import build_scorer

            self.scorer = build_scorer(self.spec, annotation=import_ray().get(annotation[0]))
        return self.scorer.score(views)

    def score(self, shard: tuple):
        """Outcomes of ``shard``: ``(record views, [ObjectRef of the driver's Annotation])``.

        The annotation comes with every shard, as a reference fetched once:
        a constructor argument in the object store would not survive actor
        restarts reliably (ray-project/ray#53727).
        """
        views, annotation = shard
        return guarded(self._score, views, annotation)

    def cache_counts(self) -> tuple[int, int]:
        """Score-cache ``(hits, misses)`` of this actor so far."""
        cache = None if self.scorer is None else self.scorer.cache
        return (0, 0) if cache is None else (cache.hits, cache.misses)

    def pid(self) -> int:
        return os.getpid()


class RayScoringPool:
    """``annotate``'s scoring on Ray actors (a :class:`~spliceannot.parallel.Pool`)."""

    def __init__(self, spec, ray_settings: RaySettings, gap: int) -> None:
        from dataclasses import replace

        from spliceannot.factory import parent_annotation

        # parsed once, here, before the cluster starts (a bad file fails fast)
        annotation = parent_annotation(spec)

        def args_for(resources: dict) -> tuple:
            device = (
                "cuda" if resources["num_gpus"] else "cpu" if spec.device == "auto" else spec.device
            )
            self._annotation = import_ray().put(annotation)  # one copy, held while the pool lives
            return replace(spec, device=device), ray_settings.threads

        self.gap = gap
        self.pool = ActorPool.start(ray_settings, AnnotateWorker, args_for)
        self.workers = len(self.pool.actors)

    def chunks(self, records: Iterable, size: int) -> Iterator[list]:
        return genomic_shards(records, size, self.gap, self.workers)

    def map_ordered(self, chunks: Iterable[list]) -> Iterator[tuple[list, list]]:
        from spliceannot.stream import record_views

        return self.pool.map_ordered(chunks, "score", lambda chunk: self.shard(record_views(chunk)))

    def shard(self, views: list) -> tuple:
        """What an actor's ``score`` takes: the views and a reference to the annotation."""
        return views, [self._annotation]

    @property
    def retried(self) -> int:
        return self.pool.retried

    def cache_counts(self) -> tuple[int, int]:
        """Score-cache ``(hits, misses)`` summed over the actors."""
        counts = self.pool.ray.get([actor.cache_counts.remote() for actor in self.pool.actors])
        return sum(c[0] for c in counts), sum(c[1] for c in counts)

    def close(self) -> None:
        self.pool.close()
