"""Delta scores from reference and alternate probability tracks.

Pure arithmetic, as SpliceAI 1.3.1 does it, including its number types:
tracks are float32, a deletion's alternate track is widened with float64
zeros (so its deltas are float64), and a masked score is the delta times 0
(so a masked negative delta prints as ``-0.00``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spliceannot.classes import ACCEPTOR, DONOR


@dataclass(frozen=True)
class DeltaScores:
    """The four delta scores and their positions for one ALT and transcript.

    Scores are numpy scalars (float32, or float64 for deletions) so that
    formatting rounds exactly the value SpliceAI rounds.  Positions are
    relative to the variant's first base, in nucleotides (negative =
    upstream on the + strand of the contig).
    """

    acceptor_gain: np.floating
    acceptor_loss: np.floating
    donor_gain: np.floating
    donor_loss: np.floating
    acceptor_gain_position: int
    acceptor_loss_position: int
    donor_gain_position: int
    donor_loss_position: int

    @property
    def scores(self) -> tuple[np.floating, ...]:
        return (self.acceptor_gain, self.acceptor_loss, self.donor_gain, self.donor_loss)

    @property
    def positions(self) -> tuple[int, ...]:
        return (
            self.acceptor_gain_position,
            self.acceptor_loss_position,
            self.donor_gain_position,
            self.donor_loss_position,
        )


def align_alternate(alt_track: np.ndarray, ref_len: int, alt_len: int, coverage: int) -> np.ndarray:
    """Bring an alternate track onto the reference track's positions.

    Parameters
    ----------
    alt_track
        ``(coverage - ref_len + alt_len, 3)`` probabilities of the alternate window.
    ref_len, alt_len
        Allele lengths.
    coverage
        ``2 * distance + 1``.

    Returns
    -------
    numpy.ndarray
        ``(coverage, 3)``: a deletion gets ``ref_len - alt_len`` float64 zero
        rows after position ``coverage // 2 + alt_len``; an insertion's
        inserted positions collapse to their per-class maximum (SpliceAI's
        alignment).  REF and ALT both longer than 1 (``--mnv``): the same
        rule, REF's bases taking ALT's in order: equal lengths align one to
        one; a longer REF's extra bases get zeros; a longer ALT's extra bases
        collapse, with its base at REF's last, to their maximum.
    """
    half = coverage // 2
    if ref_len > alt_len:
        deleted = np.zeros((ref_len - alt_len, alt_track.shape[1]), dtype=np.float64)
        return np.concatenate([alt_track[: half + alt_len], deleted, alt_track[half + alt_len :]])
    if alt_len > ref_len:
        last = half + ref_len - 1
        collapsed = alt_track[last : half + alt_len].max(axis=0, keepdims=True)
        return np.concatenate([alt_track[:last], collapsed, alt_track[half + alt_len :]])
    return alt_track


def delta_scores(
    ref_track: np.ndarray,
    alt_track: np.ndarray,
    *,
    ref_len: int,
    alt_len: int,
    boundary_distance: int,
    mask: bool,
) -> DeltaScores:
    """Delta scores of one ALT against one transcript.

    Parameters
    ----------
    ref_track
        ``(coverage, 3)`` float32 reference probabilities (neither, acceptor, donor).
    alt_track
        ``(coverage - ref_len + alt_len, 3)`` float32 alternate probabilities.
    ref_len, alt_len
        Allele lengths.
    boundary_distance
        Signed distance from the variant to the transcript's nearest exon boundary.
    mask
        SpliceAI's ``-M 1``: zero gains at annotated sites and losses at
        unannotated ones.
    """
    coverage = ref_track.shape[0]
    half = coverage // 2
    alt = align_alternate(alt_track, ref_len, alt_len, coverage)
    if alt.dtype != ref_track.dtype:
        ref_track = ref_track.astype(alt.dtype)
    acceptor_up = alt[:, ACCEPTOR] - ref_track[:, ACCEPTOR]
    acceptor_down = ref_track[:, ACCEPTOR] - alt[:, ACCEPTOR]
    donor_up = alt[:, DONOR] - ref_track[:, DONOR]
    donor_down = ref_track[:, DONOR] - alt[:, DONOR]
    values = []
    positions = []
    for delta, is_gain in ((acceptor_up, True), (acceptor_down, False), (donor_up, True), (donor_down, False)):
        index = int(np.argmax(delta))
        position = index - half
        masked = mask and ((position == boundary_distance) if is_gain else (position != boundary_distance))
        values.append(delta[index] * (0 if masked else 1))
        positions.append(position)
    return DeltaScores(*values, *positions)
