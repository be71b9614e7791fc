"""Scoring pools: the protocol ``annotate`` drives, in this process or in several worker processes.

Every pool (:class:`InProcessPool`, :class:`ScoringPool` here, and
:class:`~spliceannot.cluster.annotate_pool.RayScoringPool` on a Ray cluster) has the
same four members (:class:`Pool`), so the annotator never asks which one it
has.

In :class:`ScoringPool` the parent loads the annotation once (a GTF/GFF3 is parsed here, not in
every worker) and hands its rows to the workers as they start; each worker
opens the genome and loads the model once and scores pieces of chunks of
records; the parent reads and writes the VCF.  At most two chunks
are in flight, so memory stays bounded however long the input.
Workers are started with ``spawn`` (torch's thread pools do not survive
``fork``).
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import Protocol


class Pool(Protocol):
    """What ``annotate`` needs of a pool of scorers."""

    retried: int  # shards sent again after the worker running them died

    def chunks(self, records: Iterable, size: int) -> Iterator[list]:
        """Cut the stream of input records into the chunks this pool scores together."""

    def map_ordered(self, chunks: Iterable[list]) -> Iterator[tuple[list, list]]:
        """``(chunk, outcomes)`` per chunk, in input order."""

    def close(self) -> None:
        """Stop the workers (a pool that holds none does nothing)."""


class InProcessPool:
    """One scorer in this process: chunks scored as they come."""

    retried = 0

    def __init__(self, scorer) -> None:
        self.scorer = scorer

    def chunks(self, records: Iterable, size: int) -> Iterator[list]:
        from spliceannot.stream import chunked

        return chunked(records, size)

    def map_ordered(self, chunks: Iterable[list]) -> Iterator[tuple[list, list]]:
        from spliceannot.stream import record_views

        return ((chunk, self.scorer.score(record_views(chunk))) for chunk in chunks)

    def close(self) -> None:
        pass

_SCORER = None
_SPEC = None
_ANNOTATION = None


def _start_worker(spec, threads: int, annotation) -> None:
    import torch

    global _SPEC, _ANNOTATION
    torch.set_num_threads(threads)
    _SPEC, _ANNOTATION = spec, annotation


def _score(views):
    # Loaded on first use, so that a bad input is reported as an exception
    # of the first chunk (re-raised in the parent) rather than a broken pool.
    global _SCORER
    if _SCORER is None:
        from spliceannot.factory import build_scorer

        _SCORER = build_scorer(_SPEC, annotation=_ANNOTATION)
    return _SCORER.score(views)


class ScoringPool:
    """Worker processes that each hold a :class:`~spliceannot.annotate.VariantScorer` (a :class:`Pool`).

    The annotation is loaded here, in the calling process (a bad one raises
    :class:`~spliceannot.errors.InputError` before any worker starts), and
    its rows are sent to each worker once.

    Parameters
    ----------
    spec
        :class:`~spliceannot.factory.ScorerSpec` of every worker.
    workers
        Number of processes.
    threads
        CPU threads per process.
    """

    retried = 0

    def __init__(self, spec, workers: int, threads: int = 1) -> None:
        from spliceannot.factory import parent_annotation

        self.workers = workers
        annotation = parent_annotation(spec)
        self._executor = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_worker,
            initargs=(spec, threads, annotation),
        )

    def chunks(self, records: Iterable, size: int) -> Iterator[list]:
        from spliceannot.stream import chunked

        return chunked(records, size)

    def map_ordered(self, chunks: Iterable[list]) -> Iterator[tuple[list, list]]:
        """``(chunk, outcomes)`` for each chunk of pysam records, in input order.

        Each chunk is cut into one contiguous piece per worker, so that all
        workers are busy even on a short input and each piece keeps nearby
        variants together (they share reference tiles).
        """
        from spliceannot.stream import record_views

        pending: deque = deque()
        try:
            for chunk in chunks:
                views = record_views(chunk)
                step = -(-len(views) // self.workers)
                futures = [self._executor.submit(_score, views[i : i + step]) for i in range(0, len(views), step)]
                pending.append((chunk, futures))
                if len(pending) >= 2:
                    yield self._collect(pending.popleft())
            while pending:
                yield self._collect(pending.popleft())
        finally:
            for _, futures in pending:
                for future in futures:
                    future.cancel()

    @staticmethod
    def _collect(item: tuple[list, list]) -> tuple[list, list]:
        chunk, futures = item
        outcomes = []
        for future in futures:
            outcomes.extend(future.result())
        return chunk, outcomes

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)
