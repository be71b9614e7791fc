"""Device choice and CPU threading, in one place."""

from __future__ import annotations

import torch

DEVICES = ("auto", "cpu", "cuda")


def resolve_device(name: str = "auto") -> torch.device:
    """``auto`` -> CUDA when available, else CPU.  ``cuda`` without a GPU is an error."""
    if name not in DEVICES and not name.startswith("cuda:"):
        raise ValueError(f"device must be one of {DEVICES} or cuda:N, got {name!r}")
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError("--device cuda was asked for, but no CUDA device is available")
    return torch.device(name)


def set_cpu_threads(threads: int | None) -> None:
    """Use ``threads`` intra-op CPU threads (None keeps torch's default)."""
    if threads:
        torch.set_num_threads(threads)
