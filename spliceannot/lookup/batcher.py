"""Gathering the lookups that arrive together into one engine call, off the event loop.

Every request handler awaits :meth:`Batcher.submit`.  One task takes the
first waiting query, waits up to ``max_wait`` seconds for more (at most
``max_batch``), and hands them to the engine thread together.  All scoring,
plotting and score-cache access runs in that one thread (a SQLite
connection belongs to the thread that made it), so the genomes are loaded
there too (:meth:`Batcher.call`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from spliceannot.lookup.engine import Answer, Query, answer_batch

log = logging.getLogger(__name__)


class Batcher:
    """Queues lookups and answers them in batches in one engine thread.

    Parameters
    ----------
    max_wait
        Seconds to wait, after a query arrives, for others to batch with it.
    max_batch
        Most queries in one engine call.
    """

    def __init__(self, *, max_wait: float = 0.005, max_batch: int = 256) -> None:
        self.max_wait = max_wait
        self.max_batch = max_batch
        self.genomes: Mapping[str, Any] = {}
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="spliceannot-engine")
        self._queue: asyncio.Queue | None = None
        self._task: asyncio.Task | None = None
        self.batches = 0
        self.queries = 0

    async def call(self, function: Callable, *args) -> Any:
        """Run ``function(*args)`` in the engine thread (loading genomes, drawing plots)."""
        return await asyncio.get_running_loop().run_in_executor(self.executor, function, *args)

    def start(self) -> None:
        self._queue = asyncio.Queue()
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        self.executor.shutdown(wait=True, cancel_futures=True)

    async def submit(self, query: Query) -> Answer:
        """The answer to ``query``; raises what scoring it raised."""
        future = asyncio.get_running_loop().create_future()
        await self._queue.put((query, future))
        result = await future
        if isinstance(result, Exception):
            raise result
        return result

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            batch = [await self._queue.get()]
            deadline = loop.time() + self.max_wait
            while len(batch) < self.max_batch:
                if not self._queue.empty():
                    batch.append(self._queue.get_nowait())
                    continue
                left = deadline - loop.time()
                if left <= 0:
                    break
                getter = loop.create_task(self._queue.get())
                done, _ = await asyncio.wait({getter}, timeout=left)
                if getter in done:
                    batch.append(getter.result())
                    continue
                getter.cancel()  # an item it took just before the cancel is kept, not lost
                try:
                    batch.append(await getter)
                except asyncio.CancelledError:
                    if _being_cancelled():  # the batcher itself is stopping
                        raise
                break
            live = [(query, future) for query, future in batch if not future.done()]
            if not live:
                continue
            self.batches += 1
            self.queries += len(live)
            try:
                results: Sequence = await self.call(answer_batch, self.genomes, [q for q, _ in live])
            except Exception as error:
                log.exception("a batch of %d lookups failed", len(live))
                results = [error] * len(live)
            for (_, future), result in zip(live, results):
                if not future.done():
                    future.set_result(result)


def _being_cancelled() -> bool:
    """Whether the running task has been asked to stop (Python 3.11+ can tell; else assume so)."""
    task = asyncio.current_task()
    cancelling = getattr(task, "cancelling", None)
    return True if cancelling is None else bool(cancelling())
