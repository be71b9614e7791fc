"""The record of a training run: one row per epoch, ``metrics.csv``, ``curves.png`` and the epoch log line."""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from spliceannot.atomic import atomic_path


@dataclass
class EpochRecord:
    epoch: int
    learning_rate: float
    seconds: float
    train_loss: float
    validation_loss: float
    train: dict[str, float] = field(default_factory=dict)
    validation: dict[str, float] = field(default_factory=dict)

    def row(self) -> dict[str, float]:
        out = {
            "epoch": self.epoch,
            "learning_rate": self.learning_rate,
            "seconds": round(self.seconds, 3),
            "train_loss": self.train_loss,
            "validation_loss": self.validation_loss,
        }
        out.update({f"train_{k}": v for k, v in self.train.items()})
        out.update({f"validation_{k}": v for k, v in self.validation.items()})
        return out


def write_metrics_csv(path: Path, history: Sequence[EpochRecord]) -> None:
    rows = [record.row() for record in history]
    if not rows:
        return
    columns = list(rows[0])
    for row in rows[1:]:
        columns += [key for key in row if key not in columns]
    with atomic_path(path) as temporary, open(temporary, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items()})


def plot_curves(path: Path, history: Sequence[EpochRecord]) -> None:
    """Loss and validation top-1 accuracy per epoch, as a PNG."""
    from spliceannot.viz import style

    epochs = [r.epoch for r in history]
    with style.styled():
        figure = style.new_figure(10, 4)
        left, right = figure.subplots(1, 2)
        left.plot(epochs, [r.train_loss for r in history], "o-", label="train")
        left.plot(epochs, [r.validation_loss for r in history], "o-", label="validation")
        left.set_xlabel("epoch")
        left.set_ylabel("loss")
        left.legend()
        colours = {"acceptor": style.ACCEPTOR_COLOUR, "donor": style.DONOR_COLOUR}
        for split, rows in (("train", [r.train for r in history]), ("validation", [r.validation for r in history])):
            for site in ("acceptor", "donor"):
                right.plot(epochs, [row.get(f"{site}_top1", float("nan")) for row in rows],
                           "o-" if split == "validation" else "x--", color=colours[site], label=f"{split} {site}")
        right.set_xlabel("epoch")
        right.set_ylabel("top-1 accuracy")
        right.set_ylim(0, 1.02)
        right.legend()
    style.save_figure(figure, path, "png")


def epoch_line(record: EpochRecord) -> str:
    """One log line per epoch: learning rate, losses, validation top-1 accuracies, seconds."""
    parts = [f"epoch {record.epoch}", f"lr {record.learning_rate:.3g}", f"train loss {record.train_loss:.4f}"]
    if not math.isnan(record.validation_loss):
        parts.append(f"validation loss {record.validation_loss:.4f}")
        for site in ("acceptor", "donor"):
            value = record.validation.get(f"{site}_top1")
            if value is not None:
                parts.append(f"{site} top-1 {value:.3f}")
    parts.append(f"{record.seconds:.1f} s")
    return ", ".join(parts)
