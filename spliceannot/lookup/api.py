"""spliceannot's own JSON lookup API (``/api/lookup``): what ``serve`` answers, per transcript, raw on request.

Pure: parameters in, :class:`LookupRequest` out (or a :class:`ParameterError`);
answers in, the reply dict out.
"""

from __future__ import annotations

from dataclasses import dataclass

from spliceannot.lookup.compat import ParameterError
from spliceannot.lookup.engine import Answer, TranscriptScores
from spliceannot.lookup.genomes import PANGOLIN, SPLICEAI
from spliceannot.lookup.hgvs import GenomicVariant
from spliceannot.windows import MAX_DISTANCE

TRANSCRIPT_CHOICES = ("all", "primary")  # primary: MANE Select or canonical only
_FLAGS = {"0": False, "1": True, "false": False, "true": True, False: False, True: True}


@dataclass(frozen=True)
class LookupRequest:
    """A checked ``/api/lookup`` request."""

    genome: str
    variant: str
    distance: int
    mask: bool
    pangolin_mask: bool
    models: tuple[str, ...]
    raw: bool
    transcripts: str


def _flag(params: dict, name: str, default: bool) -> bool:
    value = params.get(name, default)
    value = value.lower() if isinstance(value, str) else value
    if value not in _FLAGS:
        raise ParameterError(f"{name}: expected 0 or 1, got {str(value)[:40]!r}")
    return _FLAGS[value]


def variant_text(params: dict) -> str:
    """``variant``, or ``chrom``/``pos``/``ref``/``alt`` joined as ``CHROM-POS-REF-ALT``."""
    variant = params.get("variant")
    if variant is None and all(key in params for key in ("chrom", "pos", "ref", "alt")):
        variant = "-".join(str(params[key]) for key in ("chrom", "pos", "ref", "alt"))
    if not isinstance(variant, str) or not variant.strip():
        raise ParameterError("variant: give CHROM-POS-REF-ALT, CHROM:POS:REF:ALT or HGVS c. "
                             "(or chrom, pos, ref and alt)")  # fmt: skip
    return variant.strip()


def check_lookup(params: dict, genomes: dict, *, distance: int, mask: bool, pangolin_mask: bool) -> LookupRequest:
    """Check ``/api/lookup`` parameters; the server's ``-D``/``-M``/``--pangolin-mask`` are the defaults."""
    genome = str(params.get("genome", next(iter(genomes))))
    if genome not in genomes:
        raise ParameterError(f"genome: {genome[:40]!r} is not loaded (loaded: {', '.join(genomes)})")
    wanted = params.get("distance", distance)
    try:
        wanted = int(wanted)
    except (TypeError, ValueError):
        raise ParameterError(f"distance: expected an integer from 0 to {MAX_DISTANCE}") from None
    if not 0 <= wanted <= MAX_DISTANCE:
        raise ParameterError(f"distance: expected an integer from 0 to {MAX_DISTANCE}, got {wanted}")
    loaded = genomes[genome].models
    models = params.get("models", ",".join(loaded))
    names = models.split(",") if isinstance(models, str) else models
    if not isinstance(names, list) or not names or any(n not in (SPLICEAI, PANGOLIN) for n in names):
        raise ParameterError("models: expected spliceai and/or pangolin")
    missing = [name for name in names if name not in loaded]
    if missing:
        raise ParameterError(f"models: {missing[0]} is not loaded for genome {genome} "
                             f"(it serves {', '.join(loaded)})")  # fmt: skip
    transcripts = params.get("transcripts", "all")
    if transcripts not in TRANSCRIPT_CHOICES:
        raise ParameterError(f"transcripts: expected all or primary, got {str(transcripts)[:40]!r}")
    return LookupRequest(
        genome=genome,
        variant=variant_text(params),
        distance=wanted,
        mask=_flag(params, "mask", mask),
        pangolin_mask=_flag(params, "pangolin_mask", pangolin_mask),
        models=tuple(m for m in (SPLICEAI, PANGOLIN) if m in names),
        raw=_flag(params, "raw", False),
        transcripts=transcripts,
    )


def is_primary(item: TranscriptScores) -> bool:
    return bool(item.details and (item.details.mane_select or item.details.canonical))


def _raw(item: TranscriptScores) -> dict | None:
    if item.tracks is None:
        return None
    from spliceannot.classes import ACCEPTOR, DONOR

    ref, alt = item.tracks.reference, item.tracks.alternate
    return {
        "positions": [int(p) for p in item.tracks.positions1],
        "ref_acceptor": [round(float(v), 6) for v in ref[:, ACCEPTOR]],
        "alt_acceptor": [round(float(v), 6) for v in alt[:, ACCEPTOR]],
        "ref_donor": [round(float(v), 6) for v in ref[:, DONOR]],
        "alt_donor": [round(float(v), 6) for v in alt[:, DONOR]],
    }


def transcript_fields(item: TranscriptScores, model: str) -> dict:
    details = item.details
    fields = {
        "gene": details.gene_name if details and details.gene_name else item.gene,
        "transcript_id": details.transcript_id if details else None,
        "mane_select": bool(details and details.mane_select),
        "canonical": bool(details and details.canonical),
        "strand": item.strand,
        "biotype": details.biotype if details else None,
        "row": item.row,
    }
    if model == PANGOLIN:
        fields.update(gain=item.scores[0], loss=item.scores[1], gain_position=item.positions[0],
                      loss_position=item.positions[1])  # fmt: skip
        return fields
    names = ("DS_AG", "DS_AL", "DS_DG", "DS_DL")
    fields.update({n: (s if item.scores else None) for n, s in zip(names, item.scores or (None,) * 4)})
    positions = item.positions or (None,) * 4
    fields.update({n.replace("DS", "DP"): p for n, p in zip(names, positions)})
    raw = _raw(item)
    if raw is not None:
        fields["raw"] = raw
    return fields


def lookup_reply(request: LookupRequest, variant: GenomicVariant, hgvs_transcript: str | None,
                 answers: dict[str, Answer]) -> dict:  # fmt: skip
    """The reply: serve's fields (``scores``/``reason``, ``pangolin``/``pangolin_reason``) and per transcript."""
    reply = {
        "variant": request.variant,
        "genome": request.genome,
        "chrom": variant.chrom,
        "pos": variant.pos1,
        "ref": variant.ref,
        "alt": variant.alt,
        "hgvs_transcript": hgvs_transcript,
        "distance": request.distance,
        "mask": int(request.mask),
    }
    for model, answer in answers.items():
        items = [item for item in answer.transcripts if request.transcripts == "all" or is_primary(item)]
        rows = [transcript_fields(item, model) for item in items]
        if model == SPLICEAI:
            scored = answer.reason is None
            reply.update(scores=answer.value.split(",") if scored and answer.value else [], reason=answer.reason,
                         transcripts=rows, source=answer.source)  # fmt: skip
        else:
            reply.update(pangolin=answer.value, pangolin_reason=answer.reason, pangolin_genes=rows,
                         pangolin_mask=int(request.pangolin_mask))  # fmt: skip
    return reply
