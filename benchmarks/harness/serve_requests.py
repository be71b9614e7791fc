"""A fixed set of ``spliceannot serve`` requests, and replies made comparable (``revisions.py``).

The requests (JSON lines, docs/serve.md) cover scored variants of the dense
workload (SNVs, a ``chr``-less contig name, a deletion, an insertion, a
multi-allelic record as a list and as text, an MNV), per-request
``distance``/``mask``, records ``serve`` does not score, bad requests, a blank
line, ``health``, an unknown ``op`` and ``shutdown``.
"""

from __future__ import annotations

import json
from pathlib import Path

from .genome import Genome

#: Fields of the health reply that depend on timing, not on what was asked.
TIMING_FIELDS = ("uptime_s", "batches")


def _rows(vcf: Path) -> list[list[str]]:
    lines = vcf.read_text().splitlines()
    return [line.split("\t")[:5] for line in lines if line and not line.startswith("#")]


def serve_requests(genome: Genome, dense_vcf: Path) -> list[str]:
    """The request lines, ending with ``shutdown``."""
    rows = _rows(dense_vcf)

    def first(test) -> list[str]:
        return next(row for row in rows if test(row[3], row[4]))

    snv = first(lambda ref, alt: len(ref) == len(alt) == 1)
    deletion = first(lambda ref, alt: len(ref) > 1 and len(alt) == 1)
    insertion = first(lambda ref, alt: len(ref) == 1 and len(alt) > 1 and "," not in alt)
    multi = first(lambda ref, alt: "," in alt)
    mnv = first(lambda ref, alt: len(ref) == len(alt) > 1)
    more_snvs = [row for row in rows if len(row[3]) == len(row[4]) == 1][1:4]
    outside = genome.first_real_pos + 200  # real sequence before the first gene
    outside_ref = genome.ref(outside)
    outside_alt = "T" if outside_ref != "T" else "G"
    wrong_ref = "A" if snv[3] != "A" else "C"

    def variant(row: list[str], **fields) -> dict:
        return {"chrom": row[0], "pos": int(row[1]), "ref": row[3], "alt": row[4], **fields}

    requests = [
        {"id": 1, **variant(snv)},
        {"id": "snv-no-chr", **variant(snv, chrom=snv[0].removeprefix("chr"))},
        *({"id": f"snv-{i}", **variant(row)} for i, row in enumerate(more_snvs, start=2)),
        {"id": "deletion", **variant(deletion)},
        {"id": "insertion", **variant(insertion)},
        {"id": "multi-list", **variant(multi, alt=multi[4].split(","))},
        {"id": "multi-text", **variant(multi)},
        {"id": "mnv", **variant(mnv)},
        {"id": "D500-M1", **variant(snv, distance=500, mask=1)},
        {"id": "D0-deletion", **variant(deletion, distance=0)},
        {"id": "M1-insertion", **variant(insertion, mask=1)},
        {"id": "D200", **variant(more_snvs[0], distance=200)},
        {"id": "ref-mismatch", **variant(snv, ref=wrong_ref)},
        {"id": "no-gene", **variant([genome.contig, str(outside), ".", outside_ref, outside_alt])},
        {"id": "no-contig", "chrom": "chrUn_x", "pos": 1000, "ref": "A", "alt": "C"},
        {"id": "symbolic", **variant(snv, alt="<DEL>")},
        {"id": "star", **variant(snv, alt="*")},
        {"id": "pos-float", **variant(snv, pos=12.5)},
        {"id": "pos-zero", **variant(snv, pos=0)},
        {"id": "no-ref", "chrom": snv[0], "pos": int(snv[1]), "alt": "A"},
        {"id": "D-too-big", **variant(snv, distance=5000)},
        {"id": "M-bad", **variant(snv, mask=2)},
    ]
    lines = [json.dumps(request) for request in requests]
    lines += [
        '{"id": "nan", "chrom": "16", "pos": NaN, "ref": "A", "alt": "C"}',
        "not json",
        "[1, 2]",
        "",
        json.dumps({"op": "health"}),
        json.dumps({"op": "reload", "id": "unknown-op"}),
        json.dumps({"op": "shutdown"}),
    ]
    return lines


def without_timing(reply: str) -> str:
    """A reply line as is, but a health reply without :data:`TIMING_FIELDS`."""
    try:
        value = json.loads(reply)
    except json.JSONDecodeError:
        return reply
    if isinstance(value, dict) and value.get("op") == "health":
        return json.dumps({k: v for k, v in value.items() if k not in TIMING_FIELDS})
    return reply
