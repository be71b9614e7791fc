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
    """The weight files ``spec`` names, in load (and ensemble) order."""
    if spec == "spliceai":
        return spliceai_model_paths()
    path = Path(spec)
    if path.is_dir():
        paths = sorted(p for p in path.iterdir() if p.suffix.lower() in WEIGHT_SUFFIXES)
        if not paths:
            raise ModelError(f"{spec}: directory holds no {', '.join(WEIGHT_SUFFIXES)} files")
        return paths
    if path.is_file():
        return [path]
    raise ModelError(f"{spec}: model not found (expected `spliceai`, a weight file or a directory)")


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

    ``spliceai`` is 10,000; spliceannot checkpoints carry it in their
    safetensors metadata.  Other files need loading.
    """
    if spec == "spliceai":
        return SPLICEAI_FLANK
    flanks = set()
    for path in paths:
        if path.suffix.lower() != ".safetensors":
            return None
        try:
            with open(path, "rb") as handle:
                (size,) = struct.unpack("<Q", handle.read(8))
                if size > 100_000_000:
                    return None
                header = json.loads(handle.read(size))
            flanks.add(int(header["__metadata__"]["flank"]))
        except (OSError, ValueError, KeyError, TypeError, struct.error):
            return None
    return flanks.pop() if len(flanks) == 1 else None
