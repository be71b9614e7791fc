"""The HTTP application: routes, limits, the access log and the lookup of one request.

Routes (GET and POST where a lookup is asked for):

- ``/spliceai/``, ``/pangolin/``: the SpliceAI-lookup API (:mod:`~spliceannot.lookup.compat`);
- ``/api/lookup``: spliceannot's own JSON (:mod:`~spliceannot.lookup.api`);
  ``/api/plot``: one transcript's landscape as SVG; ``/api/genomes``: what is loaded;
- ``/health``; ``/`` and ``/static/<name>``: the page (:mod:`~spliceannot.lookup.page`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import OrderedDict
from dataclasses import dataclass

from aiohttp import web

from spliceannot import __version__
from spliceannot.lookup import api, compat
from spliceannot.lookup.batcher import Batcher
from spliceannot.lookup.engine import Answer, Query
from spliceannot.lookup.genomes import PANGOLIN, SPLICEAI
from spliceannot.lookup.variants import VariantError, resolve_variant

access_log = logging.getLogger("spliceannot.lookup.access")
log = logging.getLogger(__name__)

JSON_TYPES = ("application/json",)
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


@dataclass(frozen=True)
class HttpLimits:
    """What one request may take."""

    max_body: int = 64 * 1024  # bytes of a request body
    body_timeout: float = 10.0  # seconds to receive a body
    request_timeout: float = 120.0  # seconds to answer a lookup
    max_wait: float = 0.005  # seconds a lookup waits for others to batch with
    max_batch: int = 256
    remembered: int = 512  # answers kept in memory (plots and repeated lookups)


@dataclass(frozen=True)
class Defaults:
    """The server's ``-D``, ``-M`` and ``--pangolin-mask`` (the own API's defaults)."""

    distance: int = 50
    mask: bool = False
    pangolin_mask: bool = True


def _error(status: int, message: str, source: str | None = None) -> web.Response:
    body = {"error": message} if source is None else {"error": message, "source": source}
    return web.json_response(body, status=status, headers={"Access-Control-Allow-Origin": "*"})


def _json(body: dict, status: int = 200) -> web.Response:
    return web.json_response(body, status=status, headers={"Access-Control-Allow-Origin": "*"},
                             dumps=lambda value: json.dumps(value, allow_nan=False))  # fmt: skip


class Lookup:
    """The server's state: genomes, the batcher, counters, answers kept for reuse."""

    def __init__(self, batcher: Batcher, limits: HttpLimits, defaults: Defaults) -> None:
        self.batcher = batcher
        self.limits = limits
        self.defaults = defaults
        self.started = time.monotonic()
        self.requests = 0
        self.answered: OrderedDict[tuple, Answer] = OrderedDict()

    @property
    def genomes(self) -> dict:
        return self.batcher.genomes

    async def params(self, request: web.Request) -> dict:
        """Query parameters, plus a POST's form or JSON object (the query wins on a clash)."""
        params: dict = {}
        if request.method == "POST" and request.can_read_body:
            try:
                body = await asyncio.wait_for(request.read(), self.limits.body_timeout)
            except asyncio.TimeoutError:
                raise web.HTTPRequestTimeout(text="the request body did not arrive in time") from None
            kind = request.content_type
            if body and kind in FORM_TYPES[:1]:
                from urllib.parse import parse_qsl

                params.update(parse_qsl(body.decode("utf-8", "replace")))
            elif body:
                try:
                    decoded = json.loads(body)
                except (ValueError, RecursionError):
                    decoded = None
                if isinstance(decoded, dict):
                    params.update(decoded)
                elif kind in JSON_TYPES:
                    raise compat.ParameterError("the body is not a JSON object")
        params.update(request.query)
        return params

    async def answer(self, query: Query) -> Answer:
        """The answer to ``query``: remembered, else scored in the next batch."""
        key = (query.genome, query.model, query.variant, query.distance, query.mask)
        found = self.answered.get(key)
        if found is not None and (found.reason is not None or not query.tracks or _has_tracks(found)):
            self.answered.move_to_end(key)
            return found
        answer = await asyncio.wait_for(self.batcher.submit(query), self.limits.request_timeout)
        self.answered[key] = answer
        while len(self.answered) > self.limits.remembered:
            self.answered.popitem(last=False)
        return answer

    def resolve(self, genome_name: str, text: str):
        genome = self.genomes[genome_name]
        return resolve_variant(text, genome.transcripts, genome.fetch)


def _has_tracks(answer: Answer) -> bool:
    return all(item.tracks is not None for item in answer.transcripts if item.scores)


async def _compat_answer(request: web.Request, tool: str):
    """``(checked request, variant, answer, params)`` of a SpliceAI-lookup request, or the error response."""
    lookup: Lookup = request.app["lookup"]
    try:
        params = await lookup.params(request)
        checked = compat.check_request(tool, params, lookup.genomes)
        try:
            variant, _ = lookup.resolve(checked.genome, checked.variant)
        except VariantError as error:
            raise compat.unparsable(tool, checked, str(error)) from None
    except compat.ParameterError as error:
        return _error(400, str(error), tool)
    query = Query(checked.genome, tool, variant, checked.distance, checked.mask, tracks=tool == SPLICEAI)
    try:
        answer = await lookup.answer(query)
    except asyncio.TimeoutError:
        return _error(504, "Timed out while computing predictions; try again later.", tool)
    except Exception:
        log.exception("lookup of %s failed", checked.variant)
        return _error(500, "Internal server error while computing predictions.", tool)
    return checked, variant, answer, params


def _tool_of(path: str) -> str:
    return PANGOLIN if path.startswith(f"/{PANGOLIN}") else SPLICEAI


async def compat_handler(request: web.Request) -> web.Response:
    tool = _tool_of(request.path)
    found = await _compat_answer(request, tool)
    if isinstance(found, web.Response):
        return found
    checked, variant, answer, _ = found
    if answer.reason is not None:
        return _json(compat.no_scores(checked, answer.reason))
    return _json(compat.scores_reply(checked, variant, answer))


async def transcript_scores_handler(request: web.Request) -> web.Response:
    """``/spliceai/scores/?...&transcript=ID``: one transcript's per-position rows, as SpliceAI-lookup's."""
    tool = _tool_of(request.path)
    found = await _compat_answer(request, tool)
    if isinstance(found, web.Response):
        return found
    checked, _, answer, params = found
    if answer.reason is not None:
        return _json(compat.no_scores(checked, answer.reason))
    reply = compat.transcript_rows(tool, answer, params.get("transcript"))
    if isinstance(reply, str):
        return _error(400, reply, tool)
    return _json(reply)


async def lookup_handler(request: web.Request) -> web.Response:
    lookup: Lookup = request.app["lookup"]
    defaults = lookup.defaults
    try:
        params = await lookup.params(request)
        checked = api.check_lookup(params, lookup.genomes, distance=defaults.distance, mask=defaults.mask,
                                   pangolin_mask=defaults.pangolin_mask)  # fmt: skip
        variant, hgvs_transcript = lookup.resolve(checked.genome, checked.variant)
    except (compat.ParameterError, VariantError) as error:
        return _error(400, str(error))
    queries = {
        model: Query(checked.genome, model, variant, checked.distance,
                     checked.pangolin_mask if model == PANGOLIN else checked.mask,
                     tracks=checked.raw and model == SPLICEAI)
        for model in checked.models
    }
    try:
        answers = dict(zip(queries, await asyncio.gather(*(lookup.answer(q) for q in queries.values()))))
    except asyncio.TimeoutError:
        return _error(504, "timed out while scoring; try again later")
    except Exception as error:
        log.exception("lookup of %s failed", checked.variant)
        return _error(500, f"internal error while scoring: {type(error).__name__}")
    return _json(api.lookup_reply(checked, variant, hgvs_transcript, answers))


async def plot_handler(request: web.Request) -> web.Response:
    from spliceannot.lookup.plots import landscape_svg

    lookup: Lookup = request.app["lookup"]
    defaults = lookup.defaults
    try:
        params = await lookup.params(request)
        checked = api.check_lookup({**params, "models": SPLICEAI}, lookup.genomes, distance=defaults.distance,
                                   mask=defaults.mask, pangolin_mask=defaults.pangolin_mask)  # fmt: skip
        variant, _ = lookup.resolve(checked.genome, checked.variant)
    except (compat.ParameterError, VariantError) as error:
        return _error(400, str(error))
    try:
        row = int(params.get("row", ""))
    except (TypeError, ValueError):
        return _error(400, "row: expected the transcript's row number (from /api/lookup)")
    query = Query(checked.genome, SPLICEAI, variant, checked.distance, checked.mask, tracks=True)
    try:
        answer = await lookup.answer(query)
    except asyncio.TimeoutError:
        return _error(504, "timed out while scoring; try again later")
    chosen = [item for item in answer.transcripts if item.row == row and item.tracks is not None]
    if answer.reason is not None or not chosen:
        return _error(404, f"no landscape for transcript row {row} of this variant")
    genome = lookup.genomes[checked.genome]
    svg = await lookup.batcher.call(landscape_svg, genome, variant, checked.distance, answer, chosen[0])
    return web.Response(body=svg, content_type="image/svg+xml")


async def genomes_handler(request: web.Request) -> web.Response:
    lookup: Lookup = request.app["lookup"]
    defaults = lookup.defaults
    return _json({
        "version": __version__,
        "genomes": [genome.describe() for genome in lookup.genomes.values()],
        "distance": defaults.distance,
        "mask": int(defaults.mask),
        "pangolin_mask": int(defaults.pangolin_mask),
    })  # fmt: skip


async def health_handler(request: web.Request) -> web.Response:
    lookup: Lookup = request.app["lookup"]
    batcher = lookup.batcher
    caches = {}
    for genome in lookup.genomes.values():
        for model, scorers in genome.scorers.items():
            counts = scorers.cache_counts()
            if counts is not None:
                caches[f"{genome.name}/{model}"] = {"hits": counts[0], "misses": counts[1]}
    return _json({
        "status": "ok",
        "version": __version__,
        "genomes": list(lookup.genomes),
        "requests": lookup.requests,
        "lookups": batcher.queries,
        "batches": batcher.batches,
        "uptime_s": round(time.monotonic() - lookup.started, 3),
        "cache": caches,
    })  # fmt: skip


async def static_handler(request: web.Request) -> web.Response:
    from spliceannot.lookup.page import ASSETS

    name = request.match_info.get("name", "index.html")
    asset = ASSETS.get(name)
    if asset is None:
        return _error(404, "not found")
    body, kind = asset
    return web.Response(text=body, content_type=kind, headers={"Cache-Control": "no-cache"})


async def not_found(request: web.Request) -> web.Response:
    return _error(404, f"invalid endpoint {request.path[:100]}")


@web.middleware
async def guard(request: web.Request, handler) -> web.StreamResponse:
    """One access-log line per request; errors as JSON; nothing escapes as a traceback."""
    started = time.perf_counter()
    lookup: Lookup = request.app["lookup"]
    lookup.requests += 1
    try:
        response = await handler(request)
    except web.HTTPException as error:
        response = _error(error.status, error.text or error.reason)
    except Exception:
        log.exception("%s %s failed", request.method, request.path)
        response = _error(500, "internal error")
    elapsed = (time.perf_counter() - started) * 1000
    body = getattr(response, "body", None)
    size = len(body) if isinstance(body, (bytes, bytearray)) else -1
    access_log.info('%s "%s %s" %d %d %.1fms', request.remote, request.method, request.path_qs[:300],
                    response.status, size, elapsed)  # fmt: skip
    return response


def make_app(lookup: Lookup) -> web.Application:
    """The aiohttp application over ``lookup`` (whose batcher is started and stopped with it)."""
    app = web.Application(middlewares=[guard], client_max_size=lookup.limits.max_body)
    app["lookup"] = lookup

    async def start(app: web.Application) -> None:
        lookup.batcher.start()

    async def stop(app: web.Application) -> None:
        await lookup.batcher.stop()

    app.on_startup.append(start)
    app.on_cleanup.append(stop)
    for tool in (SPLICEAI, PANGOLIN):
        for path in (f"/{tool}/", f"/{tool}"):
            app.router.add_route("GET", path, compat_handler)
            app.router.add_route("POST", path, compat_handler)
        for path in (f"/{tool}/scores/", f"/{tool}/scores"):
            app.router.add_route("GET", path, transcript_scores_handler)
            app.router.add_route("POST", path, transcript_scores_handler)
    for method in ("GET", "POST"):
        app.router.add_route(method, "/api/lookup", lookup_handler)
        app.router.add_route(method, "/api/plot", plot_handler)
    app.router.add_get("/api/genomes", genomes_handler)
    app.router.add_get("/health", health_handler)
    app.router.add_get("/", static_handler)
    app.router.add_get("/static/{name}", static_handler)
    app.router.add_route("*", "/{tail:.*}", not_found)
    return app
