"""Scoring and prediction on a Ray cluster (``--engine ray``).

The driver (the ``spliceannot`` process) reads the input, cuts it into
shards, hands the shards to Ray actors and writes the results back in input
order, so the output is byte-identical to a single-process run.  Each actor
loads the model once and keeps it; there is one actor per GPU when the
cluster has GPUs, otherwise a configurable number of CPU actors.

- ``annotate``: each batch of ``--chunk-size`` records is cut into one
  shard per actor, near the even split but between records that share no
  window when such a place is near (they would share reference tiles).
  The driver loads the annotation once (a GTF/GFF3 is parsed there) and
  puts its rows in Ray's object store, from which every actor gets them.
  Actors read the genome, the model and the score cache from the paths
  given on the command line: on a cluster of several machines these paths
  must be readable on every node (a shared filesystem).
- ``predict``: a shard is one batch of chunks of a contig (on the same
  64-position grid as a single-process run), with batches of every strand
  and contig in flight; the driver reads the FASTA and
  sends base codes, actors return probabilities, so only the model needs to
  be reachable from the nodes.

Faults: when an actor process dies (killed, out of memory, node lost) Ray
restarts it and the driver sends its unfinished shards again; results are
only taken once, in order, so no record is lost or written twice.  An
interrupted driver drops its temporary output as a single-process run does.
"""

from __future__ import annotations

import collections
import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from spliceannot.errors import InputError, ModelError
from spliceannot.signals import TERMINATING_SIGNALS

log = logging.getLogger(__name__)

ENGINES = ("local", "ray")
SHARD_RETRIES = 10  # times one shard is sent again after the actor running it died
_OBJECT_STORE_BYTES = 512 * 1024**2  # object store of a local cluster started by the driver


@dataclass(frozen=True)
class RaySettings:
    """How to reach (or start) a Ray cluster and how many actors to run on it.

    Attributes
    ----------
    address
        ``None``: start a local cluster on this machine; ``auto`` or
        ``HOST:PORT`` / ``ray://HOST:PORT``: join that cluster.
    workers
        CPU actors (0 = one per ``threads`` CPUs of the cluster); ignored
        when the cluster has GPUs (one actor per GPU).
    threads
        CPU threads (and Ray CPUs) of each actor.
    device
        ``auto`` (GPUs when the cluster has them), ``cpu`` or ``cuda``.
    """

    address: str | None = None
    workers: int = 0
    threads: int = 1
    device: str = "auto"


class ClusterError(InputError):
    """Ray is missing, or the cluster could not be reached or started (a one-line message)."""


def _ray():
    try:
        import ray
    except ImportError as error:  # pragma: no cover - ray is a dependency
        raise ClusterError("--engine ray needs the ray package: pip install 'spliceannot[ray]'") from error
    return ray


def connect(address: str | None):
    """Join the cluster at ``address`` or start a local one; returns the ``ray`` module."""
    ray = _ray()
    if ray.is_initialized():
        return ray
    os.environ.setdefault("RAY_DEDUP_LOGS", "0")
    options = dict(
        include_dashboard=False,
        log_to_driver=False,
        logging_level=logging.ERROR,
        configure_logging=True,
    )
    if address is None:  # "local": a new cluster, never one another process started
        cpus = len(os.sched_getaffinity(0))
        options.update(address="local", num_cpus=cpus, object_store_memory=_OBJECT_STORE_BYTES)
    else:
        _check_reachable(address)
        options["address"] = address
    handlers = {signum: signal.getsignal(signum) for signum in (*TERMINATING_SIGNALS, signal.SIGINT)}
    try:
        ray.init(**options)
    except (ConnectionError, RuntimeError, ValueError) as error:
        where = f"at {address}" if address else "on this machine"
        message = str(error).splitlines()[0]
        if _authentication_failed(error):
            message += " (the cluster uses token authentication: set RAY_AUTH_MODE=token, with the token in "
            message += "RAY_AUTH_TOKEN or ~/.ray/auth_token)"
        raise ClusterError(f"could not start or reach a Ray cluster {where}: {message}") from None
    if threading.current_thread() is threading.main_thread():
        for signum, handler in handlers.items():  # ray.init replaces them; ours drop partial output
            if handler is not None:
                signal.signal(signum, _recording(handler))
    return ray


_received: list[int] = []  # signals that arrived while this process drove a cluster


def _recording(handler):
    """``handler``, noting the signal first: Ray turns an exception raised inside ``ray.get`` into exit 1."""

    def on_signal(signum, frame):
        _received.append(signum)
        if callable(handler):
            return handler(signum, frame)
        if handler == signal.SIG_IGN:
            return None
        raise SystemExit(128 + signum)

    return on_signal


def _reraise_signal() -> None:
    """Raise what the signal handler meant to, if a signal is why ``ray.get`` exited."""
    if _received:
        signum = _received[-1]
        if signum == signal.SIGINT:
            raise KeyboardInterrupt from None
        raise SystemExit(128 + signum) from None


def _authentication_failed(error: BaseException) -> bool:
    """Whether Ray's token authentication is why connecting failed."""
    seen = error
    while seen is not None:
        if type(seen).__name__ == "AuthenticationError":
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _check_reachable(address: str, timeout: float = 5.0) -> None:
    """Fail fast on a HOST:PORT nobody listens on (``ray.init`` would retry for minutes)."""
    if address == "auto" or "://" in address:
        return
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise ClusterError(f"--ray-address must be auto, HOST:PORT or ray://HOST:PORT, not {address!r}")
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError as error:
        raise ClusterError(f"cannot reach a Ray cluster at {address}: {error.strerror or error}") from None


def disconnect() -> None:
    """Leave the cluster (and stop it when this process started it)."""
    ray = _ray()
    if ray.is_initialized():
        ray.shutdown()


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

    def __init__(self, ray, cls, args: tuple, count: int, resources: dict, in_flight: int = 2) -> None:
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
        joined = not _ray().is_initialized()
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

    def map_ordered(self, items: Iterable, method: str, payload: Callable = lambda item: item) -> Iterator[tuple]:
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
                _reraise_signal()
                raise
            except (RayActorError, WorkerCrashedError) as error:
                tries += 1
                if tries > SHARD_RETRIES:
                    raise ClusterError(f"a shard failed {tries} times: its worker died ({type(error).__name__})") from None
                self.retried += 1
                log.info("a worker died; its shard is sent again (%d retries so far)", self.retried)
                time.sleep(min(2.0, 0.25 * tries))  # let Ray restart the actor
                ref = self._submit(method, data)
        if isinstance(result, _Failure):
            result.raise_()
        return item, result

    def close(self) -> None:
        """Remove the actors; leave the cluster (stopping a local one) if :meth:`start` joined it."""
        for actor in self.actors:
            try:
                self.ray.kill(actor)
            except Exception:  # noqa: BLE001 - best effort at shutdown
                pass
        self.actors = []
        if self._leave:
            self._leave = False
            disconnect()


@dataclass(frozen=True)
class _Failure:
    """An input or model error raised in an actor, sent back to be raised in the driver."""

    kind: str
    message: str

    def raise_(self) -> None:
        raise (ModelError if self.kind == "model" else InputError)(self.message)


def _guarded(function: Callable, *args):
    try:
        return function(*args)
    except ModelError as error:
        return _Failure("model", str(error))
    except (InputError, ValueError) as error:
        return _Failure("input", str(error))


# ----------------------------------------------------------------------------- annotate


class AnnotateWorker:
    """A Ray actor holding a :class:`~spliceannot.annotate.VariantScorer`."""

    def __init__(self, spec, threads: int) -> None:
        self.spec = spec  # a ScorerSpec
        self.threads = threads
        self.scorer = None

    def _score(self, views, annotation: list):
        if self.scorer is None:
            from spliceannot.factory import build_scorer

            self.scorer = build_scorer(self.spec, annotation=_ray().get(annotation[0]))
        return self.scorer.score(views)

    def score(self, shard: tuple):
        """Outcomes of ``shard``: ``(record views, [ObjectRef of the driver's Annotation])``.

        The annotation comes with every shard, as a reference fetched once:
        a constructor argument in the object store would not survive actor
        restarts reliably (ray-project/ray#53727).
        """
        views, annotation = shard
        return _guarded(self._score, views, annotation)

    def cache_counts(self) -> tuple[int, int]:
        """Score-cache ``(hits, misses)`` of this actor so far."""
        cache = None if self.scorer is None else self.scorer.cache
        return (0, 0) if cache is None else (cache.hits, cache.misses)

    def pid(self) -> int:
        return os.getpid()


def genomic_shards(records: Iterable, size: int, gap: int, pieces: int = 1) -> Iterator[list]:
    """Consecutive records, ``size`` at a time, each batch cut into ``pieces`` shards for the actors.

    Each cut is placed near an even split, where the two records around it
    share no window (another contig, or more than ``gap`` bases apart) if
    such a place is near; in a dense stretch it falls at the even split.
    """
    batch: list = []
    for record in records:
        batch.append(record)
        if len(batch) >= size:
            yield from _split(batch, pieces, gap)
            batch = []
    if batch:
        yield from _split(batch, pieces, gap)


def _split(batch: list, pieces: int, gap: int) -> Iterator[list]:
    pieces = max(1, min(pieces, len(batch)))
    reach = len(batch) // (4 * pieces)  # how far a cut may move from the even split
    start = 0
    for k in range(1, pieces):
        even = k * len(batch) // pieces
        cut, best = even, 0
        for i in range(max(start + 1, even - reach), min(len(batch), even + reach + 1)):
            distance = _distance(batch[i - 1], batch[i])
            if distance > gap and distance > best:
                cut, best = i, distance
        if cut > start:
            yield batch[start:cut]
            start = cut
    yield batch[start:]


def _distance(a, b) -> float:
    return float("inf") if a.chrom != b.chrom else abs(b.pos - a.pos)


class RayScoringPool:
    """``annotate``'s scoring on Ray actors (a :class:`~spliceannot.parallel.Pool`)."""

    def __init__(self, spec, ray_settings: RaySettings, gap: int) -> None:
        from dataclasses import replace

        from spliceannot.readers.annotation import load_annotation

        # parsed once, here, before the cluster starts (a bad file fails fast)
        annotation = load_annotation(spec.annotation, transcripts=spec.transcripts)

        def args_for(resources: dict) -> tuple:
            device = "cuda" if resources["num_gpus"] else "cpu" if spec.device == "auto" else spec.device
            self._annotation = _ray().put(annotation)  # one copy, held while the pool lives
            return replace(spec, device=device), ray_settings.threads

        self.gap = gap
        self.pool = ActorPool.start(ray_settings, AnnotateWorker, args_for)
        self.workers = len(self.pool.actors)

    def chunks(self, records: Iterable, size: int) -> Iterator[list]:
        return genomic_shards(records, size, self.gap, self.workers)

    def map_ordered(self, chunks: Iterable[list]) -> Iterator[tuple[list, list]]:
        from spliceannot.annotate import record_views

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


# ----------------------------------------------------------------------------- predict


class PredictWorker:
    """A Ray actor holding a prepared network for ``predict``."""

    def __init__(self, model: str, device: str, tf32: bool, threads: int) -> None:
        self.args = (model, device, tf32, threads)
        self.network = None

    def _run(self, codes):
        if self.network is None:
            from spliceannot.engine._device import set_cpu_threads
            from spliceannot.engine.weights import load_model
            from spliceannot.engine.runner import Network

            model, device, tf32, threads = self.args
            set_cpu_threads(threads)
            self.network = Network(load_model(model), device=device, tf32=tf32)
        return self.network(codes)

    def run(self, codes):
        return _guarded(self._run, codes)


class RayNetwork:
    """Runs :class:`~spliceannot.trainers.predict.Network` batches on Ray actors, in order.

    Has the ``flank`` of the model and a :meth:`map_ordered` that
    :class:`~spliceannot.trainers.predict.GenomePredictor` uses to keep
    several batches in flight.
    """

    def __init__(self, model: str, flank: int, ray_settings: RaySettings, tf32: bool = False) -> None:
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
