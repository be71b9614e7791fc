"""``predict``'s network on Ray actors: the driver sends base codes, actors return probabilities."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from spliceannot.cluster.actor_pool import ActorPool, guarded
from spliceannot.cluster.connection import RaySettings


class PredictWorker:
    """A Ray actor holding a prepared network for ``predict``."""

    def __init__(self, model: str, device: str, tf32: bool, threads: int) -> None:
        self.args = (model, device, tf32, threads)
        self.network = None

    def _run(self, codes):
        if self.network is None:
            from spliceannot.engine._device import set_cpu_threads
            from spliceannot.engine.runner import Network
            from spliceannot.engine.weights import load_model

            model, device, tf32, threads = self.args
            set_cpu_threads(threads)
            self.network = Network(load_model(model), device=device, tf32=tf32)
        return self.network(codes)

    def run(self, codes):
        return guarded(self._run, codes)


class RayNetwork:
    """Runs :class:`~spliceannot.trainers.predict.Network` batches on Ray actors, in order.

    Has the ``flank`` of the model and a :meth:`map_ordered` that
    :class:`~spliceannot.trainers.predict.GenomePredictor` uses to keep
    several batches in flight.
    """

    def __init__(
        self, model: str, flank: int, ray_settings: RaySettings, tf32: bool = False
    ) -> None:
        def args_for(resources: dict) -> tuple:
            return model, "cuda" if resources["num_gpus"] else "cpu", tf32, ray_settings.threads

        self.flank = flank
        self.pool = ActorPool.start(ray_settings, PredictWorker, args_for)
        self.workers = len(self.pool.actors)

    def __call__(self, codes):
        return next(self.map_ordered([(None, codes)]))[1]

    def map_ordered(self, items: Iterable[tuple]) -> Iterator[tuple]:
        """``(key, probabilities)`` for ``(key, codes)`` items, in order (``None`` codes: ``None``)."""
        for (key, _), probs in self.pool.map_ordered(items, "run", lambda item: item[1]):
            yield key, probs

    @property
    def retried(self) -> int:
        return self.pool.retried

    def close(self) -> None:
        self.pool.close()
