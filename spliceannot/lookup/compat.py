"""The SpliceAI-lookup API (``/spliceai/``, ``/pangolin/``): its parameters, errors and reply shape.

A client written for the public SpliceAI-lookup service (``?hg=38&variant=
CHROM-POS-REF-ALT&distance=D&mask=0|1&bc=basic``, GET or POST, parameters in
the query, a form or a JSON body) gets the same JSON fields, the same
status codes and errors that mean the same: 400 with ``{"error": ...,
"source": tool}`` for a bad parameter, 200 with an ``error`` for a variant
the model gives no scores for, 500 for a failure inside.  The scores are
this server's (``annotate``'s numbers for the same variant and options).
Pure: the request handler (:mod:`spliceannot.lookup.app`) does the I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

from spliceannot.lookup.engine import Answer, TranscriptScores
from spliceannot.lookup.genomes import PANGOLIN, SPLICEAI
from spliceannot.lookup.hgvs import GenomicVariant
from spliceannot.windows import MAX_DISTANCE

DEFAULT_DISTANCE = 500  # SpliceAI-lookup's default -D
DEFAULT_MASK = "0"
GENE_SETS = ("basic", "comprehensive")
ECHOED = ("variant", "hg", "bc", "distance", "mask", "raw", "variant_consequence")
MIN_SCORE = 0.01  # a per-position row is listed when a probability reaches this (or it holds a maximum)
PER_POSITION = {SPLICEAI: ("RA", "AA", "RD", "AD"), PANGOLIN: ("SL_REF", "SL_ALT", "SG_REF", "SG_ALT")}


class ParameterError(ValueError):
    """A bad request parameter: answered 400 with this text."""


@dataclass(frozen=True)
class CompatRequest:
    """A checked ``/spliceai/`` or ``/pangolin/`` request."""

    tool: str
    variant: str
    genome: str
    distance: int
    mask: bool
    echoed: dict


def example_url(tool: str, genome: str) -> str:
    return f"/{tool}/?hg={genome}&distance=500&mask=0&variant=chr8-140300615-C-G&bc=basic"


def check_request(tool: str, params: dict, genomes: dict) -> CompatRequest:
    """Check the parameters as SpliceAI-lookup does; raises :class:`ParameterError`.

    ``genomes``: the loaded genomes by name, each with the models it serves (``.models``).
    """
    example = example_url(tool, next(iter(genomes), "38"))
    variant = params.get("variant", "")
    if not isinstance(variant, str):
        raise ParameterError(f'"variant" value must be a string rather than a {type(variant).__name__}.\n')
    variant = variant.strip().strip("'").strip('"').strip(",")
    if not variant:
        raise ParameterError('"variant" not specified.\n')
    genome = params.get("hg")
    names = ", ".join(genomes)
    if not genome:
        raise ParameterError(f'"hg" not specified. The URL must include an "hg" arg: hg={names}. '
                             f"For example: {example}\n")  # fmt: skip
    genome = str(genome)
    if genome not in genomes:
        raise ParameterError(f'Invalid "hg" value: "{genome}". The value must be one of the genomes this '
                             f"server loaded: {names}. For example: {example}\n")  # fmt: skip
    if tool not in genomes[genome].models:
        loaded = " and ".join(genomes[genome].models)
        raise ParameterError(f"ERROR: This server is configured to run {loaded} rather than {tool}.\n")
    distance = params.get("distance", DEFAULT_DISTANCE)
    try:
        distance = int(distance)
    except (TypeError, ValueError):
        raise ParameterError(f'Invalid "distance": "{distance}". The value must be an integer.\n') from None
    if distance < 0:
        raise ParameterError(f'Invalid "distance": "{distance}". The value must be non-negative.\n')
    if distance > MAX_DISTANCE:
        raise ParameterError(f'Invalid "distance": "{distance}". The value must be <= {MAX_DISTANCE}.\n')
    mask = str(params.get("mask", DEFAULT_MASK))
    if mask not in ("0", "1"):
        raise ParameterError(f'Invalid "mask" value: "{mask}". The value must be either "0" or "1". '
                             f"For example: {example}\n")  # fmt: skip
    gene_set = params.get("bc", GENE_SETS[0])
    if gene_set not in GENE_SETS:
        raise ParameterError(f'Invalid "bc" value: "{gene_set}". The value must be either "basic" or '
                             f'"comprehensive". For example: {example}\n')  # fmt: skip
    echoed = {key: params[key] for key in ECHOED if key in params and isinstance(params[key], (str, int))}
    return CompatRequest(tool, variant, genome, distance, mask == "1", echoed)


def unparsable(tool: str, request: CompatRequest, reason: str) -> ParameterError:
    return ParameterError(f'Unable to parse "variant": "{request.variant}". Expected a chrom-pos-ref-alt '
                          f"variant (e.g. chr8-140300615-C-G) or HGVS c. against a loaded transcript. {reason}\n")


def no_scores(request: CompatRequest, reason: str) -> dict:
    """The 200 reply for a variant the model gives no scores for (``reason``: ``annotate``'s)."""
    if request.tool == PANGOLIN:
        text = f"Pangolin was unable to compute scores for this variant ({reason})."
    else:
        text = (f"The SpliceAI model did not return any scores for {request.variant} ({reason}). This may be "
                "because the variant does not overlap any exons or introns defined by the annotation.")
    return {**request.echoed, "variant": request.variant, "source": request.tool, "error": text}


def _number(value: float) -> str:
    return f"{float(value):.3f}"


def _annotations(item: TranscriptScores) -> dict:
    details = item.details
    return {
        "g_name": (details.gene_name if details and details.gene_name else item.gene),
        "g_id": details.gene_id if details else None,
        "t_id": details.transcript_id if details else None,
        "t_type": details.biotype if details else None,
        "t_strand": item.strand,
        "t_priority": details.priority if details else "N",
        "t_refseq_ids": [details.transcript_id] if details and details.accession.startswith(("NM_", "NR_")) else None,
        "mane_select": bool(details and details.mane_select),
        "canonical": bool(details and details.canonical),
    }


def per_position_rows(tool: str, item: TranscriptScores) -> list[dict] | None:
    """The ``ALL_NON_ZERO_SCORES`` rows of one transcript (None without tracks)."""
    tracks = item.tracks
    if tracks is None:
        return None
    from spliceannot.classes import ACCEPTOR, DONOR

    ref, alt = tracks.reference, tracks.alternate
    columns = (ref[:, ACCEPTOR], alt[:, ACCEPTOR], ref[:, DONOR], alt[:, DONOR])
    maxima = {int(i) for i in ((alt - ref)[:, ACCEPTOR].argmax(), (ref - alt)[:, ACCEPTOR].argmax(),
                               (alt - ref)[:, DONOR].argmax(), (ref - alt)[:, DONOR].argmax())}  # fmt: skip
    names = PER_POSITION[tool]
    rows = []
    for index, position in enumerate(tracks.positions1):
        values = [float(column[index]) for column in columns]
        if index in maxima or max(values) >= MIN_SCORE:
            rows.append({"pos": int(position), **{n: _number(v) for n, v in zip(names, values)}})
    return rows


def _spliceai_transcript(item: TranscriptScores) -> dict:
    fields = ("AG", "AL", "DG", "DL")
    entry: dict = {}
    if item.scores:
        entry.update({f"DS_{f}": s for f, s in zip(fields, item.scores)})
        entry.update({f"DP_{f}": p for f, p in zip(fields, item.positions)})
    else:  # SpliceAI does not score REF and ALT both longer than one base
        entry.update({f"DS_{f}": None for f in fields} | {f"DP_{f}": None for f in fields})
    if item.tracks is not None and item.scores:
        from spliceannot.classes import ACCEPTOR, DONOR

        column = {"AG": ACCEPTOR, "AL": ACCEPTOR, "DG": DONOR, "DL": DONOR}
        centre = len(item.tracks.positions1) // 2
        for f, p in zip(fields, item.positions):
            entry[f"DS_{f}_REF"] = _number(item.tracks.reference[centre + p, column[f]])
            entry[f"DS_{f}_ALT"] = _number(item.tracks.alternate[centre + p, column[f]])
    rows = per_position_rows(SPLICEAI, item)
    entry["nNonZeroScores"] = None if rows is None else len(rows)
    entry.update(_annotations(item))
    return entry


def _pangolin_gene(item: TranscriptScores) -> dict:
    return {"DS_SG": item.scores[0], "DS_SL": item.scores[1], "DP_SG": item.positions[0],
            "DP_SL": item.positions[1], "nNonZeroScores": None, **_annotations(item)}  # fmt: skip


_PRIORITY = {"MS": 3, "MP": 2, "C": 1, "N": 0}


def selected(entries: list[dict], items: tuple[TranscriptScores, ...], tool: str) -> int | None:
    """The transcript SpliceAI-lookup shows per position: highest priority, then largest |delta| sum."""
    keys = ("DS_AG", "DS_AL", "DS_DG", "DS_DL") if tool == SPLICEAI else ("DS_SG", "DS_SL")
    best, best_rank = None, None
    for index, entry in enumerate(entries):
        total = sum(abs(float(entry[k])) for k in keys if entry.get(k) is not None)
        rank = (_PRIORITY.get(entry["t_priority"], 0), total)
        if best_rank is None or rank > best_rank:
            best, best_rank = index, rank
    return best


def scores_reply(request: CompatRequest, variant: GenomicVariant, answer: Answer) -> dict:
    """The 200 reply with scores, in SpliceAI-lookup's shape (``answer.reason`` must be None)."""
    tool = request.tool
    if tool == PANGOLIN:
        entries = [_pangolin_gene(item) for item in answer.transcripts]
        mask: object = "True" if request.mask else "False"
    else:
        entries = [_spliceai_transcript(item) for item in answer.transcripts]
        mask = int(request.mask)
    chosen = selected(entries, answer.transcripts, tool)
    rows = per_position_rows(tool, answer.transcripts[chosen]) if chosen is not None else None
    if rows is not None:
        rows = [row for row in rows if max(float(row[n]) for n in PER_POSITION[tool]) >= MIN_SCORE]
    reply = {
        **request.echoed,
        "variant": request.variant,
        "genomeVersion": request.genome,
        "chrom": variant.chrom,
        "pos": variant.pos1,
        "ref": variant.ref,
        "alt": variant.alt,
        "distance": request.distance,
        "mask": mask,
        "scores": entries,
        "source": f"{tool}:{'cache' if answer.source == 'cache' else 'model'}",
        "allNonZeroScores": rows,
        "allNonZeroScoresStrand": entries[chosen]["t_strand"] if chosen is not None and rows is not None else None,
        "allNonZeroScoresTranscriptId": entries[chosen]["t_id"] if chosen is not None and rows is not None else None,
    }
    if tool == SPLICEAI:
        reply.update(sai10kPredictions=None, sai10kPredictionsError="SAI-10k-calc is not part of this server.")
    return reply


def transcript_rows(tool: str, answer: Answer, transcript: object) -> dict | str:
    """The ``/scores/`` reply: one transcript's per-position rows (``{"transcript", "strand", "rows"}``),
    or the error text (no ``transcript`` given, or not among the variant's transcripts)."""
    if not isinstance(transcript, str) or not transcript.strip():
        return '"transcript" not specified.\n'
    wanted = transcript.strip()
    for item in answer.transcripts:
        entry = _annotations(item)
        found = entry.get("t_id")
        if found and (found == wanted or found.split(".")[0] == wanted.split(".")[0]):  # version optional
            rows = per_position_rows(tool, item) if item.scores else None
            return {"transcript": found, "strand": entry["t_strand"], "rows": rows or []}
    return f'Transcript "{wanted}" not found in the results for this variant.\n'
