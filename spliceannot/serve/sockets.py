"""Serving Unix-socket and TCP connections: the listeners and :class:`SocketServer`."""

from __future__ import annotations

import errno
import logging
import os
import queue
import socket
import stat
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from spliceannot.serve.requests import Request
from spliceannot.serve.responder import Responder, encode, error_reply
from spliceannot.serve.session import READ_SIZE, Session

log = logging.getLogger(__name__)

MAX_CONNECTIONS = 256  # connections served at once; one more gets an error line and is closed
_OUT_OF_DESCRIPTORS = {errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM}
_LISTENER_GONE = {errno.EBADF, errno.EINVAL, errno.ENOTSOCK}
_ACCEPT_BACKOFF = (0.01, 0.5)  # seconds between accept() tries while out of descriptors
_SHORT_EPISODE = 30.0  # seconds: running out of descriptors again within this is the same episode


class _Job:
    def __init__(self, requests: Sequence[Request]) -> None:
        self.requests = requests
        self.replies: list[dict] | None = None
        self.done = threading.Event()


def unix_listener(path: str) -> socket.socket:
    """A listening Unix socket at ``path`` (a stale socket file left by a dead server is replaced).

    Raises
    ------
    OSError
        When ``path`` is in use by a live server, is not a socket, or cannot be bound.
    """
    target = Path(path)
    if target.exists() or target.is_symlink():
        if not stat.S_ISSOCK(target.lstat().st_mode):
            raise OSError(f"{path}: exists and is not a socket")
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            probe.connect(path)
        except OSError:
            target.unlink()  # nobody listens: stale
        else:
            raise OSError(f"{path}: another server is listening there")
        finally:
            probe.close()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        listener.bind(path)
        listener.listen(64)
    except OSError as error:
        listener.close()
        raise OSError(f"{path}: cannot listen ({error.strerror or error})") from None
    return listener


def tcp_listener(port: int) -> socket.socket:
    """A listening TCP socket on 127.0.0.1 (``port`` 0 picks a free port)."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind(("127.0.0.1", port))
        listener.listen(64)
    except OSError as error:
        listener.close()
        raise OSError(f"127.0.0.1:{port}: cannot listen ({error.strerror or error})") from None
    return listener


class SocketServer:
    """Serve every connection of ``listener`` with the same protocol, one thread each.

    Scoring is serialized: connection threads hand their batches to the
    thread that calls :meth:`serve`, which answers them one at a time.
    A ``shutdown`` request on any connection stops the whole server.

    At most ``max_connections`` connections are served at once; one more
    gets a single ``{"ready": false, "error": ...}`` line and is closed.
    When the process runs out of file descriptors, accepting pauses (one
    warning per episode) and resumes once a descriptor is free; waiting
    clients stay in the listener's backlog meanwhile.
    """

    def __init__(
        self,
        responder: Responder,
        listener: socket.socket,
        ready: dict,
        *,
        max_wait: float = 0.005,
        max_batch: int = 256,
        max_connections: int = MAX_CONNECTIONS,
    ) -> None:
        self.responder = responder
        self.listener = listener
        self.ready = ready
        self.max_wait = max_wait
        self.max_batch = max_batch
        self.max_connections = max_connections
        self.jobs: queue.Queue[_Job] = queue.Queue()
        self.stopping = threading.Event()
        self._closed_one = threading.Event()  # a connection ended: a descriptor is free
        self._lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        responder.connections = lambda: len(self._connections)
        name = listener.getsockname()
        #: the socket's path, or its TCP port
        self.address: str | int = name[1] if isinstance(name, tuple) else name

    def serve(self) -> None:
        """Answer batches until a client asks for shutdown, then close everything."""
        accepter = threading.Thread(target=self._accept, name="accept", daemon=True)
        accepter.start()
        try:
            while not self.stopping.is_set():
                try:
                    job = self.jobs.get(timeout=0.1)
                except queue.Empty:
                    continue
                job.replies = self.responder.answer(job.requests)
                job.done.set()
        finally:
            self.close()

    def submit(self, requests: Sequence[Request]) -> list[dict]:
        """Answer ``requests`` in the serving thread (called from connection threads)."""
        job = _Job(requests)
        self.jobs.put(job)
        while not job.done.wait(0.1):
            if self.stopping.is_set():
                break
        if job.replies is None:
            return [
                error_reply(getattr(r, "id", None), "the server is shutting down") for r in requests
            ]
        return job.replies

    def close(self) -> None:
        """Stop accepting, end every connection, remove the socket file."""
        self.stopping.set()
        self._closed_one.set()  # wake the accept loop if it waits for a descriptor
        for action in (lambda: self.listener.shutdown(socket.SHUT_RDWR), self.listener.close):
            try:
                action()
            except OSError:
                pass
        if isinstance(self.address, str) and self.address:
            try:
                os.unlink(self.address)
            except FileNotFoundError:
                pass
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        while True:  # anyone still waiting gets an answer
            try:
                job = self.jobs.get_nowait()
            except queue.Empty:
                break
            job.done.set()

    def _accept(self) -> None:
        delay = 0.0  # seconds to wait before the next try while accept() fails
        short_since = float("-inf")  # when accept() last failed for want of descriptors
        warned = False  # a warning of that episode was logged, and no recovery yet
        while not self.stopping.is_set():
            try:
                connection, _ = self.listener.accept()
            except OSError as error:
                if self.stopping.is_set() or error.errno in _LISTENER_GONE:
                    return
                if error.errno in _OUT_OF_DESCRIPTORS:
                    now = time.monotonic()
                    if now - short_since > _SHORT_EPISODE:
                        log.warning(
                            "out of file descriptors (%s) with %d connections open; "
                            "new connections wait until one closes",
                            error.strerror or error,
                            len(self._connections),
                        )
                        warned = True
                    short_since = now
                elif not delay:  # e.g. a connection aborted before it was accepted
                    log.info("accept failed (%s); trying again", error.strerror or error)
                delay = min(max(2 * delay, _ACCEPT_BACKOFF[0]), _ACCEPT_BACKOFF[1])
                self._closed_one.wait(delay)  # a closing connection frees one at once
                self._closed_one.clear()
                continue
            if warned:
                log.info("accepting connections again")
                warned = False
            delay = 0.0
            with self._lock:
                full = len(self._connections) >= self.max_connections
                if not full:
                    self._connections.add(connection)
            if full:
                self._refuse(connection)
                continue
            threading.Thread(
                target=self._converse, args=(connection,), name="connection", daemon=True
            ).start()

    def _refuse(self, connection: socket.socket) -> None:
        """Tell a connection beyond ``max_connections`` so, and close it."""
        log.info("connection refused: %d open", self.max_connections)
        message = {
            "ready": False,
            "error": f"too many connections ({self.max_connections} open); try again later",
        }
        try:
            connection.settimeout(1.0)
            connection.sendall(encode(message))
            connection.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        finally:
            connection.close()

    def _converse(self, connection: socket.socket) -> None:
        session = Session(
            lambda: connection.recv(READ_SIZE),
            connection.sendall,
            self.responder.parse,
            self.submit,
            max_wait=self.max_wait,
            max_batch=self.max_batch,
            name="connection",
        )
        log.info("connection opened (%d open)", len(self._connections))
        try:
            if self.stopping.is_set():
                return
            if session.run(first=self.ready) == "shutdown":
                self.stopping.set()
        finally:
            log.info("connection closed")
            with self._lock:
                self._connections.discard(connection)
            connection.close()
            self._closed_one.set()
