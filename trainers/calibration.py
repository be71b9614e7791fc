"""Temperature scaling: fitting it, applying it, its reliability diagram, and ``calibrate`` end to end."""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import torch

from spliceannot.engine.model import Temperature, scale_logits
from spliceannot.trainers.lifecycle import LifecycleError, device_name, load, open_data
from spliceannot.trainers.tables import format_table


def fit_temperature(member_logits: np.ndarray, labels: np.ndarray, *, per_class: bool) -> Temperature:
    """Temperature minimising the NLL of the ensemble's mean probability.

    ``member_logits`` is ``(members, n, 3)``; the temperature is applied to
    every member's logits before the softmax, as :class:`Ensemble` does
    (:func:`~spliceannot.engine.model.scale_logits`).  ``per_class`` fits one
    value for the acceptor and one for the donor log-odds.
    """
    logits = torch.from_numpy(np.ascontiguousarray(member_logits, dtype=np.float32)).double()
    logits = (logits - logits[..., :1]).permute(0, 2, 1)  # (m, 3, n), log-odds vs neither
    target = torch.from_numpy(labels.astype(np.int64))
    log_t = torch.zeros(2 if per_class else 1, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.LBFGS([log_t], lr=0.5, max_iter=100, line_search_fn="strong_wolfe")

    def closure():
        optimizer.zero_grad()
        t = log_t.exp()
        divisor = torch.cat([torch.ones(1, dtype=t.dtype), t.expand(2)]).view(1, 3, 1)
        probs = torch.softmax(logits / divisor, dim=1).mean(0)  # (3, n)
        loss = -torch.log(probs.gather(0, target.view(1, -1)).clamp_min(1e-12)).mean()
        loss.backward()
        return loss

    optimizer.step(closure)
    values = [float(v) for v in log_t.detach().exp()]
    return (1.0, values[0], values[1]) if per_class else values[0]


def apply_temperature(member_logits: np.ndarray, temperature: Temperature) -> np.ndarray:
    """Mean softmax probability ``(n, 3)`` of member logits under ``temperature``."""
    logits = torch.from_numpy(np.ascontiguousarray(member_logits, dtype=np.float32))
    return torch.softmax(scale_logits(logits.permute(0, 2, 1), temperature), dim=1).mean(0).T.numpy()


def plot_reliability(
    path: str | os.PathLike, labels: np.ndarray, before: np.ndarray, after: np.ndarray, bins: int
) -> None:
    """Reliability diagram of P(acceptor) and P(donor) before and after calibration, as a PNG.

    ``labels (n,)``; ``before`` and ``after`` are probabilities ``(n, 3)``.
    """
    from spliceannot.trainers.metrics import SITE_CLASSES, reliability
    from spliceannot.viz import style

    with style.styled():
        figure = style.new_figure(10, 4.5)
        axes = figure.subplots(1, 2)
        for axis, (name, cls) in zip(axes, SITE_CLASSES.items()):
            axis.plot([0, 1], [0, 1], color=style.REFERENCE_COLOUR, lw=1, ls=":")
            for label, probs, marker in (("before", before, "o-"), ("after", after, "s-")):
                mean_p, mean_t, count = reliability(labels, probs, cls, bins)
                used = count > 0
                axis.plot(mean_p[used], mean_t[used], marker, label=label)
            axis.set_title(f"{name}")
            axis.set_xlabel("predicted probability")
            axis.set_ylabel("observed frequency")
            axis.set_xlim(0, 1)
            axis.set_ylim(0, 1)
            axis.legend()
    style.save_figure(figure, path, "png")


@dataclass
class Calibration:
    """Temperatures and calibration scores before and after fitting, over ``positions`` labelled positions."""

    previous: Temperature
    temperature: Temperature
    ece_before: dict[str, float]
    ece_after: dict[str, float]
    brier_before: float
    brier_after: float
    positions: int

    def table(self) -> str:
        """Before and after as aligned text: temperature, ECE of acceptor and donor, Brier score."""
        fitted = self.temperature
        shown = ", ".join(f"{t:.4f}" for t in fitted) if isinstance(fitted, tuple) else f"{fitted:.4f}"
        return format_table(
            [
                {"": "before", "temperature": str(self.previous), "ece_acceptor": self.ece_before["acceptor"],
                 "ece_donor": self.ece_before["donor"], "brier": self.brier_before},
                {"": "after", "temperature": shown, "ece_acceptor": self.ece_after["acceptor"],
                 "ece_donor": self.ece_after["donor"], "brier": self.brier_after},
            ],
            ["", "temperature", "ece_acceptor", "ece_donor", "brier"],
        )  # fmt: skip


def calibrate_model(
    spec: str,
    *,
    data_path: str,
    output: str | os.PathLike,
    per_class: bool = False,
    plot_path: str | os.PathLike | None = None,
    bins: int = 15,
    max_windows: int = 2000,
    batch_size: int = 8,
    device: str = "auto",
) -> Calibration:
    """Fit temperature scaling of the model ``spec`` on validation data and write it as a checkpoint.

    Fits on the first ``max_windows`` windows of ``data_path``; one
    temperature for all classes or, with ``per_class``, one each for the
    acceptor and the donor log-odds.  Writes ``output`` (the members with
    the fitted temperature) and, with ``plot_path``, a reliability diagram
    with ``bins`` bins.
    """
    from spliceannot.engine.weights import save_checkpoint
    from spliceannot.trainers.metrics import brier_score, calibration_error
    from spliceannot.trainers.training import predict_data

    device = device_name(device)
    loaded = load(spec)
    data = open_data(data_path)
    windows = range(min(len(data), max_windows))
    if not len(windows):
        raise LifecycleError(f"{data_path}: no windows")
    ensemble = loaded.ensemble
    labels, member_logits = predict_data(
        ensemble, data, windows=windows, batch_size=batch_size, device=device, logits=True
    )
    if not ((labels == 1).any() and (labels == 2).any()):
        raise LifecycleError(f"{data_path}: needs both acceptor and donor sites to calibrate")
    before = apply_temperature(member_logits, ensemble.temperature)
    temperature = fit_temperature(member_logits, labels, per_class=per_class)
    after = apply_temperature(member_logits, temperature)
    ece_before, ece_after = calibration_error(labels, before, bins), calibration_error(labels, after, bins)
    brier_before, brier_after = brier_score(labels, before), brier_score(labels, after)
    provenance = [
        *loaded.provenance,
        {"kind": "calibrate", "source": spec, "data": str(data_path), "temperature": temperature,
         "positions": len(labels)},
    ]
    save_checkpoint(output, list(ensemble.members), temperature=temperature, provenance=provenance)
    if plot_path:
        plot_reliability(plot_path, labels, before, after, bins)
    return Calibration(
        previous=ensemble.temperature, temperature=temperature, ece_before=ece_before, ece_after=ece_after,
        brier_before=brier_before, brier_after=brier_after, positions=len(labels),
    )  # fmt: skip
