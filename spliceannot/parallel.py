"""Scoring in several worker processes, results in input order.

The parent loads the annotation once (a GTF/GFF3 is parsed here, not in
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

_SCORER = None
_SETTINGS = None
_ANNOTATION = None


def _start_worker(settings, threads: int, annotation) -> None:
    import torch

    global _SETTINGS, _ANNOTATION
    torch.set_num_threads(threads)
    _SETTINGS, _ANNOTATION = settings, annotation


def _score(views):
    # Loaded on first use, so that a bad input is reported as an exception
    # of the first chunk (re-raised in the parent) rather than a broken pool.
    global _SCORER
    if _SCORER is None:
        from spliceannot.pipeline import build_scorer

        _SCORER = build_scorer(_SETTINGS, annotation=_ANNOTATION)
    return _SCORER.score(views)


class ScoringPool:
    """Worker processes that each hold a :class:`~spliceannot.annotate.VariantScorer`.

    The annotation is loaded here, in the calling process (a bad one raises
    :class:`~spliceannot.errors.InputError` before any worker starts), and
    its rows are sent to each worker once.

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
        from spliceannot.readers.annotation import load_annotation

        self.workers = workers
        annotation = load_annotation(settings.annotation, transcripts=settings.transcripts)
        self._executor = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_worker,
            initargs=(settings, threads, annotation),
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
                views = [record_view(item.record) for item in chunk]
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
