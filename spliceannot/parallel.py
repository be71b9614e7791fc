"""Scoring in several worker processes, results in input order.

Each worker loads the genome, annotation and model once and scores whole
chunks of records; the parent reads and writes the VCF.  At most two chunks
per worker are in flight, so memory stays bounded however long the input.
Workers are started with ``spawn`` (torch's thread pools do not survive
``fork``).
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor

_SCORER = None


def _start_worker(settings, threads: int) -> None:
    import torch

    from spliceannot.pipeline import build_scorer

    global _SCORER
    torch.set_num_threads(threads)
    _SCORER = build_scorer(settings)


def _score(views):
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
        """``(chunk, outcomes)`` for each chunk of pysam records, in input order."""
        from spliceannot.annotate import record_view

        pending: deque = deque()
        try:
            for chunk in chunks:
                views = [record_view(r) for r in chunk]
                pending.append((chunk, self._executor.submit(_score, views)))
                if len(pending) >= 2 * self.workers:
                    chunk, future = pending.popleft()
                    yield chunk, future.result()
            while pending:
                chunk, future = pending.popleft()
                yield chunk, future.result()
        finally:
            for _, future in pending:
                future.cancel()

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)
