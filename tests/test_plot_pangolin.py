"""``spliceannot plot -m pangolin``: each tissue's change around a variant, with Pangolin's numbers.

Reads Pangolin's twelve weight files (``$SPLICEANNOT_PANGOLIN_MODELS`` or
../shared; skipped when absent).  The data handed to the drawing is checked
against the networks run directly on Pangolin's windows, and its labels
against the entries ``annotate -m pangolin`` writes.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pytest
import torch

from spliceannot.engine.pangolin_files import TISSUES

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
FASTA = EXAMPLES / "chr16_region.fa.gz"
GTF = EXAMPLES / "chr16_genes.gtf.gz"
MODELS = Path(os.environ.get("SPLICEANNOT_PANGOLIN_MODELS") or Path(__file__).resolve().parents[2] / "shared"
              / "data" / "pangolin-models")  # fmt: skip
pytestmark = pytest.mark.skipif(not (MODELS / "final.1.0.3.v2").is_file(), reason="Pangolin weights not found")
V129 = ("chr16", 274274, "G", "C")  # examples/variants.vcf v129: 9 nt into the intron of minus-strand RGS11 rows
COMPLEMENT = str.maketrans("ACGTN", "TGCAN")


@pytest.fixture(scope="module")
def settings():
    from spliceannot.pipeline import AnnotateSettings

    torch.set_num_threads(1)
    return AnnotateSettings(reference=str(FASTA), annotation=str(GTF), model=str(MODELS), workers=1)


@pytest.fixture(scope="module")
def view(settings):
    from spliceannot.factory import build_scorer
    from spliceannot.values import Variant
    from spliceannot.viz.pangolin_landscape import pangolin_landscapes

    scorer = build_scorer(settings)
    try:
        (found,) = pangolin_landscapes(scorer, [Variant(*V129)], ["v129"])
    finally:
        scorer.reference.close()
    return found


def direct_tracks(chrom: str, pos: int, ref: str, alt: str, distance: int) -> tuple[np.ndarray, np.ndarray]:
    """Pangolin's minus-strand reference and alternate ``(positions, 12)`` tracks, networks run on whole windows."""
    from spliceannot.encoding import one_hot
    from spliceannot.engine.weights import load_model
    from spliceannot.readers.fasta import Reference

    reference = Reference(str(FASTA))
    try:
        window = reference.fetch(chrom, pos - 5001 - distance, pos + len(ref) + 4999 + distance).upper()
    finally:
        reference.close()
    cut = 5000 + distance
    assert window[cut : cut + len(ref)] == ref
    mutated = window[:cut] + alt + window[cut + len(ref) :]
    ensemble = load_model(str(MODELS)).ensemble
    tracks = []
    for sequence in (window, mutated):
        minus = sequence.translate(COMPLEMENT)[::-1]
        with torch.inference_mode():
            out = ensemble(torch.from_numpy(one_hot(minus, "zeros")).T[None])[0].numpy()
        tracks.append(out[::-1])
    return tracks[0], tracks[1]


def test_drawn_data_are_the_tissue_changes_of_the_networks(view):
    from spliceannot.pangolin.numbers import tissue_deltas

    assert view.tissues == TISSUES and view.distance == 50
    (panel,) = view.panels  # every gene containing v129 is on the minus strand
    assert panel.strand == "-"
    assert panel.positions[0] == 274274 - 50 and panel.positions[-1] == 274274 + 50
    ref, alt = direct_tracks(*V129, distance=50)
    expected = tissue_deltas(ref, alt, 50)
    assert panel.deltas.shape == expected.shape == (4, 101)
    np.testing.assert_allclose(panel.deltas, expected, atol=1e-5, rtol=0)
    np.testing.assert_array_equal(panel.loss, panel.deltas.min(axis=0))
    np.testing.assert_array_equal(panel.gain, panel.deltas.max(axis=0))
    # the change Pangolin sees: a new acceptor 1 nt upstream (-1) in every tissue, the annotated one at -9 lost
    gain_at, loss_at = 50 - 1, 50 - 9
    assert (panel.deltas[:, gain_at] > 0.5).all() and (panel.deltas[:, loss_at] < -0.2).all()


def test_labels_are_annotates_pangolin_entries(settings, view):
    from spliceannot.factory import build_scorer
    from spliceannot.pangolin.scorer import INFO_KEY
    from spliceannot.values import Record

    scorer = build_scorer(settings)
    try:
        (outcome,) = scorer.score([Record(V129[0], V129[1], V129[2], (V129[3],))])
    finally:
        scorer.reference.close()
    entries = outcome.fields[INFO_KEY].split(",")
    (panel,) = view.panels
    assert [gene.entry for gene in panel.genes] == entries
    assert {gene.name for gene in panel.genes} == {"NM_001286485", "NM_001286486", "NM_003834", "NM_183337"}
    for gene, entry in zip(panel.genes, entries):
        name, gain, loss, warnings = entry.split("|")
        assert gene.name == name and warnings.startswith("Warnings:")
        assert gene.gain == (int(gain.split(":")[0]), gain.split(":")[1])
        assert gene.loss == (int(loss.split(":")[0]), loss.split(":")[1])
    rgs11 = {gene.name: gene for gene in panel.genes}["NM_003834"]
    assert (274214, 274265) in rgs11.exons  # examples/chr16_genes.gtf.gz, 1-based inclusive


def test_figure_has_the_tissues_in_its_legend(view, tmp_path):
    from spliceannot.viz.pangolin_plot import ENVELOPE_LABEL, PangolinDrawn
    from spliceannot.viz.plot import write_plots

    (path,), (drawn,) = write_plots([view], tmp_path / "v129.svg")
    assert isinstance(drawn, PangolinDrawn) and path.stat().st_size > 10_000
    (panel,) = view.panels
    assert drawn.legends == [[ENVELOPE_LABEL, *TISSUES]]
    (series,) = drawn.series
    for row, tissue in enumerate(TISSUES):
        np.testing.assert_array_equal(series[tissue], panel.deltas[row])
    np.testing.assert_array_equal(series[f"{ENVELOPE_LABEL} (gain)"], panel.gain)
    assert drawn.genes == [gene.name for gene in panel.genes]
    assert sorted((label.gene, label.kind) for label in drawn.labels) == sorted(
        (gene.name, kind) for gene in panel.genes for kind in ("gain", "loss")
    )
    gains = {label.text for label in drawn.labels if label.kind == "gain"}
    assert gains == {"gain 0.87 (-1)"}
    texts = [re.sub(r"\s+", " ", t).strip() for t in re.findall(r"<text[^>]*>([^<]*)</text>", path.read_text())]
    assert set(TISSUES) <= set(texts) and "gain 0.87 (-1)" in texts


def test_cli_plots_pangolin(tmp_path):
    from click.testing import CliRunner

    from spliceannot.cli import main

    args = ["plot", "-R", FASTA, "-A", GTF, "-m", MODELS, "-D", 20, "chr16:274274:G:C", "-o", tmp_path / "p.png"]
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "p.png").read_bytes()[:4] == b"\x89PNG"
    assert "wrote 1 file(s)" in result.stderr
    result = CliRunner().invoke(main, [str(a) for a in args[:-3]] + ["chr16:100000:N:A", "-o", str(tmp_path / "q.png")])
    assert result.exit_code == 2 and "not scored" in result.stderr and not (tmp_path / "q.png").exists()
