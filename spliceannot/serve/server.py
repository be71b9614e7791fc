"""A server end to end: build the scorer from a spec, open the transport, serve until told to stop."""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from pathlib import Path

from spliceannot.errors import InputError, ModelError
from spliceannot.factory import ScorerSpec, build_scorer, check_inputs, model_families
from spliceannot.serve.responder import Responder, encode, ready_message
from spliceannot.serve.scorers import MAX_SCORERS, ScorerSet
from spliceannot.serve.session import serve_stdio
from spliceannot.serve.sockets import MAX_CONNECTIONS, SocketServer, tcp_listener, unix_listener

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Transport:
    """Where requests come from: stdin/stdout (neither field set), a Unix socket, or 127.0.0.1:``port``."""

    socket_path: str | None = None
    port: int | None = None  # 0 = any free port


@dataclass(frozen=True)
class Limits:
    """How much a server takes on at once."""

    max_connections: int = MAX_CONNECTIONS  # with a socket or a port
    max_scorers: int = MAX_SCORERS  # scorers kept besides the server's own
    max_wait: float = 0.005  # seconds to wait after a request for more to batch with it
    max_batch: int = 256  # most requests scored in one batch


class StartError(Exception):
    """The server could not start (an input, the model or the listener); the text is the reason."""


def run(spec: ScorerSpec, transport: Transport | None = None, limits: Limits | None = None) -> None:
    """Serve ``spec``'s scores until the input ends or a client asks for shutdown.

    Writes the ready line on stdout once the scorer is built (and, with a
    socket or a port, on every connection).  The listener, and a Unix
    socket's file, are removed however the server ends; an exception raised
    meanwhile (a signal handler's, say) ends the server the same way.

    Parameters
    ----------
    spec
        The server's genome, annotation, model(s) and default ``-D``/``-M``
        (with ``spec.pangolin``, or a Pangolin ``spec.model``, requests may
        ask for Pangolin's scores too).
    transport
        stdin/stdout (the default), a Unix socket or a TCP port.
    limits
        Batching, scorer and connection limits.

    Raises
    ------
    StartError
        When an input, the model or the listener cannot be opened.
    """
    transport = transport or Transport()
    limits = limits or Limits()
    listener = app = None
    try:
        try:
            check_inputs(spec)
            models = _loaded_models(spec, build_scorer(spec))
            first = next(iter(models.values()))
            ready = ready_message(
                model=spec.model,
                digest=first.model_digest,
                annotation=spec.annotation,
                distance=spec.distance,
                mask=bool(spec.mask),
                **_pangolin_ready(spec, models),
            )
            if transport.socket_path is not None:
                listener = unix_listener(transport.socket_path)
            elif transport.port is not None:
                listener = tcp_listener(transport.port)
        except (InputError, ModelError, ValueError, OSError) as error:
            raise StartError(str(error)) from error
        scorers = {
            model: ScorerSet(
                scorer,
                model_digest=scorer.model_digest,
                encoding=spec.encoding,
                max_scorers=limits.max_scorers,
                name="Pangolin" if model == "pangolin" else "",
            )
            for model, scorer in models.items()
        }
        responder = Responder(
            scorers,
            distance=spec.distance,
            mask=bool(spec.mask),
            pangolin_mask=spec.pangolin_mask,
        )
        if listener is None:
            serve_stdio(responder, ready, max_wait=limits.max_wait, max_batch=limits.max_batch)
        else:
            app = SocketServer(
                responder,
                listener,
                ready,
                max_wait=limits.max_wait,
                max_batch=limits.max_batch,
                max_connections=limits.max_connections,
            )
            where = (
                {"socket": transport.socket_path}
                if transport.socket_path
                else {"port": app.address}
            )
            app.ready = {**ready, **where}
            log.info("listening on %s", where)
            _announce(app.ready)
            app.serve()
    finally:
        if app is not None:
            app.close()
        elif listener is not None:
            listener.close()
            if transport.socket_path is not None:
                Path(transport.socket_path).unlink(missing_ok=True)


def _loaded_models(spec: ScorerSpec, scorer) -> dict:
    """``{"spliceai": scorer, "pangolin": scorer}``: each model's own scorer, in reply order.

    ``scorer`` is :func:`build_scorer`'s: one model's, or a
    :class:`~spliceannot.group.ScorerGroup` whose members the server keeps
    apart (a request may ask for either model, each with its own ``-D``/``-M``).
    """
    from spliceannot.group import ScorerGroup

    parts = scorer.scorers if isinstance(scorer, ScorerGroup) else [scorer]
    return {family: part for (family, _), part in zip(model_families(spec), parts)}


def _pangolin_ready(spec: ScorerSpec, models: dict) -> dict:
    """What the ready line adds when a Pangolin model is loaded (nothing for SpliceAI alone)."""
    if "pangolin" not in models:
        return {}
    extra = {"models": list(models), "pangolin_mask": int(spec.pangolin_mask)}
    if spec.pangolin is not None:  # -m spliceai -m pangolin: "model" is SpliceAI's
        extra.update(
            pangolin_model=spec.pangolin,
            pangolin_model_digest=models["pangolin"].model_digest,
        )
    return extra


def _announce(ready: dict) -> None:
    """The ready line on stdout (a socket server's stdout is not part of any conversation)."""
    try:
        sys.stdout.write(encode(ready).decode())
        sys.stdout.flush()
    except OSError:
        pass
