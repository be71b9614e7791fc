"""The lookup server end to end: load the genomes, listen, serve until SIGTERM/SIGINT, stop gracefully.

With ``workers > 1`` this process binds the socket and starts that many
worker processes (``spliceannot serve --http ... --http-fd FD``) that
accept on it, each with its own engine; it forwards SIGTERM/SIGINT to them
and waits.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass

from spliceannot import __version__
from spliceannot.factory import ScorerSpec

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HttpOptions:
    """Where and how the lookup server listens."""

    port: int
    host: str = "127.0.0.1"
    workers: int = 1
    fd: int | None = None  # a socket inherited from the parent (worker processes)
    shutdown_timeout: float = 10.0  # seconds in-flight requests get after SIGTERM


class StartError(Exception):
    """The server could not start; the text is the reason."""


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (``port`` 0: any free port)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        raise StartError(f"cannot listen on {host}:{port}: {error.strerror or error}") from None
    sock.listen(1024)
    sock.set_inheritable(True)
    return sock


def _ready(sock: socket.socket, options: HttpOptions, genomes: list, workers: int) -> dict:
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return {"ready": True, "version": __version__, "http": f"http://{shown}:{port}/", "host": host,
            "port": port, "genomes": genomes, "workers": workers, "pid": os.getpid()}  # fmt: skip


def _announce(message: dict) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def run_http(spec: ScorerSpec, sources: list, options: HttpOptions, limits=None, defaults=None,
             max_scorers: int = 16, worker_argv: list[str] | None = None) -> None:  # fmt: skip
    """Serve lookups until SIGTERM or SIGINT.

    Parameters
    ----------
    spec
        Model and scoring options (its reference/annotation are replaced by each genome's).
    sources
        :class:`~spliceannot.lookup.genomes.GenomeSource` per ``--genome``.
    options
        Host, port, workers.
    limits, defaults
        :class:`~spliceannot.lookup.app.HttpLimits`, :class:`~spliceannot.lookup.app.Defaults`.
    worker_argv
        With ``options.workers > 1``: the command line of a worker, to which
        ``--http-fd FD`` is added.

    Raises
    ------
    StartError
        An input, the model or the address could not be used.
    """
    sock = socket.socket(fileno=options.fd) if options.fd is not None else bind(options.host, options.port)
    if options.workers > 1:
        _supervise(sock, options, worker_argv or [], [s.name for s in sources])
        return
    asyncio.run(_serve(spec, sources, options, sock, limits, defaults, max_scorers))


async def _serve(spec, sources, options: HttpOptions, sock, limits, defaults, max_scorers) -> None:
    from aiohttp import web

    from spliceannot.errors import InputError, ModelError
    from spliceannot.lookup.app import Defaults, HttpLimits, Lookup, make_app
    from spliceannot.lookup.batcher import Batcher
    from spliceannot.lookup.genomes import load_genomes

    limits = limits or HttpLimits()
    batcher = Batcher(max_wait=limits.max_wait, max_batch=limits.max_batch)
    try:
        batcher.genomes = await batcher.call(lambda: load_genomes(sources, spec, max_scorers=max_scorers))
    except (InputError, ModelError, ValueError, OSError) as error:
        batcher.executor.shutdown(wait=False)
        raise StartError(str(error)) from None
    lookup = Lookup(batcher, limits, defaults or Defaults())
    runner = web.AppRunner(make_app(lookup), access_log=None, shutdown_timeout=options.shutdown_timeout,
                           handle_signals=False)  # fmt: skip
    await runner.setup()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        await web.SockSite(runner, sock).start()
        _announce(_ready(sock, options, list(batcher.genomes), 1))
        await stop.wait()
        log.info("stopping: finishing the requests in flight")
    finally:
        await runner.cleanup()


def _supervise(sock: socket.socket, options: HttpOptions, argv: list[str], genomes: list[str]) -> None:
    """Start the workers on the shared socket, announce once all are ready, forward signals, wait."""
    fd = sock.fileno()
    workers = [
        subprocess.Popen([*argv, "--http-fd", str(fd)], pass_fds=(fd,), stdout=subprocess.PIPE, text=True)
        for _ in range(options.workers)
    ]

    def forward(signum, frame) -> None:
        for worker in workers:
            if worker.poll() is None:
                worker.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    for worker in workers:
        line = worker.stdout.readline()
        if not line.startswith('{"ready": true'):
            forward(signal.SIGTERM, None)
            for other in workers:
                other.wait()
            raise StartError("a worker process did not start (see its error above)")
    _announce(_ready(sock, options, genomes, len(workers)))
    sock.close()
    codes = [worker.wait() for worker in workers]
    if any(code not in (0, -signal.SIGTERM, -signal.SIGINT) for code in codes):
        log.warning("worker exit codes: %s", codes)
