"""One conversation over a byte stream (stdin/stdout or one connection), and serving stdin/stdout."""

from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Callable, Sequence

from spliceannot.serve.requests import BadRequest, ControlRequest, Request
from spliceannot.serve.responder import Responder, encode

_EOF = object()  # the end of a session's input
READ_SIZE = 1 << 16  # bytes asked for per read
MAX_LINE = 1 << 20  # longest request line, in bytes; longer ones get an error reply
_TOO_LONG = object()  # stands for a line longer than MAX_LINE
_INBOX_LINES = 4096  # lines read ahead of scoring; a faster client waits (back-pressure)


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
        lambda: os.read(stdin_fd, READ_SIZE),
        write,
        responder.parse,
        responder.answer,
        max_wait=max_wait,
        max_batch=max_batch,
        name="stdin",
    )
    return session.run(first=ready)
