"""Pangolin's weight files: their names, where they are found, which channel each is read for.

Pangolin ships 24 networks as ``final.R.T.3.v2`` (replicate ``R`` 1..3,
task ``T`` 0..7: even tasks are a tissue's P(splice), odd ones its usage).
Its command line scores with the twelve P(splice) networks, tissue-major
(heart, liver, brain, testis; replicates 1, 2, 3 within each), and reads
network ``final.R.T`` at channel ``SELECT[T]``: the splice class of that
tissue's two-way softmax.  No torch here (see :mod:`spliceannot.engine.files`).
"""

from __future__ import annotations

import importlib.util
import os
import re
from pathlib import Path

from spliceannot.errors import ModelError

TISSUES = ("heart", "liver", "brain", "testis")
TASKS = (0, 2, 4, 6)  # P(splice) of each tissue, in TISSUES order
REPLICATES = (1, 2, 3)
SELECT = {0: 1, 2: 4, 4: 7, 6: 10}
"""Task -> the output channel Pangolin reads (class 1 of that tissue's softmax)."""

MODELS_ENV = "SPLICEANNOT_PANGOLIN_MODELS"
FILE_PATTERN = re.compile(r"final\.([1-3])\.([0-7])\.3\.v2$")


def file_names() -> list[str]:
    """The twelve file names, in Pangolin's order (``models[3 * tissue + replicate - 1]``)."""
    return [f"final.{replicate}.{task}.3.v2" for task in TASKS for replicate in REPLICATES]


def task_of(path: str | Path) -> int | None:
    """The task of a Pangolin weight file named ``final.R.T.3.v2`` (None: not such a name)."""
    match = FILE_PATTERN.search(Path(path).name)
    return int(match.group(2)) if match else None


def is_pangolin_dir(path: Path) -> bool:
    """Whether ``path`` is a directory holding Pangolin weight files (complete or not)."""
    return path.is_dir() and any(FILE_PATTERN.search(p.name) for p in path.iterdir())


def set_in(directory: Path) -> list[Path]:
    """The twelve files of ``directory`` in Pangolin's order; a one-line error names what is missing."""
    paths = [directory / name for name in file_names()]
    missing = [p.name for p in paths if not p.is_file()]
    if missing:
        raise ModelError(
            f"{directory}: not a complete Pangolin weight set: {len(missing)} of 12 files missing "
            f"({', '.join(missing[:3])}{', ...' if len(missing) > 3 else ''})"
        )
    return paths


def installed_dir() -> Path | None:
    """``models/`` of an installed ``pangolin`` package holding Pangolin's weights (not imported)."""
    spec = importlib.util.find_spec("pangolin")
    if spec is None or not spec.submodule_search_locations:
        return None
    root = Path(next(iter(spec.submodule_search_locations))) / "models"
    return root if (root / file_names()[0]).is_file() else None


def models_dir(option: str | None = None) -> Path:
    """Where ``-m pangolin`` finds the weights: an installed ``pangolin`` package, else
    ``option`` (``--pangolin-models``), else ``$SPLICEANNOT_PANGOLIN_MODELS``."""
    found = installed_dir()
    if found is not None:
        return found
    named = option or os.environ.get(MODELS_ENV)
    if named:
        path = Path(named)
        if not path.is_dir():
            raise ModelError(f"{named}: Pangolin weight directory not found")
        return path
    raise ModelError(
        "-m pangolin: no Pangolin weights: install the `pangolin` package, or name the directory "
        f"holding its 12 files final.R.T.3.v2 with --pangolin-models DIR or ${MODELS_ENV}"
    )
