"""Joining (or starting) a Ray cluster and leaving it, with its settings and errors.

While the driver waits on the cluster, the terminating signals and Ctrl-C
are noted as they arrive: Ray turns an exception raised inside ``ray.get``
into exit 1, and :func:`reraise_signal` raises what the handler meant to.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
from dataclasses import dataclass

from spliceannot.errors import InputError
from spliceannot.signals import TERMINATING_SIGNALS

ENGINES = ("local", "ray")
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


def import_ray():
    """The ``ray`` module; :class:`ClusterError` when it is not installed."""
    try:
        import ray
    except ImportError as error:  # pragma: no cover - ray is a dependency
        raise ClusterError(
            "--engine ray needs the ray package: pip install 'spliceannot[ray]'"
        ) from error
    return ray


def connect(address: str | None):
    """Join the cluster at ``address`` or start a local one; returns the ``ray`` module."""
    ray = import_ray()
    if ray.is_initialized():
        return ray
    os.environ.setdefault("RAY_DEDUP_LOGS", "0")
    options = {
        "include_dashboard": False,
        "log_to_driver": False,
        "logging_level": logging.ERROR,
        "configure_logging": True,
    }
    if address is None:  # "local": a new cluster, never one another process started
        cpus = len(os.sched_getaffinity(0))
        options.update(address="local", num_cpus=cpus, object_store_memory=_OBJECT_STORE_BYTES)
    else:
        _check_reachable(address)
        options["address"] = address
    handlers = {
        signum: signal.getsignal(signum) for signum in (*TERMINATING_SIGNALS, signal.SIGINT)
    }
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


def reraise_signal() -> None:
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
        raise ClusterError(
            f"--ray-address must be auto, HOST:PORT or ray://HOST:PORT, not {address!r}"
        )
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError as error:
        raise ClusterError(
            f"cannot reach a Ray cluster at {address}: {error.strerror or error}"
        ) from None


def disconnect() -> None:
    """Leave the cluster (and stop it when this process started it)."""
    ray = import_ray()
    if ray.is_initialized():
        ray.shutdown()
