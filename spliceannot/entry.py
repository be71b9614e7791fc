"""The SpliceAI INFO entry: its key and header line, how an entry is printed and parsed,
and the opt-in numeric per-allele fields derived from it.

An entry is ``ALLELE|SYMBOL|DS_AG|DS_AL|DS_DG|DS_DL|DP_AG|DP_AL|DP_DG|DP_DL``:
one per ALT and gene, comma-separated in ``INFO/SpliceAI``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spliceannot.scoring import DeltaScores

INFO_KEY = "SpliceAI"
INFO_HEADER = (
    '##INFO=<ID=SpliceAI,Number=.,Type=String,Description="SpliceAIv1.3.1 variant annotation. '
    "These include delta scores (DS) and delta positions (DP) for acceptor gain (AG), acceptor "
    "loss (AL), donor gain (DG), and donor loss (DL). "
    'Format: ALLELE|SYMBOL|DS_AG|DS_AL|DS_DG|DS_DL|DP_AG|DP_AL|DP_DG|DP_DL">'
)
FIELDS = ("AG", "AL", "DG", "DL")


def format_score(value: np.floating, precision: int = 2) -> str:
    """A delta score as SpliceAI prints it: Python fixed-point rounding."""
    return format(float(value), f".{precision}f")


def format_entry(alt: str, name: str, scores: DeltaScores | None, precision: int = 2) -> str:
    """One ``ALLELE|SYMBOL|DS_AG|...|DP_DL`` entry; ``scores=None`` gives dots."""
    if scores is None:
        return f"{alt}|{name}|.|.|.|.|.|.|.|."
    text = [format_score(v, precision) for v in scores.scores]
    return "|".join([alt, name, *text, *(str(p) for p in scores.positions)])


@dataclass(frozen=True)
class EntryScores:
    """One INFO entry ``ALLELE|SYMBOL|DS_AG|DS_AL|DS_DG|DS_DL|DP_AG|DP_AL|DP_DG|DP_DL``, split.

    ``scores`` are the printed texts (``"0.99"``), ``positions`` relative to
    the variant in nucleotides; both empty for a dotted entry.
    """

    entry: str
    allele: str
    symbol: str
    scores: tuple[str, ...]
    positions: tuple[int, ...]

    @classmethod
    def parse(cls, entry: str) -> EntryScores:
        fields = entry.split("|")
        if len(fields) != 10:
            raise ValueError(f"not a SpliceAI entry: {entry!r}")
        if fields[2] == ".":
            return cls(entry, fields[0], fields[1], (), ())
        return cls(
            entry, fields[0], fields[1], tuple(fields[2:6]), tuple(int(p) for p in fields[6:10])
        )

    @property
    def labelled(self) -> dict[str, tuple[str, int]]:
        """``{"AG": ("0.99", -1), ...}``: each delta score with its position."""
        return {
            name: (score, position)
            for name, score, position in zip(FIELDS, self.scores, self.positions)
        }

    @property
    def maximum(self) -> float:
        """The largest of the four delta scores (``nan`` for a dotted entry)."""
        return max(float(s) for s in self.scores) if self.scores else float("nan")


def entry_values(entry: str) -> tuple | None:
    """``(DS_AG, DS_AL, DS_DG, DS_DL, DP_AG, DP_AL, DP_DG, DP_DL)`` of an entry (None: dots or not an entry)."""
    try:
        parsed = EntryScores.parse(entry)
        return tuple(float(v) for v in parsed.scores) + parsed.positions if parsed.scores else None
    except ValueError:
        return None


PER_ALLELE_FIELDS = (
    ("SpliceAI_DS_AG", "Float", "acceptor gain"),
    ("SpliceAI_DS_AL", "Float", "acceptor loss"),
    ("SpliceAI_DS_DG", "Float", "donor gain"),
    ("SpliceAI_DS_DL", "Float", "donor loss"),
    ("SpliceAI_DP_AG", "Integer", "acceptor gain"),
    ("SpliceAI_DP_AL", "Integer", "acceptor loss"),
    ("SpliceAI_DP_DG", "Integer", "donor gain"),
    ("SpliceAI_DP_DL", "Integer", "donor loss"),
    ("SpliceAI_DS_MAX", "Float", "maximum"),
)


def per_allele_header_lines() -> list[str]:
    """The ``##INFO`` lines of the ``--per-allele-fields`` fields."""
    lines = []
    for key, kind, what in PER_ALLELE_FIELDS:
        if key.endswith("MAX"):
            description = "Largest of the four SpliceAI delta scores over all genes, per ALT"
        elif "_DS_" in key:
            description = f"SpliceAI {what} delta score, the maximum over genes, per ALT"
        else:
            description = (
                f"SpliceAI {what} delta position, of the gene with the largest {what} delta score "
                "(the first in annotation order on ties), per ALT"
            )
        lines.append(f'##INFO=<ID={key},Number=A,Type={kind},Description="{description}">')
    return lines


def set_per_allele(record, per_allele: list[tuple | None]) -> tuple[str, ...]:
    """Set the per-allele fields on ``record``; returns the keys set."""
    if all(values is None for values in per_allele):
        return ()
    for column, (key, _, _) in enumerate(PER_ALLELE_FIELDS):
        if key.endswith("MAX"):
            record.info[key] = tuple(None if v is None else max(v[:4]) for v in per_allele)
        else:
            record.info[key] = tuple(None if v is None else v[column] for v in per_allele)
    return tuple(key for key, _, _ in PER_ALLELE_FIELDS)
