"""Ray actors of one class, fed shards in order, with their results collected in order.

An actor that dies is restarted by Ray and its unfinished shards are sent
again (up to :data:`SHARD_RETRIES` times each); an input or model error
raised in an actor comes back as a :class:`Failure` and is raised in the
driver.
"""

from __future__ import annotations

import collections
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from spliceannot.cluster.connection import (
    ClusterError,
    RaySettings,
    connect,
    disconnect,
    import_ray,
    reraise_signal,
)
from spliceannot.errors import InputError, ModelError

log = logging.getLogger(__name__)

SHARD_RETRIES = 10  # times one shard is sent again after the actor running it died


def plan_actors(ray, settings: RaySettings) -> tuple[int, dict]:
    """How many actors, and the Ray resources of each, for this cluster."""
    resources = ray.cluster_resources()
    gpus = int(resources.get("GPU", 0))
    if settings.device != "cpu" and gpus > 0:
        return gpus, {"num_cpus": 1, "num_gpus": 1}
    if settings.device.startswith("cuda"):
        raise ClusterError("--device cuda was asked for, but the Ray cluster has no GPU")
    cpus = int(resources.get("CPU", 1))
    threads = max(1, settings.threads)
    workers = settings.workers or max(1, cpus // threads)
    return workers, {"num_cpus": min(threads, max(cpus, 1)), "num_gpus": 0}


class ActorPool:
    """Actors of one class, fed shards in order, with their results collected in order.

    Parameters
    ----------
    ray
        The connected ``ray`` module.
    cls
        The actor class (plain Python; made remote here).
    args
        Constructor arguments of every actor.
    count
        Number of actors.
    resources
        ``num_cpus`` / ``num_gpus`` of each actor.
    in_flight
        Shards sent ahead per actor (bounds the driver's memory).
    """

    def __init__(
        self, ray, cls, args: tuple, count: int, resources: dict, in_flight: int = 2
    ) -> None:
        self.ray = ray
        remote = ray.remote(cls).options(max_restarts=-1, max_task_retries=0, **resources)
        self.actors = [remote.remote(*args) for _ in range(count)]
        self.in_flight = max(1, in_flight) * count
        self.retried = 0
        self._next = 0
        self._leave = False  # whether close() leaves the cluster (start() joined it)

    @classmethod
    def start(cls, settings: RaySettings, actor, args_for: Callable[[dict], tuple]) -> ActorPool:
        """Join (or start) the cluster of ``settings`` and start its actors there.

        ``args_for(resources)`` gives the actors' constructor arguments for
        the resources each gets (``num_gpus`` 1 on a GPU cluster).  The pool
        leaves the cluster on :meth:`close` when this call joined it.
        """
        joined = not import_ray().is_initialized()
        ray = connect(settings.address)
        try:
            count, resources = plan_actors(ray, settings)
            pool = cls(ray, actor, args_for(resources), count, resources)
        except BaseException:
            if joined:
                disconnect()
            raise
        pool._leave = joined
        return pool

    def _submit(self, method: str, item):
        actor = self.actors[self._next % len(self.actors)]
        self._next += 1
        return getattr(actor, method).remote(item)

    def map_ordered(
        self, items: Iterable, method: str, payload: Callable = lambda item: item
    ) -> Iterator[tuple]:
        """``(item, result)`` for each item, in order; ``method`` is called with ``payload(item)``.

        An item whose payload is ``None`` is not sent anywhere: its result is ``None``.
        """
        pending: collections.deque = collections.deque()
        busy = 0  # entries of pending sent to an actor
        for item in items:
            data = payload(item)
            pending.append([item, data, None if data is None else self._submit(method, data), 0])
            busy += data is not None
            while busy >= self.in_flight or (pending and pending[0][2] is None):
                entry = pending.popleft()
                busy -= entry[2] is not None
                yield self._collect(entry, method)
        while pending:
            yield self._collect(pending.popleft(), method)

    def _collect(self, entry: list, method: str) -> tuple:
        from ray.exceptions import RayActorError, WorkerCrashedError

        item, data, ref, tries = entry
        if ref is None:
            return item, None
        while True:
            try:
                result = self.ray.get(ref)
                break
            except (SystemExit, KeyboardInterrupt):
                reraise_signal()
                raise
            except (RayActorError, WorkerCrashedError) as error:
                tries += 1
                if tries > SHARD_RETRIES:
                    raise ClusterError(
                        f"a shard failed {tries} times: its worker died ({type(error).__name__})"
                    ) from None
                self.retried += 1
                log.info("a worker died; its shard is sent again (%d retries so far)", self.retried)
                time.sleep(min(2.0, 0.25 * tries))  # let Ray restart the actor
                ref = self._submit(method, data)
        if isinstance(result, Failure):
            result.raise_()
        return item, result

    def close(self) -> None:
        """Remove the actors; leave the cluster (stopping a local one) if :meth:`start` joined it."""
        for actor in self.actors:
            try:
                self.ray.kill(actor)
            except Exception:  # noqa: BLE001, S110 - best effort at shutdown
                pass
        self.actors = []
        if self._leave:
            self._leave = False
            disconnect()


@dataclass(frozen=True)
class Failure:
    """An input or model error raised in an actor, sent back to be raised in the driver."""

    kind: str
    message: str

    def raise_(self) -> None:
        raise (ModelError if self.kind == "model" else InputError)(self.message)


def guarded(function: Callable, *args):
    """``function(*args)``, or the :class:`Failure` of the input or model error it raised."""
    try:
        return function(*args)
    except ModelError as error:
        return Failure("model", str(error))
    except (InputError, ValueError) as error:
        return Failure("input", str(error))
