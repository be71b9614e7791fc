"""Training, fine-tuning and inference over create-data files.

The loop is shared by ``train`` (a fresh network) and ``transfer`` (a
pretrained one with frozen units).  Everything that decides the result is
seeded: the initial weights (``torch.manual_seed(seed)``) and the window
order of epoch ``e`` (a generator seeded with ``seed`` and ``e``), so a run
resumed from its last epoch continues exactly as an uninterrupted one.
"""

from __future__ import annotations

import json
import math
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from spliceannot import __version__
from spliceannot.atomic import atomic_path
from spliceannot.engine.architecture import UNITS_PER_GROUP
from spliceannot.engine.model import Ensemble, SpliceAI
from spliceannot.engine.weights import save_checkpoint
from spliceannot.trainers.history import EpochRecord, epoch_line, plot_curves, write_metrics_csv
from spliceannot.trainers.layout import UNLABELLED, SpliceData
from spliceannot.trainers.metrics import SiteMetrics, site_metrics

SCHEDULERS = ("multistep", "cosine")
LOSSES = ("cross-entropy", "focal")
MONITORS = ("loss", "top1")


@dataclass
class TrainConfig:
    """Options of one training run (stored in the checkpoint's provenance).

    ``milestones`` are the epochs (1-based, after which) the learning rate
    is multiplied by ``gamma`` in the ``multistep`` schedule; empty means
    SpliceAI's schedule: halve after every epoch from the sixth on.
    """

    epochs: int = 10
    batch_size: int = 16
    learning_rate: float = 1e-3
    weight_decay: float = 1e-2
    scheduler: str = "multistep"
    milestones: tuple[int, ...] = ()
    gamma: float = 0.5
    loss: str = "cross-entropy"
    focal_gamma: float = 2.0
    focal_alpha: float | None = None
    seed: int = 0
    patience: int | None = None
    monitor: str = "loss"
    metric_windows: int = 256
    max_windows_per_epoch: int | None = None
    device: str = "cpu"
    amp: bool = False


@dataclass
class FitResult:
    history: list[EpochRecord]
    best_epoch: int
    stopped_early: bool
    output_dir: Path


# --------------------------------------------------------------------------- losses


def window_loss(
    logits: torch.Tensor, target: torch.Tensor, config: TrainConfig
) -> torch.Tensor:
    """Mean loss over labelled positions; logits ``(b, 3, L)``, target ``(b, L)``."""
    logits = logits.float()
    if config.loss == "cross-entropy":
        return F.cross_entropy(logits, target, ignore_index=UNLABELLED)
    log_p = F.log_softmax(logits, dim=1)
    mask = target != UNLABELLED
    safe = target.clamp(min=0)
    log_pt = log_p.gather(1, safe.unsqueeze(1)).squeeze(1)
    weight = (1.0 - log_pt.exp()).pow(config.focal_gamma)
    if config.focal_alpha is not None:
        # alpha weighs the splice-site classes, 1 - alpha the "neither" class
        alpha = torch.where(safe > 0, config.focal_alpha, 1.0 - config.focal_alpha)
        weight = weight * alpha
    losses = -(weight * log_pt)[mask]
    return losses.mean() if losses.numel() else logits.sum() * 0.0


# --------------------------------------------------------------------------- inference


def _device(name: str) -> torch.device:
    from spliceannot.engine._device import resolve_device

    return resolve_device(name)


@torch.no_grad()
def predict_data(
    model: Ensemble | SpliceAI,
    data: SpliceData,
    *,
    windows: Sequence[int] | None = None,
    batch_size: int = 16,
    device: str = "cpu",
    logits: bool = False,
    progress: Callable[[int], None] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Labels and predictions at the labelled positions of ``data``.

    Returns flat ``labels (n,)`` and ``probs (n, 3)`` (an ensemble's mean
    probabilities, temperature applied) or, with ``logits=True`` and an
    ensemble, raw member logits ``(members, n, 3)``.
    """
    dev = _device(device)
    model = model.to(dev).eval()
    flank = model.flank
    rows = list(range(len(data))) if windows is None else list(windows)
    all_labels, all_out = [], []
    for start in range(0, len(rows), batch_size):
        chunk = rows[start : start + batch_size]
        x, y = data.batch(chunk, flank)
        xt = torch.from_numpy(x).to(dev)
        keep = y.reshape(-1) != UNLABELLED
        all_labels.append(y.reshape(-1)[keep])
        if logits:
            members = model.members if isinstance(model, Ensemble) else [model]
            stacked = torch.stack([m(xt).float() for m in members])  # (m, b, 3, L)
            flat = stacked.permute(0, 1, 3, 2).reshape(len(members), -1, 3)
            all_out.append(flat[:, torch.from_numpy(keep).to(dev)].cpu().numpy())
        else:
            if isinstance(model, Ensemble):
                probs = model(xt)
            else:
                probs = F.softmax(model(xt).float(), dim=1).transpose(1, 2)
            all_out.append(probs.reshape(-1, 3)[torch.from_numpy(keep).to(dev)].cpu().numpy())
        if progress:
            progress(len(chunk))
    labels = np.concatenate(all_labels) if all_labels else np.zeros(0, dtype=np.int64)
    if logits:
        members = len(model.members) if isinstance(model, Ensemble) else 1
        out = np.concatenate(all_out, axis=1) if all_out else np.zeros((members, 0, 3), np.float32)
    else:
        out = np.concatenate(all_out) if all_out else np.zeros((0, 3), dtype=np.float32)
    return labels, out


def evaluate_data(model: Ensemble | SpliceAI, data: SpliceData, **kwargs) -> SiteMetrics:
    """Top-k accuracy and PR-AUC of ``model`` on every window of ``data``."""
    labels, probs = predict_data(model, data, **kwargs)
    return site_metrics(labels, probs)


def _loss_and_metrics(
    model: SpliceAI, data: SpliceData, windows: Sequence[int], config: TrainConfig
) -> tuple[float, dict[str, float]]:
    if not len(windows):
        return float("nan"), {}
    labels, probs = predict_data(
        model, data, windows=windows, batch_size=config.batch_size, device=config.device
    )
    with np.errstate(divide="ignore"):
        nll = -np.log(np.clip(probs[np.arange(len(labels)), labels], 1e-12, None))
    loss = float(nll.mean()) if len(nll) else float("nan")
    return loss, site_metrics(labels, probs).flat()


# --------------------------------------------------------------------------- freezing


def freeze(model: SpliceAI, *, freeze_units: int | None = None, train_last: int | None = None) -> list[str]:
    """Freeze the stem and the first residual units; return the trainable parameter groups.

    ``freeze_units=N`` freezes the stem convolutions and units ``0..N-1``
    (with the skip convolutions of groups that lie entirely inside them);
    ``train_last=K`` freezes everything but the last ``K`` units, the skip
    convolutions of their groups and the head.  Frozen BatchNorm layers keep
    their running statistics (see :func:`set_train_mode`).
    """
    units = len(model.units)
    if freeze_units is not None and train_last is not None:
        raise ValueError("give either freeze_units or train_last, not both")
    if train_last is not None:
        if not 0 <= train_last <= units:
            raise ValueError(f"train_last must be between 0 and {units}")
        frozen_units = units - train_last
    elif freeze_units is not None:
        if not 0 <= freeze_units <= units:
            raise ValueError(f"freeze_units must be between 0 and {units}")
        frozen_units = freeze_units
    else:
        return ["all"]
    # a group's skip convolution is frozen only when all four of its units are
    freeze_group_skips = {
        g for g in range(len(model.group_skips)) if (g + 1) * UNITS_PER_GROUP <= frozen_units
    }
    for parameter in model.parameters():
        parameter.requires_grad_(True)
    frozen_modules = [model.stem, model.stem_skip, *model.units[:frozen_units]]
    frozen_modules += [model.group_skips[g] for g in sorted(freeze_group_skips)]
    for module in frozen_modules:
        for parameter in module.parameters():
            parameter.requires_grad_(False)
    model._frozen_units = frozen_units  # read by set_train_mode
    trainable = [f"units.{i}" for i in range(frozen_units, units)]
    trainable += [f"group_skips.{g}" for g in range(len(model.group_skips)) if g not in freeze_group_skips]
    return trainable + ["head"]


def set_train_mode(model: SpliceAI) -> None:
    """Train mode, except frozen units, whose BatchNorm statistics stay fixed."""
    model.train()
    for unit in model.units[: getattr(model, "_frozen_units", 0)]:
        unit.eval()


# --------------------------------------------------------------------------- the loop


def _scheduler(optimizer: torch.optim.Optimizer, config: TrainConfig):
    if config.scheduler == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(config.epochs, 1))
    milestones = list(config.milestones) or list(range(6, max(config.epochs, 6) + 1))
    return torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=milestones, gamma=config.gamma)


def _epoch_order(n: int, seed: int, epoch: int, limit: int | None) -> list[int]:
    generator = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
    order = torch.randperm(n, generator=generator).tolist()
    return order[:limit] if limit else order


def _metric_windows(n: int, seed: int, count: int) -> list[int]:
    generator = torch.Generator().manual_seed(seed * 7919 + 17)
    return sorted(torch.randperm(n, generator=generator)[: min(count, n)].tolist())


def _improved(record: EpochRecord, best: float, monitor: str) -> tuple[bool, float]:
    if monitor == "loss":
        value = record.validation_loss
        return (not math.isnan(value) and value < best), value
    tops = [record.validation.get(f"{c}_top1", float("nan")) for c in ("acceptor", "donor")]
    value = -float(np.nanmean(tops)) if not all(math.isnan(t) for t in tops) else float("nan")
    return (not math.isnan(value) and value < best), value


def fit(
    model: SpliceAI,
    train_data: SpliceData,
    validation_data: SpliceData | None,
    config: TrainConfig,
    output_dir: Path,
    *,
    provenance: Sequence[dict] = (),
    resume: bool = False,
    progress: Callable[[str, int], Callable[[int], None] | None] | None = None,
    log: Callable[[str], None] = lambda message: None,
) -> FitResult:
    """Train ``model`` and write checkpoints, metrics and curves to ``output_dir``.

    Files: ``best.safetensors`` (best validation ``config.monitor``; the last
    epoch when there is no validation data), ``last.safetensors``,
    ``metrics.csv``, ``curves.png`` and ``resume.pt`` (optimizer state for
    ``resume=True``).
    """
    output_dir.mkdir(parents=True, exist_ok=True)
    device = _device(config.device)
    model.to(device)
    parameters = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(parameters, lr=config.learning_rate, weight_decay=config.weight_decay)
    scheduler = _scheduler(optimizer, config)
    history: list[EpochRecord] = []
    best, best_epoch, bad_epochs, first_epoch = float("inf"), 0, 0, 1
    resume_path = output_dir / "resume.pt"
    if resume:
        state = torch.load(resume_path, map_location="cpu", weights_only=True)
        saved = json.loads(state["config"])
        checked = ["loss", "scheduler", "seed", "batch_size", "milestones", "gamma"]
        if config.scheduler == "cosine":
            checked.append("epochs")  # the cosine schedule spans the run's epochs
        current = json.loads(json.dumps(asdict(config)))
        for key in checked:
            if saved[key] != current[key]:
                option = f"--{key.replace('_', '-')}"
                raise ValueError(f"{resume_path}: {option} differs from the run being resumed ({saved[key]!r})")
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        first_epoch = int(state["epoch"]) + 1
        for group in optimizer.param_groups:  # replay the schedule from the start
            group["lr"] = config.learning_rate
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # stepping a schedule before training
            for _ in range(first_epoch - 1):
                scheduler.step()
        best, best_epoch, bad_epochs = float(state["best"]), int(state["best_epoch"]), int(state["bad_epochs"])
        history = [EpochRecord(**row) for row in json.loads(state["history"])]
        log(f"resuming after epoch {first_epoch - 1} of {config.epochs}")
    metric_windows = _metric_windows(len(train_data), config.seed, config.metric_windows)
    amp = config.amp and device.type == "cuda"
    stopped_early = False
    run_provenance = {
        "kind": "train",
        "config": asdict(config),
        "train_data": str(train_data.path),
        "validation_data": str(validation_data.path) if validation_data else None,
        "spliceannot": __version__,
    }
    for epoch in range(first_epoch, config.epochs + 1):
        if config.patience is not None and bad_epochs >= config.patience:
            stopped_early = True
            break
        started = time.perf_counter()
        order = _epoch_order(len(train_data), config.seed, epoch, config.max_windows_per_epoch)
        set_train_mode(model)
        total, batches = 0.0, 0
        update = progress(f"epoch {epoch}/{config.epochs}", len(order)) if progress else None
        for start in range(0, len(order), config.batch_size):
            chunk = order[start : start + config.batch_size]
            x, y = train_data.batch(chunk, model.flank)
            xt, yt = torch.from_numpy(x).to(device), torch.from_numpy(y).to(device)
            optimizer.zero_grad(set_to_none=True)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
                logits = model(xt)
            loss = window_loss(logits, yt, config)
            loss.backward()
            optimizer.step()
            total += float(loss.detach())
            batches += 1
            if update:
                update(len(chunk))
        learning_rate = optimizer.param_groups[0]["lr"]
        scheduler.step()
        model.eval()
        _, train_metrics = _loss_and_metrics(model, train_data, metric_windows, config)
        if validation_data is not None and len(validation_data):
            val_loss, val_metrics = _loss_and_metrics(model, validation_data, range(len(validation_data)), config)
        else:
            val_loss, val_metrics = float("nan"), {}
        record = EpochRecord(
            epoch, learning_rate, time.perf_counter() - started,
            total / max(batches, 1), val_loss, train_metrics, val_metrics,
        )
        history.append(record)
        improved, value = _improved(record, best, config.monitor)
        no_validation = math.isnan(value)
        members_provenance = [*provenance, {**run_provenance, "epoch": epoch}]
        if improved or no_validation:
            best, best_epoch, bad_epochs = (value if improved else best), epoch, 0
            save_checkpoint(output_dir / "best.safetensors", [model], provenance=members_provenance)
        else:
            bad_epochs += 1
        save_checkpoint(output_dir / "last.safetensors", [model], provenance=members_provenance)
        write_metrics_csv(output_dir / "metrics.csv", history)
        with atomic_path(resume_path) as temporary:
            torch.save(
                {
                    "model": model.state_dict(),
                    "optimizer": optimizer.state_dict(),
                    "epoch": epoch,
                    "best": best,
                    "best_epoch": best_epoch,
                    "bad_epochs": bad_epochs,
                    "config": json.dumps(asdict(config)),
                    "history": json.dumps([asdict(r) for r in history]),
                },
                temporary,
            )
        log(epoch_line(record))
    if history:
        plot_curves(output_dir / "curves.png", history)
    return FitResult(history, best_epoch, stopped_early, output_dir)

