"""A long-running scorer that speaks JSON lines (``spliceannot serve``).

The genome, the annotation and the model are loaded once; clients send one
JSON object per line and get one line back per request, in order.  The
protocol is documented in ``docs/serve.md``.  Pieces, from the inside out:

- :func:`parse_request`: one line of text -> a :class:`ScoreRequest`, a
  :class:`ControlRequest` or a :class:`BadRequest` (pure);
- :class:`Responder`: answers a batch of parsed requests, scoring all of a
  batch's variants in one :meth:`VariantScorer.score` call per ``(-D, -M)``;
- :class:`Session`: one conversation (stdin/stdout or one connection): a
  reader thread splits the byte stream into lines, the session gathers the
  lines that arrive together into batches and writes the answers;
- :func:`serve_stdio` and :class:`SocketServer`: the two ways to run.

Scoring always runs in the thread that built the scorers (the main thread),
so thread-bound resources (a SQLite score cache) stay in their thread.
"""

from __future__ import annotations

import copy
import errno
import json
import logging
import os
import queue
import socket
import stat
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spliceannot import __version__
from spliceannot.annotate import Record, VariantScorer
from spliceannot.factory import MAX_DISTANCE
from spliceannot.outcome import Outcome

log = logging.getLogger(__name__)

_NO_ID = object()  # a control request sent without "id"
_EOF = object()  # the end of a session's input
_READ_SIZE = 1 << 16
MAX_LINE = 1 << 20  # longest request line, in bytes; longer ones get an error reply
_TOO_LONG = object()  # stands for a line longer than MAX_LINE
_INBOX_LINES = 4096  # lines read ahead of scoring; a faster client waits (back-pressure)
MAX_SCORERS = 16  # scorers kept for -D/-M other than the server's own (least recently used dropped)
MAX_CONNECTIONS = 256  # connections served at once; one more gets an error line and is closed
_OUT_OF_DESCRIPTORS = {errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM}
_LISTENER_GONE = {errno.EBADF, errno.EINVAL, errno.ENOTSOCK}
_ACCEPT_BACKOFF = (0.01, 0.5)  # seconds between accept() tries while out of descriptors
_SHORT_EPISODE = 30.0  # seconds: running out of descriptors again within this is the same episode


# --------------------------------------------------------------------------- requests


@dataclass(frozen=True)
class ScoreRequest:
    """Score ``record`` with ``-D distance`` and ``-M mask``; ``id`` is echoed."""

    id: Any
    record: Record
    distance: int
    mask: bool


@dataclass(frozen=True)
class ControlRequest:
    """``{"op": "health"}`` or ``{"op": "shutdown"}``."""

    op: str
    id: Any = _NO_ID


@dataclass(frozen=True)
class BadRequest:
    """A line that is not a valid request; ``error`` is one line of text."""

    id: Any
    error: str


Request = ScoreRequest | ControlRequest | BadRequest
CONTROL_OPS = ("health", "shutdown")


class _Invalid(ValueError):
    pass


def _reject_constant(name: str) -> None:
    raise _Invalid(f"{name} is not valid JSON")


def _shown(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _chrom(value: Any) -> str:
    if _is_int(value) and value >= 0:
        return str(value)
    if not isinstance(value, str) or not value or any(c.isspace() for c in value):
        raise _Invalid(f"chrom: expected a contig name, got {_shown(value)}")
    return value


def _alleles(value: Any) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    alts: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise _Invalid(f"alt: expected a string or a list of strings, got {_shown(value)}")
        alts.extend(item.split(","))
    if not alts or any(not a or any(c.isspace() or c in "|;=" for c in a) for a in alts):
        raise _Invalid(f"alt: expected one or more alleles, got {_shown(value)}")
    return tuple(alts)


def parse_request(line: str | bytes, *, distance: int, mask: bool) -> Request:
    """Parse one request line.

    Parameters
    ----------
    line
        One line of the input, without its newline.
    distance, mask
        The server's ``-D`` and ``-M``, used when the request does not
        override them.

    Returns
    -------
    ScoreRequest, ControlRequest or BadRequest
        Never raises on bad input: what is wrong comes back as a
        :class:`BadRequest` (with the request's id when it could be read).
    """
    try:
        message = json.loads(line, parse_constant=_reject_constant)
    except _Invalid as error:
        return BadRequest(None, str(error))
    except ValueError:  # JSONDecodeError, UnicodeDecodeError
        return BadRequest(None, "not a JSON object: the line is not valid JSON")
    except RecursionError:
        return BadRequest(None, "not a JSON object: nested too deeply")
    if not isinstance(message, dict):
        return BadRequest(None, f"not a JSON object: got {_shown(message)}")
    ident = message.get("id")
    try:
        if "op" in message:
            op = message["op"]
            if op not in CONTROL_OPS:
                raise _Invalid(f"op: expected one of {', '.join(CONTROL_OPS)}, got {_shown(op)}")
            return ControlRequest(op, message.get("id", _NO_ID))
        missing = [key for key in ("chrom", "pos", "ref", "alt") if key not in message]
        if missing:
            raise _Invalid(f"missing field{'s' if len(missing) > 1 else ''}: {', '.join(missing)}")
        pos = message["pos"]
        if not _is_int(pos) or pos < 1:
            raise _Invalid(f"pos: expected an integer >= 1, got {_shown(pos)}")
        ref = message["ref"]
        if not isinstance(ref, str) or not ref.isascii() or not ref.isalpha():
            raise _Invalid(f"ref: expected bases (letters), got {_shown(ref)}")
        wanted_distance = message.get("distance", distance)
        if not _is_int(wanted_distance) or not 0 <= wanted_distance <= MAX_DISTANCE:
            raise _Invalid(
                f"distance: expected an integer from 0 to {MAX_DISTANCE}, "
                f"got {_shown(wanted_distance)}"
            )
        wanted_mask = message.get("mask", int(mask))
        if wanted_mask not in (0, 1) or isinstance(wanted_mask, float):
            raise _Invalid(f"mask: expected 0 or 1, got {_shown(wanted_mask)}")
        record = Record(_chrom(message["chrom"]), pos, ref, _alleles(message["alt"]))
        return ScoreRequest(ident, record, wanted_distance, bool(wanted_mask))
    except _Invalid as error:
        return BadRequest(ident, str(error))


# --------------------------------------------------------------------------- scorers


def derive_scorer(base: VariantScorer, *, distance: int, mask: bool, cache=None) -> VariantScorer:
    """A scorer with another ``-D``/``-M`` that shares ``base``'s genome, annotation and model.

    The new scorer gets its own window geometry, the score ``cache`` given
    (one whose context names this ``-D``/``-M``; None: no cache) and no
    precomputed scores (those files hold scores of one ``-D``/``-M``).

    Raises
    ------
    TypeError
        When ``base``'s track source cannot be re-targeted to another window.
    """
    from spliceannot.windows import WindowGeometry

    if not hasattr(base.tracks, "geometry"):
        raise TypeError(f"{type(base.tracks).__name__} has no window geometry to change")
    geometry = WindowGeometry(flank=base.geometry.flank, distance=distance)
    tracks = copy.copy(base.tracks)  # shares the reference and the model runner
    tracks.geometry = geometry
    return VariantScorer(
        base.reference,
        base.annotation,
        tracks,
        geometry=geometry,
        mask=mask,
        precision=base.precision,
        cache=cache,
        model_digest=base.model_digest,
    )


class ScorerSet:
    """One :class:`VariantScorer` per ``(distance, mask)``, made when first asked for.

    The server's own scorer (``base``) is always kept; of the others, the
    ``max_scorers`` asked for most recently are kept and the least recently
    used one is dropped (its score cache closed) to make room.  A dropped
    one is made again when asked for, and scores as before.

    Parameters
    ----------
    base
        The scorer of the server's ``-D``/``-M`` (from
        :func:`spliceannot.factory.build_scorer`).
    model_digest
        The model's digest (part of a score cache's context).
    encoding
        How IUPAC codes are encoded (part of a score cache's context).
    max_scorers
        Most scorers kept besides ``base`` (at least 1).
    """

    def __init__(
        self,
        base: VariantScorer,
        *,
        model_digest: str = "",
        encoding: str = "spliceai",
        max_scorers: int = MAX_SCORERS,
    ) -> None:
        if max_scorers < 1:
            raise ValueError(f"max_scorers must be at least 1, got {max_scorers}")
        self.base = base
        self.model_digest = model_digest
        self.encoding = encoding
        self.max_scorers = max_scorers
        self._base_key = (base.distance, bool(base.mask))
        self._others: OrderedDict[tuple[int, bool], VariantScorer] = OrderedDict()
        self._dropped_hits = 0  # cache counters of the scorers dropped so far
        self._dropped_misses = 0

    def get(self, distance: int, mask: bool) -> VariantScorer:
        key = (distance, bool(mask))
        if key == self._base_key:
            return self.base
        if key in self._others:
            self._others.move_to_end(key)
            return self._others[key]
        scorer = derive_scorer(
            self.base, distance=distance, mask=mask, cache=self._cache(distance, mask)
        )
        log.info("scorer for -D %d -M %d ready", distance, int(mask))
        while len(self._others) >= self.max_scorers:
            self._drop(*self._others.popitem(last=False))
        self._others[key] = scorer
        return scorer

    def _drop(self, key: tuple[int, bool], scorer: VariantScorer) -> None:
        cache = getattr(scorer, "cache", None)
        if cache is not None:
            self._dropped_hits += cache.hits
            self._dropped_misses += cache.misses
            cache.close()
        log.info("scorer for -D %d -M %d dropped (least recently used)", key[0], int(key[1]))

    def loaded(self) -> list[tuple[int, bool]]:
        """The ``(distance, mask)`` of the scorers held now."""
        return sorted([self._base_key, *self._others])

    def cache_counts(self) -> tuple[int, int] | None:
        """Score-cache hits and misses of every scorer made so far; None without a cache."""
        if getattr(self.base, "cache", None) is None:
            return None  # then no other scorer has one either
        held = (getattr(s, "cache", None) for s in (self.base, *self._others.values()))
        caches = [cache for cache in held if cache is not None]
        return (
            self._dropped_hits + sum(cache.hits for cache in caches),
            self._dropped_misses + sum(cache.misses for cache in caches),
        )

    def _cache(self, distance: int, mask: bool):
        """The base scorer's cache file, in the context of this ``-D``/``-M``; None without one."""
        base_cache = getattr(self.base, "cache", None)
        if base_cache is None or not self.model_digest:
            return None
        from spliceannot.cache import ScoreCache, context_digest

        def context(distance: int, mask: bool) -> str:
            return context_digest(
                model=self.model_digest,
                annotation=self.base.annotation.digest(),
                distance=distance,
                mask=mask,
                encoding=self.encoding,
            )

        if context(self.base.distance, self.base.mask) != base_cache.context:
            log.warning(
                "cannot rebuild the score cache's context; -D %d -M %d is not cached",
                distance,
                mask,
            )
            return None
        return ScoreCache(base_cache.path, context(distance, mask))


# --------------------------------------------------------------------------- answering


def _outcome_reply(ident: Any, outcome: Outcome) -> dict:
    if outcome.reason is not None:
        return {"id": ident, "scores": [], "reason": outcome.reason}
    return {"id": ident, "scores": list(outcome.entries), "reason": None}


def _error_reply(ident: Any, message: str) -> dict:
    lines = str(message).strip().splitlines()
    return {"id": ident, "error": lines[0] if lines else "internal error"}


class Responder:
    """Answers batches of requests; keeps the counters that ``health`` reports.

    Parameters
    ----------
    scorers
        The scorers, by ``(distance, mask)``.
    distance, mask
        The server's ``-D`` and ``-M`` (for requests that do not set them).
    """

    def __init__(self, scorers: ScorerSet, *, distance: int, mask: bool) -> None:
        self.scorers = scorers
        self.distance = distance
        self.mask = mask
        self.started = time.monotonic()
        self.served = 0
        self.scored = 0
        self.unscored = 0
        self.errors = 0
        self.batches = 0
        self.connections: Callable[[], int] | None = None

    def parse(self, line: bytes) -> Request:
        return parse_request(line, distance=self.distance, mask=self.mask)

    def answer(self, requests: Sequence[Request]) -> list[dict]:
        """One reply per request, in order; each ``(-D, -M)``'s variants are scored together."""
        groups: dict[tuple[int, bool], list[int]] = {}
        for index, request in enumerate(requests):
            if isinstance(request, ScoreRequest):
                groups.setdefault((request.distance, request.mask), []).append(index)
        results: dict[int, Outcome | str] = {}
        for (distance, mask), members in groups.items():
            records = [requests[i].record for i in members]  # type: ignore[union-attr]
            results.update(zip(members, self._score(distance, mask, records)))
        if groups:
            self.batches += 1
        replies = []
        for index, request in enumerate(requests):
            if isinstance(request, ControlRequest):
                replies.append(self.control(request))
                continue
            self.served += 1
            result = results.get(index)
            if isinstance(request, BadRequest) or isinstance(result, str):
                self.errors += 1
                error = request.error if isinstance(request, BadRequest) else result
                replies.append(_error_reply(request.id, error))
            else:
                self.scored += result.reason is None
                self.unscored += result.reason is not None
                replies.append(_outcome_reply(request.id, result))
        return replies

    def _score(self, distance: int, mask: bool, records: list[Record]) -> list[Outcome | str]:
        """Outcomes, or an error text per record that could not be scored."""
        try:
            scorer = self.scorers.get(distance, mask)
        except Exception as error:  # noqa: BLE001 - answered, never fatal
            text = (
                f"-D {distance} -M {int(mask)} is not available on this server ({error}); "
                f"use -D {self.distance} -M {int(self.mask)}"
            )
            return [text] * len(records)
        try:
            return list(scorer.score(records))
        except Exception:  # find the record that fails, score the others
            log.exception("a batch of %d failed; scoring its records one by one", len(records))
        results: list[Outcome | str] = []
        for record in records:
            try:
                results.extend(scorer.score([record]))
            except Exception as error:
                log.exception("scoring %s:%d failed", record.chrom, record.pos)
                results.append(f"internal error while scoring: {type(error).__name__}: {error}")
        return results

    def control(self, request: ControlRequest) -> dict:
        reply: dict[str, Any] = {"op": request.op}
        if request.id is not _NO_ID:
            reply["id"] = request.id
        if request.op == "shutdown":
            reply["status"] = "bye"
            return reply
        reply.update(
            status="ok",
            served=self.served,
            scored=self.scored,
            unscored=self.unscored,
            errors=self.errors,
            batches=self.batches,
            uptime_s=round(time.monotonic() - self.started, 3),
            scorers=[[d, int(m)] for d, m in self.scorers.loaded()],
        )
        counts = self.scorers.cache_counts()
        if counts is not None:
            reply["cache_hits"], reply["cache_misses"] = counts
        if self.connections is not None:
            reply["connections"] = self.connections()
        return reply


def ready_message(
    *, model: str, digest: str, annotation: str, distance: int, mask: bool, **extra: Any
) -> dict:
    """The first line a client reads."""
    message = {
        "ready": True,
        "version": __version__,
        "model": model,
        "model_digest": digest,
        "annotation": annotation,
        "distance": distance,
        "mask": int(mask),
    }
    message.update(extra)
    return message


def encode(message: dict) -> bytes:
    return (json.dumps(message) + "\n").encode()


# --------------------------------------------------------------------------- sessions


def _read_lines(read: Callable[[], bytes], inbox: queue.Queue) -> None:
    """Split a byte stream into lines for ``inbox``; ``_EOF`` at the end (reader thread)."""
    pending = b""
    skipping = False  # inside a line longer than MAX_LINE: drop bytes up to its newline
    try:
        while True:
            chunk = read()
            if not chunk:
                break
            if skipping:
                cut = chunk.find(b"\n")
                if cut < 0:
                    continue
                skipping, chunk = False, chunk[cut + 1 :]
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                inbox.put(line if len(line) <= MAX_LINE else _TOO_LONG)
            if len(pending) > MAX_LINE:
                inbox.put(_TOO_LONG)
                pending, skipping = b"", True
    except OSError:
        pass
    if pending:
        inbox.put(pending)
    inbox.put(_EOF)


class Session:
    """One conversation: requests in on ``read``, replies out on ``write``.

    Parameters
    ----------
    read
        Returns the next bytes of input, ``b""`` at the end (called in a
        reader thread).
    write
        Sends bytes (raises OSError when the peer is gone).
    parse
        One line -> a request.
    answer
        A batch of requests -> their replies, in order.
    max_wait
        Seconds to wait after a batch's first line for more.
    max_batch
        Most requests per batch.
    """

    def __init__(
        self,
        read: Callable[[], bytes],
        write: Callable[[bytes], None],
        parse: Callable[[bytes], Request],
        answer: Callable[[Sequence[Request]], list[dict]],
        *,
        max_wait: float = 0.005,
        max_batch: int = 256,
        name: str = "session",
    ) -> None:
        self.write = write
        self.parse = parse
        self.answer = answer
        self.max_wait = max_wait
        self.max_batch = max_batch
        self.inbox: queue.Queue = queue.Queue(maxsize=_INBOX_LINES)
        self.reader = threading.Thread(
            target=_read_lines, args=(read, self.inbox), name=f"{name}-reader", daemon=True
        )

    def run(self, first: dict | None = None) -> str:
        """Converse until the input ends, a shutdown or the peer leaves.

        Returns ``"eof"``, ``"shutdown"`` or ``"gone"``.
        """
        try:
            if first is not None:
                self.write(encode(first))
            self.reader.start()
            while True:
                batch, ended = self._next_batch()
                if batch:
                    replies = self.answer(batch)
                    self.write(b"".join(encode(reply) for reply in replies))
                    if isinstance(batch[-1], ControlRequest) and batch[-1].op == "shutdown":
                        return "shutdown"
                if ended:
                    return "eof"
        except OSError:
            return "gone"

    def _next_batch(self) -> tuple[list[Request], bool]:
        """Requests that arrived together (ending at a shutdown), and whether the input ended."""
        batch: list[Request] = []
        deadline = None
        while len(batch) < self.max_batch:
            try:
                if deadline is None:
                    line = self.inbox.get()
                    deadline = time.monotonic() + self.max_wait
                else:
                    line = self.inbox.get_nowait()
            except queue.Empty:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                try:
                    line = self.inbox.get(timeout=remaining)
                except queue.Empty:
                    break
            if line is _EOF:
                return batch, True
            if line is _TOO_LONG:
                batch.append(BadRequest(None, f"request line longer than {MAX_LINE} bytes"))
                continue
            line = line.rstrip(b"\r")
            if not line.strip():
                if not batch:
                    deadline = None  # a blank line starts no batch
                continue
            request = self.parse(line)
            batch.append(request)
            if isinstance(request, ControlRequest) and request.op == "shutdown":
                break
        return batch, False


def serve_stdio(
    responder: Responder,
    ready: dict,
    *,
    stdin_fd: int = 0,
    stdout_fd: int = 1,
    max_wait: float = 0.005,
    max_batch: int = 256,
) -> str:
    """Serve one session over file descriptors (stdin/stdout); returns how it ended."""

    def write(data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(stdout_fd, view) :]

    session = Session(
        lambda: os.read(stdin_fd, _READ_SIZE),
        write,
        responder.parse,
        responder.answer,
        max_wait=max_wait,
        max_batch=max_batch,
        name="stdin",
    )
    return session.run(first=ready)


# --------------------------------------------------------------------------- sockets


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
                _error_reply(getattr(r, "id", None), "the server is shutting down")
                for r in requests
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
            lambda: connection.recv(_READ_SIZE),
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
