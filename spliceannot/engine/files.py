"""Which weight files a ``--model`` names, their digest and flank, without torch.

Importing torch and building networks costs seconds; a run whose scores all
come from the score cache needs neither, only the model's identity (the
digest of its files) and its flank (which sets the scoring window).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import struct
from collections.abc import Sequence
from pathlib import Path

from spliceannot.engine import pangolin_files
from spliceannot.errors import ModelError

WEIGHT_SUFFIXES = (".h5", ".pt", ".pth", ".safetensors")
SPLICEAI_FLANK = 10_000


def spliceai_model_paths() -> list[Path]:
    """The five Keras files shipped in the installed ``spliceai`` package (not imported)."""
    spec = importlib.util.find_spec("spliceai")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError("--model spliceai needs the `spliceai==1.3.1` package, which is not installed")
    root = Path(list(spec.submodule_search_locations)[0]) / "models"
    paths = [root / f"spliceai{i}.h5" for i in range(1, 6)]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise ModelError(f"the spliceai package is missing {', '.join(missing)}")
    return paths


def model_files(spec: str) -> list[Path]:
    """The weight files ``spec`` names, in load (and ensemble) order.

    ``pangolin`` and a directory of Pangolin's ``final.R.T.3.v2`` files name
    its twelve P(splice) networks (see :mod:`spliceannot.engine.pangolin_files`).
    """
    if spec == "spliceai":
        return spliceai_model_paths()
    if spec == "pangolin":
        return pangolin_files.set_in(pangolin_files.models_dir())
    path = Path(spec)
    if pangolin_files.is_pangolin_dir(path):
        return pangolin_files.set_in(path)
    if path.is_dir():
        paths = sorted(p for p in path.iterdir() if p.suffix.lower() in WEIGHT_SUFFIXES)
        if not paths:
            raise ModelError(f"{spec}: directory holds no {', '.join(WEIGHT_SUFFIXES)} files")
        return paths
    if path.is_file():
        return [path]
    raise ModelError(f"{spec}: model not found (expected `spliceai`, `pangolin`, a weight file or a directory)")


def model_family(spec: str, paths: Sequence[Path]) -> str | None:
    """``spliceai`` or ``pangolin`` (which scoring the model's outputs feed), when known without
    loading the networks; None for files that need loading (never for the shipped models)."""
    if spec == "pangolin" or all(pangolin_files.task_of(p) is not None for p in paths):
        return "pangolin"
    heads = set()
    for path in paths:
        suffix = path.suffix.lower()
        if suffix in (".h5", ".pt", ".pth"):
            heads.add("softmax")
        elif suffix == ".safetensors":
            metadata = _safetensors_metadata(path)
            if metadata is None:
                return None
            heads.add(metadata.get("head", "softmax"))
        else:
            return None
    if len(heads) != 1:
        return None
    return "pangolin" if heads.pop() == "pangolin" else "spliceai"


def _safetensors_metadata(path: Path) -> dict | None:
    try:
        with open(path, "rb") as handle:
            (size,) = struct.unpack("<Q", handle.read(8))
            if size > 100_000_000:
                return None
            return json.loads(handle.read(size)).get("__metadata__") or {}
    except (OSError, ValueError, TypeError, AttributeError, struct.error):
        return None


def file_digest(paths: Sequence[Path]) -> str:
    """SHA-256 over the files' bytes, in order: the model's identity."""
    h = hashlib.sha256()
    for path in paths:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()


def peek_flank(spec: str, paths: Sequence[Path]) -> int | None:
    """The flank, when it can be read without building the networks (else None).

    ``spliceai`` and Pangolin's files are 10,000; spliceannot checkpoints carry it in their
    safetensors metadata.  Other files need loading.
    """
    if spec in ("spliceai", "pangolin") or all(pangolin_files.task_of(p) is not None for p in paths):
        return SPLICEAI_FLANK
    flanks = set()
    for path in paths:
        if path.suffix.lower() != ".safetensors":
            return None
        metadata = _safetensors_metadata(path)
        try:
            flanks.add(int(metadata["flank"]))  # type: ignore[index]
        except (KeyError, TypeError, ValueError):
            return None
    return flanks.pop() if len(flanks) == 1 else None
