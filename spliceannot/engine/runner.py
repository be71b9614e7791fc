"""Running an ensemble on inputs: one-hot windows (:class:`Predictor`) or base codes (:class:`Network`).

Both call :class:`~spliceannot.engine.model.Ensemble`'s one forward pass;
they differ in how inputs arrive and in the numerics they promise.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from spliceannot.encoding import code_rows
from spliceannot.engine._device import choose_conv, cuda_settings, resolve_device
from spliceannot.engine.model import Ensemble
from spliceannot.engine.weights import LoadedModel


class Predictor:
    """Run a loaded ensemble over one-hot windows of different lengths, in batches.

    Convolutions are valid, so the first ``L - flank`` outputs of a window do
    not depend on anything to its right: windows of different lengths share a
    batch by padding with zeros (``N``) on the right.

    Parameters
    ----------
    model
        The loaded ensemble.
    device
        ``auto``, ``cpu``, ``cuda`` or ``cuda:N``.
    batch_size
        Windows per forward pass.
    """

    def __init__(self, model: LoadedModel, *, device: str = "auto", batch_size: int = 32) -> None:
        self.model = model
        self.device = resolve_device(device)
        self.batch_size = max(1, int(batch_size))
        self.ensemble = model.ensemble.to(self.device).eval()

    @property
    def flank(self) -> int:
        return self.model.flank

    def predict(self, windows: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Probabilities for each window.

        Parameters
        ----------
        windows
            One-hot arrays ``(length_i, 4)``, each at least ``flank + 1`` long.

        Returns
        -------
        list of numpy.ndarray
            float32 ``(length_i - flank, 3)`` per window (neither, acceptor, donor).
        """
        results: list[np.ndarray | None] = [None] * len(windows)
        order = sorted(range(len(windows)), key=lambda i: len(windows[i]))
        for first in range(0, len(order), self.batch_size):
            chunk = order[first : first + self.batch_size]
            longest = len(windows[chunk[-1]])
            batch = np.zeros((len(chunk), longest, 4), dtype=np.float32)
            for row, index in enumerate(chunk):
                batch[row, : len(windows[index])] = windows[index]
            with torch.inference_mode():
                tensor = torch.from_numpy(batch).to(self.device).transpose(1, 2)
                probs = self.ensemble(tensor).float().cpu().numpy()
            for row, index in enumerate(chunk):
                results[index] = probs[row, : len(windows[index]) - self.flank].copy()
        return results  # type: ignore[return-value]


class Network:
    """An ensemble prepared for inference on base codes, with position-independent bits.

    Parameters
    ----------
    model
        A :class:`LoadedModel` or an :class:`Ensemble` (copied, not changed).
    device
        ``auto``, ``cpu``, ``cuda`` or ``cuda:N``.
    fused
        Fold BatchNorm into the members (faster; equal to float32 rounding).
    tf32
        On CUDA, allow TF32 convolutions (faster, ~1e-3 less exact).  Off by
        default: CUDA then computes in full float32.  cuDNN's algorithms are
        the deterministic ones either way.

    Notes
    -----
    The convolution is :func:`~spliceannot.engine._device.choose_conv`'s:
    on CPU a position's value is the same bits at the same offset modulo 64
    of any input, whatever its length, batch or the thread count.
    """

    def __init__(
        self,
        model: LoadedModel | Ensemble,
        *,
        device: str = "auto",
        fused: bool = True,
        tf32: bool = False,
    ) -> None:
        ensemble = model.ensemble if isinstance(model, LoadedModel) else model
        self.device = resolve_device(device)
        self.ensemble = ensemble.for_inference(self.device, fold=fused)
        self.flank = ensemble.flank
        self.conv = choose_conv(self.device)
        self.tf32 = tf32
        self._rows = torch.from_numpy(code_rows()).to(self.device)  # base code -> one-hot row

    def __call__(self, codes: np.ndarray) -> np.ndarray:
        """Probabilities for base codes.

        Parameters
        ----------
        codes
            uint8 ``(batch, L)`` (0 N, 1 A, 2 C, 3 G, 4 T), ``L > flank``.

        Returns
        -------
        numpy.ndarray
            float32 ``(batch, L - flank, 3)`` (neither, acceptor, donor).
        """
        with torch.inference_mode(), cuda_settings(self.device, tf32=self.tf32):
            tokens = torch.from_numpy(np.ascontiguousarray(codes)).to(self.device).long()
            x = self._rows[tokens].transpose(1, 2).contiguous()
            return self.ensemble(x, self.conv).cpu().numpy()
