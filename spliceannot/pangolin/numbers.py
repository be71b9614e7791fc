"""Pangolin's arithmetic, in its number types: twelve tracks -> per-position loss and gain -> a gene's entry.

Every step keeps the dtype Pangolin's numpy code ends up with, because the
printed numbers depend on it: a score is ``round(value, 2)`` of a numpy
scalar printed through Python's ``format``, so a float32 prints as its
exact value (``0.009999999776482582``) and a float64 as ``0.01``.  Deletions
are float64 from the realignment on (their padding is a float64 zero
array); everything else stays float32.

Tracks come in contig orientation (the reverse strand already flipped
back), columns tissue-major: network ``3 * tissue + replicate``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

TISSUES = 4
REPLICATES = 3
NO_SITES_WARNING = "NoAnnotatedSitesToMaskForThisGene"


def realign(alt: np.ndarray, ref_len: int, distance: int) -> np.ndarray:
    """The alternate track brought to the reference track's length, as Pangolin does it.

    A deletion gets zeros for its deleted bases after the first; an
    insertion's inserted positions collapse to their maximum, at ``distance``.
    """
    gap = abs(ref_len - len(alt))
    if ref_len > len(alt):
        return np.concatenate([alt[: distance + 1], np.zeros(gap), alt[distance + 1 :]])
    if ref_len < len(alt):
        peak = np.max(alt[distance : distance + gap + 1], keepdims=True)
        return np.concatenate([alt[:distance], peak, alt[distance + gap + 1 :]])
    return alt


def tissue_deltas(ref: np.ndarray, alt: np.ndarray, distance: int) -> np.ndarray:
    """Per tissue (heart, liver, brain, testis) and position, the change in P(splice).

    Parameters
    ----------
    ref, alt
        float32 ``(positions, 12)`` tracks (``alt`` before realignment).

    Returns
    -------
    numpy.ndarray
        ``(4, len(ref))``: per tissue the mean over its three replicates of
        ``alt - ref`` (float64 for deletions, else float32).
    """
    tissues = []
    for tissue in range(TISSUES):
        differences = []
        for replicate in range(REPLICATES):
            column = REPLICATES * tissue + replicate
            differences.append(realign(alt[:, column], len(ref), distance) - ref[:, column])
        tissues.append(np.mean(differences, axis=0))
    return np.array(tissues)


def loss_and_gain(ref: np.ndarray, alt: np.ndarray, distance: int) -> tuple[np.ndarray, np.ndarray]:
    """Per position, the largest decrease and increase over the four tissues.

    Returns
    -------
    tuple of numpy.ndarray
        ``loss`` and ``gain``, each ``(len(ref),)``: the minimum (loss) and
        the maximum (gain) over tissues of :func:`tissue_deltas`.
    """
    table = tissue_deltas(ref, alt, distance)
    columns = np.arange(table.shape[1])
    return table[np.argmin(table, axis=0), columns], table[np.argmax(table, axis=0), columns]


def mask_gene(loss: np.ndarray, gain: np.ndarray, positions: np.ndarray) -> str:
    """Pangolin's ``-m True`` for one gene, in place: gains at its exon ends and losses
    elsewhere set to 0.  Returns the gene's warning text (empty, or no sites to mask)."""
    if len(positions):
        inside = positions[(positions >= 0) & (positions < len(loss))]
        gain[inside] = np.minimum(gain[inside], 0)
        elsewhere = ~np.isin(np.arange(len(loss)), inside)
        loss[elsewhere] = np.maximum(loss[elsewhere], 0)
        return ""
    loss[:] = np.maximum(loss[:], 0)
    return NO_SITES_WARNING


def gene_entry(
    gene: str,
    exons: Sequence[int],
    loss: np.ndarray,
    gain: np.ndarray,
    *,
    pos: int,
    distance: int,
    mask: bool,
    cutoff: float | None = None,
    score_exons: bool = False,
) -> str:
    """One gene's ``gene|pos:score|...|Warnings:...`` (``loss``/``gain`` masked in place).

    Default: the largest gain then the largest loss (``pos`` relative to the
    variant).  ``cutoff`` (``-s``): every gain ``>= cutoff`` then every loss
    ``<= -cutoff``.  ``score_exons``: the score at both ends of each exon with
    an end in range (``gene_sites1|...|gene_sites2|...``).
    """
    positions = np.array(exons) - (pos - distance)
    warnings = "Warnings:" + (mask_gene(loss, gain, positions) if mask else "")
    if score_exons:
        first, second = [gene + "_sites1"], [gene + "_sites2"]
        for k in range(len(positions) // 2):
            p1, p2 = positions[2 * k], positions[2 * k + 1]
            s1, s2 = _site_score(loss, gain, p1), _site_score(loss, gain, p2)
            if s1 == "NA" and s2 == "NA":
                continue
            first.append(f"{p1 - distance}:{s1}")
            second.append(f"{p2 - distance}:{s2}")
        parts = first + second
    elif cutoff is not None:
        parts = [gene]
        losses, gains = np.where(loss <= -cutoff)[0], np.where(gain >= cutoff)[0]
        offsets = np.concatenate([gains - distance, losses - distance])
        for offset, value in zip(offsets, np.concatenate([gain[gains], loss[losses]])):
            parts.append(f"{offset}:{round(value, 2)}")
    else:
        worst, best = np.argmin(loss), np.argmax(gain)
        parts = [gene, f"{best - distance}:{round(gain[best], 2)}", f"{worst - distance}:{round(loss[worst], 2)}"]
    parts.append(warnings)
    return "|".join(parts)


def _site_score(loss: np.ndarray, gain: np.ndarray, index) -> object:
    """The larger in magnitude of loss and gain at ``index`` (the first on a tie), or ``NA`` out of range."""
    if index < 0 or index >= len(loss):
        return "NA"
    pair = [loss[index], gain[index]]
    return round(pair[np.argmax(np.abs(pair))], 2)
