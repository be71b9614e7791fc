"""Answering: a batch of parsed requests -> one reply each; the ready line; encoding."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from spliceannot import __version__
from spliceannot.annotate import Record
from spliceannot.outcome import Outcome
from spliceannot.pangolin.scorer import INFO_KEY as PANGOLIN_KEY
from spliceannot.pangolin.scorer import TISSUE_FIELDS
from spliceannot.serve.requests import (
    MODEL_NAMES,
    NO_ID,
    BadRequest,
    CisRequest,
    ControlRequest,
    Request,
    ScoreRequest,
    parse_request,
)
from spliceannot.serve.scorers import ScorerSet

log = logging.getLogger(__name__)
SPLICEAI, PANGOLIN = MODEL_NAMES


def model_fields(model: str, outcome: Outcome) -> dict:
    """One model's part of a reply.

    SpliceAI's: ``scores`` (its INFO entries) and ``reason``; Pangolin's:
    ``pangolin`` (its INFO value) and ``pangolin_reason``, plus
    ``pangolin_tissues`` (``Pangolin_<tissue>_gain/_loss``) when it has them.
    """
    if model == PANGOLIN:
        if outcome.reason is not None:
            return {"pangolin": None, "pangolin_reason": outcome.reason}
        fields = {"pangolin": outcome.fields[PANGOLIN_KEY], "pangolin_reason": None}
        tissues = {key: outcome.fields[key] for key in TISSUE_FIELDS if key in outcome.fields}
        if tissues:
            fields["pangolin_tissues"] = tissues
        return fields
    if outcome.reason is not None:
        return {"scores": [], "reason": outcome.reason}
    return {"scores": list(outcome.entries), "reason": None}


def error_reply(ident: Any, message: str) -> dict:
    """The reply to a request that failed: its id and the first line of ``message``."""
    lines = str(message).strip().splitlines()
    return {"id": ident, "error": lines[0] if lines else "internal error"}


class Responder:
    """Answers batches of requests; keeps the counters that ``health`` reports.

    Parameters
    ----------
    scorers
        The scorers, by ``(distance, mask)``: SpliceAI's, or one set per model
        loaded (``{"spliceai": ..., "pangolin": ...}``, keys of
        :data:`~spliceannot.serve.requests.MODEL_NAMES`).
    distance, mask
        The server's ``-D`` and ``-M`` (for requests that do not set them).
    pangolin_mask
        The server's ``--pangolin-mask`` (for requests that do not set ``pangolin_mask``).
    """

    def __init__(
        self,
        scorers: ScorerSet | Mapping[str, ScorerSet],
        *,
        distance: int,
        mask: bool,
        pangolin_mask: bool = True,
    ) -> None:
        given = scorers if isinstance(scorers, Mapping) else {SPLICEAI: scorers}
        unknown = set(given) - set(MODEL_NAMES)
        if unknown or not given:
            raise ValueError(
                f"scorers: expected sets named {' and/or '.join(MODEL_NAMES)}, got {sorted(given)}"
            )
        #: the scorer sets, by model, in reply order
        self.scorers: dict[str, ScorerSet] = {
            name: given[name] for name in MODEL_NAMES if name in given
        }
        self.models = tuple(self.scorers)
        self.distance = distance
        self.mask = mask
        self.pangolin_mask = pangolin_mask
        self.started = time.monotonic()
        self.served = 0
        self.scored = 0
        self.unscored = 0
        self.errors = 0
        self.batches = 0
        self.connections: Callable[[], int] | None = None

    def parse(self, line: bytes) -> Request:
        return parse_request(
            line,
            distance=self.distance,
            mask=self.mask,
            models=self.models,
            pangolin_mask=self.pangolin_mask,
        )

    def answer(self, requests: Sequence[Request]) -> list[dict]:
        """One reply per request, in order; each model's and ``(-D, -M)``'s variants are scored
        together."""
        groups: dict[tuple[str, int, bool], list[int]] = {}
        for index, request in enumerate(requests):
            if isinstance(request, ScoreRequest):
                for model in request.models:
                    mask = request.pangolin_mask if model == PANGOLIN else request.mask
                    groups.setdefault((model, request.distance, mask), []).append(index)
        results: dict[tuple[int, str], Outcome | str] = {}
        for (model, distance, mask), members in groups.items():
            records = [requests[i].record for i in members]  # type: ignore[union-attr]
            outcomes = self._score(model, distance, mask, records)
            results.update(((index, model), outcome) for index, outcome in zip(members, outcomes))
        if groups:
            self.batches += 1
        replies = []
        for index, request in enumerate(requests):
            if isinstance(request, ControlRequest):
                replies.append(self.control(request))
                continue
            self.served += 1
            if isinstance(request, CisRequest):
                replies.append(self._haplotype(request))
                continue
            if isinstance(request, BadRequest):
                self.errors += 1
                replies.append(error_reply(request.id, request.error))
                continue
            outcomes = [results[index, model] for model in request.models]
            failed = [outcome for outcome in outcomes if isinstance(outcome, str)]
            if failed:
                self.errors += 1
                replies.append(error_reply(request.id, failed[0]))
                continue
            reply = {"id": request.id}
            for model, outcome in zip(request.models, outcomes):
                reply.update(model_fields(model, outcome))
            scored = any(outcome.reason is None for outcome in outcomes)
            self.scored += scored
            self.unscored += not scored
            replies.append(reply)
        return replies

    def _haplotype(self, request: CisRequest) -> dict:
        """Each variant of a ``{"variants": [...]}`` request alone and in the haplotype of all."""
        from spliceannot.haplotypes.scorer import HaplotypeScorer
        from spliceannot.values import CisContext, Variant

        try:
            scorer = self.scorers[SPLICEAI].get(request.distance, request.mask)
            reach = scorer.geometry.width // 2
            records = []
            for record in request.records:
                cis = tuple(
                    Variant(other.chrom, other.pos, other.ref, other.alts[0])
                    for other in request.records
                    if other is not record and other.pos <= record.pos + reach
                    and other.pos + len(other.ref) - 1 >= record.pos - reach
                )
                records.append(Record(record.chrom, record.pos, record.ref, record.alts,
                                      contexts=(CisContext(record.alts[0], cis),)))
            outcomes = HaplotypeScorer(scorer, scorer.tracks.haplotypes, request.mode).score(records)
        except Exception as error:  # answered, never fatal
            log.exception("scoring a haplotype request failed")
            self.errors += 1
            return error_reply(request.id, f"internal error while scoring: {type(error).__name__}: {error}")
        variants = []
        for record, outcome in zip(records, outcomes):
            fields = model_fields(SPLICEAI, outcome)
            entries = outcome.haplotypes[0].entries if outcome.haplotypes else None
            fields["haplotype_scores"] = list(entries) if entries else []
            fields["cis"] = [f"{c.chrom}-{c.pos}-{c.ref}-{c.alt}" for c in record.contexts[0].cis]
            variants.append(fields)
        scored = any(outcome.reason is None for outcome in outcomes)
        self.scored += scored
        self.unscored += not scored
        return {"id": request.id, "haplotype": request.mode, "variants": variants}

    def _score(
        self, model: str, distance: int, mask: bool, records: list[Record]
    ) -> list[Outcome | str]:
        """Outcomes, or an error text per record that could not be scored."""
        try:
            scorer = self.scorers[model].get(distance, mask)
        except Exception as error:  # noqa: BLE001 - answered, never fatal
            if model == PANGOLIN:
                text = (
                    f"Pangolin -D {distance} --pangolin-mask {mask} is not available on this server "
                    f"({error}); use -D {self.distance} --pangolin-mask {self.pangolin_mask}"
                )
            else:
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
        )
        for model, scorers in self.scorers.items():
            prefix = "" if model == SPLICEAI else f"{model}_"  # "scorers", "pangolin_scorers", ...
            reply[f"{prefix}scorers"] = [[d, int(m)] for d, m in scorers.loaded()]
            counts = scorers.cache_counts()
            if counts is not None:
                reply[f"{prefix}cache_hits"], reply[f"{prefix}cache_misses"] = counts
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
