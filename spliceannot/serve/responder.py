"""Answering: a batch of parsed requests -> one reply each; the ready line; encoding."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from spliceannot import __version__
from spliceannot.annotate import Record
from spliceannot.outcome import Outcome
from spliceannot.serve.requests import (
    NO_ID,
    BadRequest,
    ControlRequest,
    Request,
    ScoreRequest,
    parse_request,
)
from spliceannot.serve.scorers import ScorerSet

log = logging.getLogger(__name__)


def _outcome_reply(ident: Any, outcome: Outcome) -> dict:
    if outcome.reason is not None:
        return {"id": ident, "scores": [], "reason": outcome.reason}
    return {"id": ident, "scores": list(outcome.entries), "reason": None}


def error_reply(ident: Any, message: str) -> dict:
    """The reply to a request that failed: its id and the first line of ``message``."""
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
                replies.append(error_reply(request.id, error))
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
        if request.id is not NO_ID:
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
    """One message as a line of the protocol: JSON, UTF-8, ending in a newline."""
    return (json.dumps(message) + "\n").encode()
