"""Request lines of the JSON-lines protocol: one line of text -> a typed request (pure)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from spliceannot.annotate import Record
from spliceannot.windows import MAX_DISTANCE

NO_ID = object()  # a control request sent without "id"


@dataclass(frozen=True)
class ScoreRequest:
    """Score ``record`` with ``-D distance`` and ``-M mask``; ``id`` is echoed.

    ``models``: the model families asked for, in :data:`MODEL_NAMES` order;
    ``pangolin_mask``: Pangolin's ``-m`` for this request.
    """

    id: Any
    record: Record
    distance: int
    mask: bool
    models: tuple[str, ...] = ("spliceai",)
    pangolin_mask: bool = True


@dataclass(frozen=True)
class CisRequest:
    """Score several variants of one haplotype (``{"variants": [...]}``): each alone (as
    ``annotate`` does) and in the haplotype (``annotate --haplotypes``, ``mode``)."""

    id: Any
    records: tuple[Record, ...]
    distance: int
    mask: bool
    mode: str = "background"


@dataclass(frozen=True)
class ControlRequest:
    """``{"op": "health"}`` or ``{"op": "shutdown"}``."""

    op: str
    id: Any = NO_ID


@dataclass(frozen=True)
class BadRequest:
    """A line that is not a valid request; ``error`` is one line of text."""

    id: Any
    error: str


Request = ScoreRequest | CisRequest | ControlRequest | BadRequest
HAPLOTYPE_MODES = ("background", "combined")
MAX_CIS_VARIANTS = 64  # variants of one {"variants": [...]} request
CONTROL_OPS = ("health", "shutdown")
MODEL_NAMES = ("spliceai", "pangolin")  # the model families a request may ask for, in reply order


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


def _flag(name: str, value: Any) -> bool:
    if value not in (0, 1) or isinstance(value, float):
        raise _Invalid(f"{name}: expected 0 or 1, got {_shown(value)}")
    return bool(value)


def _models(value: Any, loaded: tuple[str, ...]) -> tuple[str, ...]:
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list) or not names or any(n not in MODEL_NAMES for n in names):
        raise _Invalid(
            f"models: expected a list of {' and/or '.join(MODEL_NAMES)}, got {_shown(value)}"
        )
    missing = [name for name in MODEL_NAMES if name in names and name not in loaded]
    if missing:
        raise _Invalid(
            f"models: {missing[0]} is not loaded on this server (it serves {', '.join(loaded)})"
        )
    return tuple(name for name in MODEL_NAMES if name in names)


def parse_request(
    line: str | bytes,
    *,
    distance: int,
    mask: bool,
    models: tuple[str, ...] = ("spliceai",),
    pangolin_mask: bool = True,
) -> Request:
    """Parse one request line.

    Parameters
    ----------
    line
        One line of the input, without its newline.
    distance, mask
        The server's ``-D`` and ``-M``, used when the request does not
        override them.
    models
        The model families the server loaded (of :data:`MODEL_NAMES`): what
        a request may ask for, and what it gets when it does not say.
    pangolin_mask
        The server's ``--pangolin-mask``, used when the request does not
        override it.

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
            return ControlRequest(op, message.get("id", NO_ID))
        if "variants" in message:
            return _cis_request(message, ident, distance, mask, models)
        missing = [key for key in ("chrom", "pos", "ref", "alt") if key not in message]
        if missing:
            raise _Invalid(f"missing field{'s' if len(missing) > 1 else ''}: {', '.join(missing)}")
        pos, ref = _position(message)
        wanted_distance, wanted_mask = _distance_mask(message, distance, mask)
        wanted_models = _models(message["models"], models) if "models" in message else models
        wanted_pangolin_mask = _flag(
            "pangolin_mask", message.get("pangolin_mask", int(pangolin_mask))
        )
        record = Record(_chrom(message["chrom"]), pos, ref, _alleles(message["alt"]))
        return ScoreRequest(
            ident, record, wanted_distance, wanted_mask, wanted_models, wanted_pangolin_mask
        )
    except _Invalid as error:
        return BadRequest(ident, str(error))


def _position(message: dict) -> tuple[int, str]:
    pos = message["pos"]
    if not _is_int(pos) or pos < 1:
        raise _Invalid(f"pos: expected an integer >= 1, got {_shown(pos)}")
    ref = message["ref"]
    if not isinstance(ref, str) or not ref.isascii() or not ref.isalpha():
        raise _Invalid(f"ref: expected bases (letters), got {_shown(ref)}")
    return pos, ref


def _distance_mask(message: dict, distance: int, mask: bool) -> tuple[int, bool]:
    wanted_distance = message.get("distance", distance)
    if not _is_int(wanted_distance) or not 0 <= wanted_distance <= MAX_DISTANCE:
        raise _Invalid(
            f"distance: expected an integer from 0 to {MAX_DISTANCE}, got {_shown(wanted_distance)}"
        )
    return wanted_distance, _flag("mask", message.get("mask", int(mask)))


def _cis_request(message: dict, ident: Any, distance: int, mask: bool, models: tuple[str, ...]) -> CisRequest:
    """``{"variants": [{"chrom", "pos", "ref", "alt"}, ...], "haplotype": MODE}``: variants in cis."""
    if "spliceai" not in models:
        raise _Invalid("variants: haplotypes are scored with SpliceAI, which this server has not loaded")
    items = message["variants"]
    if not isinstance(items, list) or not items or len(items) > MAX_CIS_VARIANTS:
        raise _Invalid(f"variants: expected a list of 1 to {MAX_CIS_VARIANTS} variants, got {_shown(items)}")
    records = []
    for number, item in enumerate(items, 1):
        if not isinstance(item, dict):
            raise _Invalid(f"variants[{number}]: expected an object with chrom, pos, ref, alt")
        missing = [key for key in ("chrom", "pos", "ref", "alt") if key not in item]
        if missing:
            raise _Invalid(f"variants[{number}]: missing field{'s' if len(missing) > 1 else ''}: {', '.join(missing)}")
        pos, ref = _position(item)
        alts = _alleles(item["alt"])
        if len(alts) != 1:
            raise _Invalid(f"variants[{number}]: one ALT per variant of a haplotype, got {_shown(item['alt'])}")
        records.append(Record(_chrom(item["chrom"]), pos, ref.upper(), (alts[0].upper(),)))
    if len({r.chrom for r in records}) > 1:
        raise _Invalid("variants: the variants of one haplotype must be on one contig")
    ordered = sorted(records, key=lambda r: r.pos)
    for first, second in pairwise(ordered):
        if second.pos < first.pos + len(first.ref):
            raise _Invalid(
                f"variants: {first.chrom}:{first.pos} and {second.chrom}:{second.pos} overlap; "
                "one haplotype cannot carry both"
            )
    mode = message.get("haplotype", "background")
    if mode not in HAPLOTYPE_MODES:
        raise _Invalid(f"haplotype: expected one of {', '.join(HAPLOTYPE_MODES)}, got {_shown(mode)}")
    wanted_distance, wanted_mask = _distance_mask(message, distance, mask)
    return CisRequest(ident, tuple(records), wanted_distance, wanted_mask, mode)
