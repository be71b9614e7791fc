"""Splice-site metrics: top-k accuracy, PR-AUC, calibration error, Brier score.

All functions take flat arrays over labelled positions: ``labels`` int
(0 neither, 1 acceptor, 2 donor) and ``probs`` float ``(n, 3)``.  Positions
labelled -1 (padding) must be removed first (:func:`labelled`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from spliceannot.classes import SITE_CLASSES

TOPK_FACTORS = (0.5, 1.0, 2.0, 4.0)



def labelled(labels: np.ndarray, probs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Flatten ``labels (..., L)`` and ``probs (..., L, 3)`` and drop unlabelled positions."""
    flat_labels = labels.reshape(-1)
    flat_probs = probs.reshape(-1, probs.shape[-1])
    keep = flat_labels >= 0
    return flat_labels[keep], flat_probs[keep]


def topk_accuracy(is_site: np.ndarray, score: np.ndarray, factor: float = 1.0) -> float:
    """SpliceAI's top-k accuracy for one class.

    With ``n`` true sites, take the ``k = int(factor * n)`` highest-scoring
    positions; the accuracy is the fraction of them that are sites, over
    ``min(k, n)``.  Ties at the cut are broken by position (stable sort), so
    the value is deterministic.  NaN when there are no sites.
    """
    n = int(is_site.sum())
    k = int(factor * n)
    if n == 0 or k == 0:
        return float("nan")
    order = np.argsort(-score, kind="stable")[:k]
    return float(is_site[order].sum()) / min(k, n)


def average_precision(is_site: np.ndarray, score: np.ndarray) -> float:
    """Area under the precision-recall curve as average precision.

    Sum over distinct score thresholds of (recall step) x precision, tied
    scores forming one threshold (the definition scikit-learn uses).  NaN
    when there are no sites.
    """
    positives = int(is_site.sum())
    if positives == 0:
        return float("nan")
    order = np.argsort(-score, kind="stable")
    sorted_score = score[order]
    hits = is_site[order].astype(np.float64)
    # last index of each run of equal scores
    ends = np.r_[np.nonzero(np.diff(sorted_score))[0], len(sorted_score) - 1]
    true_pos = np.cumsum(hits)[ends]
    predicted = ends + 1.0
    precision = true_pos / predicted
    recall = true_pos / positives
    steps = np.diff(np.r_[0.0, recall])
    return float(np.sum(steps * precision))


def calibration_error(labels: np.ndarray, probs: np.ndarray, bins: int = 15) -> dict[str, float]:
    """Expected calibration error of P(acceptor) and P(donor), equal-width bins.

    For each site class: sum over bins of (fraction of positions in the bin)
    x |mean predicted probability - observed frequency of the class|.
    """
    result = {}
    edges = np.linspace(0.0, 1.0, bins + 1)
    for name, cls in SITE_CLASSES.items():
        p = probs[:, cls].astype(np.float64)
        truth = (labels == cls).astype(np.float64)
        index = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
        count = np.bincount(index, minlength=bins)
        mean_p = np.bincount(index, weights=p, minlength=bins)
        mean_t = np.bincount(index, weights=truth, minlength=bins)
        used = count > 0
        gap = np.abs(mean_p[used] - mean_t[used]) / count[used]
        result[name] = float(np.sum(gap * count[used]) / max(len(p), 1))
    return result


def reliability(
    labels: np.ndarray, probs: np.ndarray, cls: int, bins: int = 15
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-bin mean predicted probability, observed frequency and count for one class."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    p = probs[:, cls].astype(np.float64)
    truth = (labels == cls).astype(np.float64)
    index = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
    count = np.bincount(index, minlength=bins).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_p = np.bincount(index, weights=p, minlength=bins) / count
        mean_t = np.bincount(index, weights=truth, minlength=bins) / count
    return mean_p, mean_t, count


def brier_score(labels: np.ndarray, probs: np.ndarray) -> float:
    """Multi-class Brier score: mean over positions of the squared error summed over classes."""
    onehot = np.eye(probs.shape[1], dtype=np.float64)[labels]
    return float(np.mean(np.sum((probs.astype(np.float64) - onehot) ** 2, axis=1)))


@dataclass
class SiteMetrics:
    """Top-k accuracies and PR-AUC for acceptor and donor."""

    topk: dict[str, dict[float, float]] = field(default_factory=dict)
    pr_auc: dict[str, float] = field(default_factory=dict)
    sites: dict[str, int] = field(default_factory=dict)
    positions: int = 0

    def flat(self, prefix: str = "") -> dict[str, float]:
        """``{prefix}acceptor_top1``-style keys (top0.5, top1, top2, top4, pr_auc)."""
        out: dict[str, float] = {}
        for name in SITE_CLASSES:
            for factor, value in self.topk[name].items():
                out[f"{prefix}{name}_top{factor:g}"] = value
            out[f"{prefix}{name}_pr_auc"] = self.pr_auc[name]
        return out

    @property
    def mean_top1(self) -> float:
        return float(np.nanmean([self.topk[name][1.0] for name in SITE_CLASSES]))


def site_metrics(labels: np.ndarray, probs: np.ndarray) -> SiteMetrics:
    """All site metrics from flat labelled arrays (see :func:`labelled`)."""
    metrics = SiteMetrics(positions=len(labels))
    for name, cls in SITE_CLASSES.items():
        is_site = labels == cls
        score = probs[:, cls]
        metrics.sites[name] = int(is_site.sum())
        metrics.topk[name] = {f: topk_accuracy(is_site, score, f) for f in TOPK_FACTORS}
        metrics.pr_auc[name] = average_precision(is_site, score)
    return metrics
