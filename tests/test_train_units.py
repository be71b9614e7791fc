"""Metrics, losses, freezing and temperature scaling of the training lifecycle."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from spliceannot.engine.architecture import Architecture
from spliceannot.engine.model import Ensemble, SpliceAI, normalize_temperature, scale_logits
from spliceannot.engine.weights import load_model, save_checkpoint
from spliceannot.trainers import metrics
from spliceannot.trainers.calibration import apply_temperature, fit_temperature
from spliceannot.trainers.training import TrainConfig, freeze, set_train_mode, window_loss


def test_topk_accuracy_counts_sites_among_the_top_scores():
    is_site = np.array([1, 0, 1, 0, 0, 1], dtype=bool)
    score = np.array([0.9, 0.8, 0.1, 0.7, 0.0, 0.95])
    # 3 sites; top-3 = positions 5, 0, 1 -> 2 sites
    assert metrics.topk_accuracy(is_site, score, 1.0) == pytest.approx(2 / 3)
    # top-1 (0.5 x 3 = 1) -> position 5 is a site
    assert metrics.topk_accuracy(is_site, score, 0.5) == 1.0
    # top-6 -> all 3 sites found, over min(6, 3)
    assert metrics.topk_accuracy(is_site, score, 2.0) == 1.0
    assert math.isnan(metrics.topk_accuracy(np.zeros(3, bool), score[:3]))


def test_average_precision_matches_a_hand_computation_and_groups_ties():
    is_site = np.array([1, 0, 1, 0], dtype=bool)
    score = np.array([0.9, 0.8, 0.7, 0.1])
    # ranks: site (P=1, R=.5), miss, site (P=2/3, R=1)
    assert metrics.average_precision(is_site, score) == pytest.approx(0.5 * 1 + 0.5 * 2 / 3)
    tied = np.array([0.5, 0.5, 0.5, 0.5])
    assert metrics.average_precision(is_site, tied) == pytest.approx(0.5)
    perfect = np.array([0.9, 0.1, 0.8, 0.2])
    assert metrics.average_precision(is_site, perfect) == 1.0


def test_calibration_error_and_brier():
    rng = np.random.default_rng(0)
    n = 200_000
    p_acceptor = rng.uniform(0, 0.5, n)
    labels = np.where(rng.uniform(size=n) < p_acceptor, 1, 0)
    probs = np.stack([1 - p_acceptor, p_acceptor, np.zeros(n)], axis=1)
    ece = metrics.calibration_error(labels, probs)
    assert ece["acceptor"] < 0.005
    overconfident = np.stack([1 - np.sqrt(p_acceptor), np.sqrt(p_acceptor), np.zeros(n)], axis=1)
    assert metrics.calibration_error(labels, overconfident)["acceptor"] > 0.05
    exact = np.eye(3)[[0, 1, 2]]
    assert metrics.brier_score(np.array([0, 1, 2]), exact) == 0.0
    assert metrics.brier_score(np.array([0]), np.array([[0.5, 0.5, 0.0]])) == pytest.approx(0.5)


def test_labelled_drops_padding():
    labels = np.array([[0, 1, -1], [2, -1, -1]])
    probs = np.arange(18, dtype=float).reshape(2, 3, 3)
    flat_labels, flat_probs = metrics.labelled(labels, probs)
    assert flat_labels.tolist() == [0, 1, 2]
    assert flat_probs[:, 0].tolist() == [0, 3, 9]


def test_focal_loss_reduces_to_cross_entropy_and_ignores_padding():
    torch.manual_seed(0)
    logits = torch.randn(2, 3, 50)
    target = torch.randint(0, 3, (2, 50))
    target[:, 40:] = -1
    ce = window_loss(logits, target, TrainConfig(loss="cross-entropy"))
    focal0 = window_loss(logits, target, TrainConfig(loss="focal", focal_gamma=0.0))
    assert focal0.item() == pytest.approx(ce.item(), rel=1e-6)
    manual = F.cross_entropy(logits[:, :, :40], target[:, :40])
    assert ce.item() == pytest.approx(manual.item(), rel=1e-6)
    focal2 = window_loss(logits, target, TrainConfig(loss="focal", focal_gamma=2.0))
    assert focal2.item() < ce.item()
    weighted = window_loss(logits, target, TrainConfig(loss="focal", focal_gamma=0.0, focal_alpha=0.75))
    log_p = F.log_softmax(logits, 1)
    mask = target >= 0
    picked = log_p.gather(1, target.clamp(min=0).unsqueeze(1)).squeeze(1)
    alpha = torch.where(target > 0, 0.75, 0.25)
    assert weighted.item() == pytest.approx((-(alpha * picked)[mask]).mean().item(), rel=1e-6)


def _trainable_names(model):
    return {name.split(".")[0] + ("." + name.split(".")[1] if name.split(".")[1].isdigit() else "")
            for name, p in model.named_parameters() if p.requires_grad}  # fmt: skip


def test_freeze_first_units_and_train_last():
    model = SpliceAI(Architecture(flank=400))  # 8 units, 2 groups
    freeze(model, freeze_units=5)
    assert _trainable_names(model) == {"units.5", "units.6", "units.7", "group_skips.1", "head"}
    model = SpliceAI(Architecture(flank=400))
    freeze(model, train_last=2)
    assert _trainable_names(model) == {"units.6", "units.7", "group_skips.1", "head"}
    model = SpliceAI(Architecture(flank=400))
    freeze(model, train_last=0)
    assert _trainable_names(model) == {"head"}
    with pytest.raises(ValueError):
        freeze(SpliceAI(Architecture(flank=80)), freeze_units=5)


def test_frozen_units_keep_their_batchnorm_statistics():
    model = SpliceAI(Architecture(flank=80))
    freeze(model, freeze_units=2)
    before = [u.norm1.running_mean.clone() for u in model.units]
    set_train_mode(model)
    model(torch.randn(4, 4, 200))
    after = [u.norm1.running_mean for u in model.units]
    assert all(torch.equal(b, a) for b, a in zip(before[:2], after[:2]))
    assert not any(torch.equal(b, a) for b, a in zip(before[2:], after[2:]))


def test_fit_temperature_recovers_the_generating_temperature():
    rng = np.random.default_rng(1)
    n = 60_000
    logits = rng.normal(0, 3, (1, n, 3)).astype(np.float32)
    true_t = 2.0
    probs = np.exp(logits[0] / true_t)
    probs /= probs.sum(1, keepdims=True)
    labels = (rng.uniform(size=(n, 1)) > probs.cumsum(1)).sum(1)
    fitted = fit_temperature(logits, labels, per_class=False)
    assert fitted == pytest.approx(true_t, rel=0.05)
    per_class = fit_temperature(logits, labels, per_class=True)
    assert per_class[0] == 1.0
    assert per_class[1] == pytest.approx(true_t, rel=0.1) and per_class[2] == pytest.approx(true_t, rel=0.1)
    nll = lambda p: -np.mean(np.log(p[np.arange(n), labels]))  # noqa: E731
    assert nll(apply_temperature(logits, per_class)) <= nll(apply_temperature(logits, 1.0))


def test_per_class_temperature_roundtrips_and_applies(tmp_path):
    torch.manual_seed(0)
    member = SpliceAI(Architecture(flank=80, batchnorm_eps=1e-5)).eval()
    path = tmp_path / "calibrated.safetensors"
    save_checkpoint(path, [member], temperature=(1.0, 0.5, 2.0))
    loaded = load_model(str(path))
    assert loaded.ensemble.temperature == (1.0, 0.5, 2.0)
    x = torch.randn(1, 4, 180)
    logits = member(x)
    odds = logits - logits[:, :1]
    expected = F.softmax(odds / torch.tensor([1.0, 0.5, 2.0]).view(1, 3, 1), dim=1).transpose(1, 2)
    assert torch.allclose(loaded.ensemble(x), expected, atol=1e-6)
    # shifting the logits changes nothing
    assert torch.allclose(
        F.softmax(scale_logits(logits + 5.0, (1.0, 0.5, 2.0)), dim=1),
        F.softmax(scale_logits(logits, (1.0, 0.5, 2.0)), dim=1),
        atol=1e-6,
    )
    assert normalize_temperature([7.0, 2.0, 2.0]) == 2.0
    with pytest.raises(ValueError):
        Ensemble([member], temperature=-1.0)
