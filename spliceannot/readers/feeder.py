"""Feeding input to htslib through a socket pair, one record line noted per record.

A :class:`Feeder` thread writes the input (header, then record lines) into
one end of a socket pair that htslib reads from the other; before writing a
record's line it notes it, so the record htslib returns next always belongs
to the oldest noted line.  :mod:`spliceannot.readers.vcf` opens htslib on
the other end.
"""

from __future__ import annotations

import socket
import threading
import zlib
from collections import deque
from collections.abc import Callable
from typing import BinaryIO

from spliceannot.errors import InputError
from spliceannot.readers.regions import Region

CHUNK = 1 << 16  # bytes read and written at a time


class Feeder(threading.Thread):
    """Writes input into a pipe that htslib reads, noting each record line it hands over.

    ``produce(pipe, note)`` writes the bytes; before writing a record's line
    it calls ``note(tag, number, line)``, so the record htslib returns next
    always belongs to the oldest noted line.
    """

    def __init__(
        self, input_name: str, produce: Callable, write_fd: socket.socket, *, lines: bool = True
    ) -> None:
        super().__init__(name="spliceannot-vcf-reader", daemon=True)
        self.input_name = input_name  # the input as messages name it
        self.produce = produce
        self.write_fd = write_fd
        self.lines = lines  # False: a BCF stream, whose records have no text
        self.resources: list[Callable[[], None]] = []  # closed by this thread when it ends
        self.stopped = False  # set when the source is closed before the input ended
        self.pending: deque[tuple[int, int | None, bytes]] = deque()
        self.error: InputError | None = None

    def run(self) -> None:
        try:
            with _SocketWriter(self.write_fd) as pipe:
                self.produce(pipe, lambda *item: self.pending.append(item))
        except BrokenPipeError:  # htslib stopped reading (an error, or the run ended early)
            pass
        except ValueError as error:
            if not self.stopped:
                self.error = InputError(
                    f"{self.input_name}: cannot read input: {read_error_reason(error)}"
                )
        except InputError as error:
            self.error = error
        except (OSError, EOFError, zlib.error) as error:
            self.error = InputError(
                f"{self.input_name}: cannot read input: {read_error_reason(error)}"
            )
        finally:
            for close in self.resources:
                close()


class _SocketWriter:
    """Buffered writes into one end of a socket pair, never raising SIGPIPE.

    ``annotate`` restores SIGPIPE's default action so that ``| head`` ends it
    quietly; a write into a pipe htslib stopped reading would then kill the
    process, where ``send(MSG_NOSIGNAL)`` raises BrokenPipeError instead.
    """

    def __init__(self, connection: socket.socket) -> None:
        self.connection = connection
        self.parts: list[bytes] = []
        self.size = 0

    def write(self, data: bytes) -> None:
        self.parts.append(data)
        self.size += len(data)
        if self.size >= CHUNK:
            self.flush()

    def flush(self) -> None:
        if self.parts:
            data = b"".join(self.parts)
            self.parts, self.size = [], 0
            self.connection.sendall(data, socket.MSG_NOSIGNAL)

    def __enter__(self) -> _SocketWriter:
        return self

    def __exit__(self, kind, error, traceback) -> None:
        try:
            if kind is None:
                self.flush()
        finally:
            self.connection.close()


def read_error_reason(error: BaseException) -> str:
    """Words for an error met while reading input (a truncated gzip says so)."""
    if isinstance(error, EOFError):
        return "the compressed data ends early (truncated file)"
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return str(error) or type(error).__name__


def text_lines(stream: BinaryIO) -> Callable:
    """A ``produce`` function for VCF text: header lines as they are, record lines noted."""

    def produce(pipe, note) -> None:
        number = 0
        in_header = True
        for raw in stream:
            number += 1
            if in_header:
                in_header = not raw.startswith(b"#CHROM")
            else:
                note(0, number, raw.rstrip(b"\r\n"))
            pipe.write(raw)

    return produce


def raw_bytes(stream: BinaryIO) -> Callable:
    def produce(pipe, note) -> None:
        while chunk := stream.read(CHUNK):
            pipe.write(chunk)

    return produce


def tabix_lines(tabix, regions: list[Region]) -> Callable:
    """A ``produce`` function: the header, then the raw lines of each region (tagged by region)."""

    def produce(pipe, note) -> None:
        for line in tabix.header:
            pipe.write(line.encode("latin-1") + b"\n")
        for index, region in enumerate(regions):
            for text in tabix.fetch(region.contig, region.start0, region.end0):
                line = text.encode("latin-1")
                note(index, None, line)
                pipe.write(line + b"\n")

    return produce
