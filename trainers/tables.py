"""The result tables of ``evaluate`` and ``calibrate``: aligned text for the terminal, TSV for files."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence


def _cell(value) -> str:
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.4f}"
    return str(value)


def format_table(rows: Sequence[dict], columns: Sequence[str]) -> str:
    """``rows`` as left-aligned columns separated by two spaces; floats with 4 decimals."""
    body = [[_cell(row[c]) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in body)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths)) for r in body]
    return "\n".join(lines)


def write_tsv(path: str | os.PathLike, rows: Sequence[dict], columns: Sequence[str]) -> None:
    """``rows`` as TSV with a header line (floats as ``%.6g``), published atomically."""
    from spliceannot.atomic import atomic_path

    with atomic_path(path) as temporary, open(temporary, "w") as handle:
        handle.write("\t".join(columns) + "\n")
        handle.writelines(
            "\t".join(f"{row[c]:.6g}" if isinstance(row[c], float) else str(row[c]) for c in columns) + "\n"
            for row in rows
        )
