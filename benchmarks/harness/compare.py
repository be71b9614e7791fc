"""Outputs of two spliceannot executables compared byte for byte (``revisions.py``).

A VCF is compared without the header lines that name the run (the date, the
version, the command line and the working directory); every other file as it
is. A difference is reported as the first line (or byte) where the two differ.
"""

from __future__ import annotations

import gzip
from pathlib import Path

SIDES = ("before", "after")
#: Header lines that name the run rather than the result: left out when VCFs are compared.
RUN_HEADERS = (
    b"##fileDate=",
    b"##spliceannotVersion=",
    b"##spliceannotCommand=",
    b"##spliceannotWorkingDirectory=",
)
VCF_SUFFIXES = (".vcf", ".gz", ".bgz")


def comparable(path: Path) -> tuple[list[bytes], list[str]]:
    """A VCF's lines without :data:`RUN_HEADERS`, and the lines left out."""
    opener = gzip.open if path.suffix in (".gz", ".bgz") else open
    kept, dropped = [], []
    with opener(path, "rb") as handle:
        for line in handle:
            (dropped if line.startswith(RUN_HEADERS) else kept).append(line)
    return kept, [line.decode(errors="replace").rstrip("\n") for line in dropped]


def _show(item: bytes | str) -> str:
    text = item.decode(errors="replace") if isinstance(item, bytes) else item
    return repr(text.rstrip("\n")[:300])


def first_difference(
    before: list, after: list, unit: str = "line", labels: tuple[str, str] = SIDES
) -> str | None:
    """Where two lists of lines (or replies) first differ, 1-based; None if they are equal."""
    for index, (a, b) in enumerate(zip(before, after), start=1):
        if a != b:
            return f"{unit} {index}: {labels[0]} {_show(a)} / {labels[1]} {_show(b)}"
    if len(before) != len(after):
        return f"{len(before)} {unit}s {labels[0]}, {len(after)} {labels[1]}"
    return None


def compare_files(before: Path, after: Path, labels: tuple[str, str] = SIDES) -> str | None:
    """None if the files agree (VCFs: but for :data:`RUN_HEADERS`), else the first difference."""
    if not before.exists() or not after.exists():
        return f"{before.name}: no file {labels[0] if not before.exists() else labels[1]}"
    if before.suffix in VCF_SUFFIXES:
        return first_difference(comparable(before)[0], comparable(after)[0], labels=labels)
    a, b = before.read_bytes(), after.read_bytes()
    if a == b:
        return None
    try:
        return first_difference(a.decode().splitlines(), b.decode().splitlines(), labels=labels)
    except UnicodeDecodeError:
        offset = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
        return f"byte {offset:,} (sizes {len(a):,} / {len(b):,})"


def compare_runs(outputs: dict[str, list[list[Path]]]) -> str | None:
    """Every run's files against those of the first ``before`` run, by name; None if all agree.

    ``outputs`` maps ``before`` and ``after`` to one list of files per run.
    """
    reference = outputs["before"][0] if outputs["before"] else []
    names = [path.name for path in reference]
    for side in SIDES:
        for index, files in enumerate(outputs[side], start=1):
            if [path.name for path in files] != names:
                return f"{side} run {index}: files {[p.name for p in files]}, before run 1 {names}"
            for mine, theirs in zip(files, reference):
                detail = compare_files(theirs, mine, ("before run 1", f"{side} run {index}"))
                if detail:
                    return f"{side} run {index}, {mine.name}: {detail}"
    return None
