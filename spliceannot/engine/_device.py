"""Device choice, CPU threading, the convolution kernel per device and CUDA settings, in one place."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch

from spliceannot.engine.model import Conv, torch_conv

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


def _mkldnn_conv(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, dilation: int) -> torch.Tensor:
    return torch.mkldnn_convolution(x, weight, bias, [0], [1], [dilation], 1)


def choose_conv(device: torch.device) -> Conv:
    """The convolution whose bits do not depend on where a position sits, on ``device``.

    On CPU, oneDNN's convolution is called directly: ``F.conv1d`` picks a
    kernel by batch size, length, width and thread count, and the kernels
    round differently, so a position's value would depend on its chunk and
    on the thread count.  oneDNN alone gives the same bits for a position at
    the same offset modulo 64 in any tensor.  Elsewhere (CUDA, or a torch
    without oneDNN) ``F.conv1d``.
    """
    if device.type != "cpu" or not torch.backends.mkldnn.is_available():
        return torch_conv
    try:
        probe = torch.zeros(1, 2, 8)
        _mkldnn_conv(probe, torch.zeros(2, 2, 3), torch.zeros(2), 2)
    except (AttributeError, RuntimeError, TypeError):
        return torch_conv
    return _mkldnn_conv


@contextlib.contextmanager
def cuda_settings(device: torch.device, *, tf32: bool = False) -> Iterator[None]:
    """On CUDA: TF32 convolutions only if ``tf32``, deterministic cuDNN algorithms; restored after."""
    if device.type != "cuda":
        yield
        return
    cudnn = torch.backends.cudnn
    saved = (cudnn.allow_tf32, cudnn.deterministic, cudnn.benchmark)
    cudnn.allow_tf32, cudnn.deterministic, cudnn.benchmark = tf32, True, False
    try:
        yield
    finally:
        cudnn.allow_tf32, cudnn.deterministic, cudnn.benchmark = saved
