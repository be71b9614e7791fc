"""Scoring in several worker processes, results in input order.

Each worker loads the genome, annotation and model once and scores pieces
of chunks of records; the parent reads and writes the VCF.  At most two chunks
are in flight, so memory stays bounded however long the input.
Workers are started with ``spawn`` (torch's thread pools do not survive
``fork``).
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor

_SCORER = None
_SETTINGS = None


def _start_worker(settings, threads: int) -> None:
    import torch

    global _SETTINGS
    torch.set_num_threads(threads)
    _SETTINGS = settings


def _score(views):
    # Loaded on first use, so that a bad input is reported as an exception
    # of the first chunk (re-raised in the parent) rather than a broken pool.
    global _SCORER
    if _SCORER is None:
        from spliceannot.pipeline import build_scorer

        _SCORER = build_scorer(_SETTINGS)
    return _SCORER.score(views)


class ScoringPool:
    """Worker processes that each hold a :class:`~spliceannot.annotate.VariantScorer`.

    Parameters
    ----------
    settings
        :class:`~spliceannot.pipeline.AnnotateSettings` for every worker.
    workers
        Number of processes.
    threads
        CPU threads per process.
    """

    def __init__(self, settings, workers: int, threads: int = 1) -> None:
        self.workers = workers
        self._executor = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_worker,
            initargs=(settings, threads),
        )

    def map_ordered(self, chunks: Iterable[list]) -> Iterator[tuple[list, list]]:
        """``(chunk, outcomes)`` for each chunk of pysam records, in input order.

        Each chunk is cut into one contiguous piece per worker, so that all
        workers are busy even on a short input and each piece keeps nearby
        variants together (they share reference tiles).
        """
        from spliceannot.annotate import record_view

        pending: deque = deque()
        try:
            for chunk in chunks:
                views = [record_view(r) for r in chunk]
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
