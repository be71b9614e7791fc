"""A long-running scorer that speaks JSON lines (``spliceannot serve``).

The genome, the annotation and the model are loaded once; clients send one
JSON object per line and get one line back per request, in order.  The
protocol is documented in ``docs/serve.md``.  Pieces, from the inside out:

- :func:`parse_request` (``requests.py``): one line of text -> a
  :class:`ScoreRequest`, a :class:`ControlRequest` or a :class:`BadRequest`
  (pure);
- :class:`ScorerSet` (``scorers.py``): one scorer per ``(-D, -M)``, derived
  from the server's own; a server holds one set per model loaded (SpliceAI,
  Pangolin);
- :class:`Responder` (``responder.py``): answers a batch of parsed requests,
  scoring all of a batch's variants in one ``score`` call per model and
  ``(-D, -M)``, each reply carrying the fields of the models it asked for;
- :class:`Session` (``session.py``): one conversation (stdin/stdout or one
  connection): a reader thread splits the byte stream into lines, the
  session gathers the lines that arrive together into batches and writes
  the answers;
- :func:`serve_stdio` (``session.py``) and :class:`SocketServer`
  (``sockets.py``): the two ways to run;
- :func:`run` (``server.py``): a server end to end, from a
  :class:`~spliceannot.factory.ScorerSpec`.

Scoring always runs in the thread that built the scorers (the main thread),
so thread-bound resources (a SQLite score cache) stay in their thread.
"""

from spliceannot.serve.requests import (
    CONTROL_OPS,
    MODEL_NAMES,
    BadRequest,
    ControlRequest,
    Request,
    ScoreRequest,
    parse_request,
)
from spliceannot.serve.responder import Responder, encode, ready_message
from spliceannot.serve.scorers import MAX_SCORERS, ScorerSet
from spliceannot.serve.server import Limits, StartError, Transport, run
from spliceannot.serve.session import MAX_LINE, Session, serve_stdio
from spliceannot.serve.sockets import MAX_CONNECTIONS, SocketServer, tcp_listener, unix_listener

__all__ = [
    "CONTROL_OPS",
    "MAX_CONNECTIONS",
    "MAX_LINE",
    "MAX_SCORERS",
    "MODEL_NAMES",
    "BadRequest",
    "ControlRequest",
    "Limits",
    "Request",
    "Responder",
    "ScoreRequest",
    "ScorerSet",
    "Session",
    "SocketServer",
    "StartError",
    "Transport",
    "encode",
    "parse_request",
    "ready_message",
    "run",
    "serve_stdio",
    "tcp_listener",
    "unix_listener",
]
