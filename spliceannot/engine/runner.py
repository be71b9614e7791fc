"""Batched inference over windows of different lengths.

Convolutions are valid, so the first ``L - flank`` outputs of a window do
not depend on anything to its right: windows of different lengths share a
batch by padding with zeros (``N``) on the right.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from spliceannot.engine._device import resolve_device
from spliceannot.engine.weights import LoadedModel


class Predictor:
    """Run a loaded ensemble over one-hot windows, in batches.

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
