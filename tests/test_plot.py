"""``spliceannot plot``: the numbers on the figure are the numbers ``annotate`` writes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from toy import FASTA, info_value, parse_entries, split_vcf, write_subset

SPLICEAI131 = Path(__file__).resolve().parent / "data" / "spliceai131"

# SNV on the minus strand, an insertion in two genes, a deletion, a two-ALT record
PLOTTED = ("v129", "v80", "v16", "v7")


def run_cli(args):
    from click.testing import CliRunner

    from spliceannot.cli import main

    return CliRunner().invoke(main, [str(a) for a in args])


def annotated(base_args, tmp_path, ids) -> dict[str, list[dict]]:
    """ID -> parsed SpliceAI entries of ``annotate`` (tiny model) for these example records."""
    subset = write_subset(tmp_path / "subset.vcf", ids)
    result = run_cli([*base_args, "-I", subset, "--no-cache"])
    assert result.exit_code == 0, result.stderr
    _, lines = split_vcf(result.stdout)
    return {line.split("\t")[2]: parse_entries(info_value(line)) for line in lines}


def labels_by_entry(drawn) -> dict[str, dict[str, tuple[str, int]]]:
    return {
        symbol: {l.field: (l.score, l.position) for l in drawn.labels if l.symbol == symbol}
        for symbol in {l.symbol for l in drawn.labels}
    }


def svg_texts(path: Path) -> list[str]:
    """The text elements of an SVG written with svg.fonttype 'none'."""
    return [
        re.sub(r"\s+", " ", t).strip()
        for t in re.findall(r"<text[^>]*>([^<]*)</text>", path.read_text())
    ]


@pytest.fixture(scope="module")
def settings(tiny_model, chr16_table):
    from spliceannot.pipeline import AnnotateSettings

    return AnnotateSettings(
        reference=str(FASTA), annotation=str(chr16_table), model=str(tiny_model), workers=1
    )


def test_labelled_scores_are_annotates_info(settings, base_args, tmp_path):
    from spliceannot.viz.plot import plot_variants
    from spliceannot.viz.variants import variants_from_vcf

    expected = annotated(base_args, tmp_path, PLOTTED)
    chosen = variants_from_vcf(str(write_subset(tmp_path / "in.vcf", PLOTTED)), PLOTTED)
    assert [i for _, i in chosen] == ["v7", "v7", "v16", "v80", "v129"]  # file order, one per ALT
    paths, drawings = plot_variants(
        settings, [v for v, _ in chosen], tmp_path / "out.svg", [i for _, i in chosen]
    )
    assert [p.name for p in paths] == [
        "out.v7.svg",
        "out.v7_.svg",
        "out.v16.svg",
        "out.v80.svg",
        "out.v129.svg",
    ]
    for (variant, ident), drawn, path in zip(chosen, drawings, paths):
        entries = [e for e in expected[ident] if e["alt"] == variant.alt]
        assert sorted(labels_by_entry(drawn)) == sorted(e["name"] for e in entries)
        texts = svg_texts(path)
        for entry in entries:
            labels = labels_by_entry(drawn)[entry["name"]]
            for field, score, position in zip(("AG", "AL", "DG", "DL"), entry["ds"], entry["dp"]):
                assert float(labels[field][0]) == score and labels[field][1] == position, (
                    ident,
                    entry,
                )
                assert f"DS_{field} {labels[field][0]} ({position:+d})" in texts
        assert set(drawn.transcripts) >= {e["name"] for e in entries}


def test_tracks_are_the_tracks_scored(settings):
    """Recomputing delta scores from the plotted tracks gives the labelled numbers."""
    from spliceannot.entry import format_score
    from spliceannot.factory import build_scorer
    from spliceannot.scoring import delta_scores
    from spliceannot.viz.landscape import landscapes
    from spliceannot.values import Variant

    scorer = build_scorer(settings)
    (view,) = landscapes(scorer, [Variant("chr16", 274274, "G", "C")])
    panel = view.panels[0]
    assert panel.positions[0] == 274274 - 50 and len(panel.positions) == 101
    again = delta_scores(
        panel.reference, panel.alternate, ref_len=1, alt_len=1, boundary_distance=0, mask=False
    )
    assert tuple(format_score(s) for s in again.scores) == panel.entry.scores
    assert again.positions == panel.entry.positions


def test_cli_png_one_per_variant_and_pdf_pages(tiny_model, chr16_table, tmp_path):
    from PIL import Image

    base = ["plot", "-R", FASTA, "-A", chr16_table, "-m", tiny_model, "-D", 30]
    result = run_cli([*base, "chr16:274274:G:C", "-o", tmp_path / "one.png"])
    assert result.exit_code == 0, result.stderr
    with Image.open(tmp_path / "one.png") as image:
        assert image.format == "PNG" and image.size[0] == 900 and 300 < image.size[1] < 700
    assert (tmp_path / "one.png").stat().st_size > 20_000

    vcf = write_subset(tmp_path / "in.vcf", ("v129", "v80"))
    result = run_cli([*base, "--vcf", vcf, "v129", "chr16:250156", "-o", tmp_path / "many.pdf"])
    assert result.exit_code == 0, result.stderr
    pdf = (tmp_path / "many.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and len(re.findall(rb"/Type\s*/Page\b", pdf)) == 2
    assert not list(tmp_path.glob(".*.tmp"))


@pytest.mark.parametrize(
    "args, message",
    [
        (["chr16:274274:G"], "not a variant"),
        (["chr99:100:A:C"], "contig chr99 is not in"),
        (["chr16:274274:A:C"], "REF does not match"),
        (["chr16:100000:N:A"], "no overlapping gene"),
        (["--vcf", "missing.vcf", "v1"], "missing.vcf: input VCF not found"),
        (["chr16:274274:G:C", "-o", "{tmp}/out.gif"], "must end in .png, .svg or .pdf"),
        (["chr16:274274:G:C", "-o", "{tmp}/nowhere/out.png"], "nowhere does not exist"),
    ],
)
def test_bad_input_is_one_line_and_no_file(tiny_model, chr16_table, tmp_path, args, message):
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    output = [] if "-o" in args else ["-o", tmp_path / "out.png"]
    result = run_cli(["plot", "-R", FASTA, "-A", chr16_table, "-m", tiny_model, *args, *output])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert (
        len(lines) == 1 and lines[0].startswith("spliceannot plot: error:") and message in lines[0]
    ), result.stderr
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_missing_fasta_and_unknown_selector(tiny_model, chr16_table, tmp_path):
    result = run_cli(
        [
            "plot",
            "-R",
            tmp_path / "no.fa",
            "-A",
            chr16_table,
            "-m",
            tiny_model,
            "chr16:274274:G:C",
            "-o",
            tmp_path / "x.png",
        ]
    )
    assert result.exit_code == 2 and "no.fa: reference FASTA not found" in result.stderr
    vcf = write_subset(tmp_path / "in.vcf", ("v129",))
    result = run_cli(
        [
            "plot",
            "-R",
            FASTA,
            "-A",
            chr16_table,
            "-m",
            tiny_model,
            "--vcf",
            vcf,
            "v999",
            "-o",
            tmp_path / "x.png",
        ]
    )
    assert result.exit_code == 2 and "no record matches 'v999'" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.vcf"]


def test_real_weights_cryptic_acceptor_matches_spliceai(tmp_path):
    """v129 (RGS11, chr16:274274 G>C): the labels equal SpliceAI 1.3.1's own output."""
    pytest.importorskip("h5py")
    from spliceannot.pipeline import AnnotateSettings
    from spliceannot.viz.plot import plot_variants
    from spliceannot.values import Variant

    lines = (SPLICEAI131 / "variants.D50.vcf").read_text().splitlines()
    (line,) = [l for l in lines if "\tv129\t" in l]
    (entry,) = parse_entries(info_value(line))
    settings = AnnotateSettings(reference=str(FASTA), annotation="grch38", workers=1)
    (path,), (drawn,) = plot_variants(
        settings, [Variant("chr16", 274274, "G", "C")], tmp_path / "v129.svg"
    )
    labels = labels_by_entry(drawn)["RGS11"]
    assert [float(labels[f][0]) for f in ("AG", "AL", "DG", "DL")] == entry["ds"]
    assert [labels[f][1] for f in ("AG", "AL", "DG", "DL")] == entry["dp"]
    assert "DS_AG 0.99 (-1)" in svg_texts(path)


def test_training_curves_and_reliability_diagram_share_the_style(tmp_path):
    """Both lifecycle figures go through the shared figure helper and atomic save."""
    import numpy as np
    from PIL import Image
    from spliceannot.trainers.calibration import plot_reliability
    from spliceannot.trainers.history import EpochRecord, plot_curves

    history = [
        EpochRecord(
            epoch,
            1e-3,
            1.0,
            1 / epoch,
            1.2 / epoch,
            {"acceptor_top1": 0.5, "donor_top1": 0.4},
            {"acceptor_top1": 0.45, "donor_top1": 0.35},
        )
        for epoch in (1, 2, 3)
    ]
    plot_curves(tmp_path / "curves.png", history)
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, 500)
    before = rng.dirichlet(np.ones(3), 500)
    plot_reliability(
        str(tmp_path / "reliability.png"),
        labels,
        before,
        before**2 / (before**2).sum(1, keepdims=True),
        10,
    )
    for name, size in (("curves.png", (1000, 400)), ("reliability.png", (1000, 450))):
        with Image.open(tmp_path / name) as image:
            assert image.size == size
            assert "Software" not in image.info  # written by style.save_figure (no tool stamp)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["curves.png", "reliability.png"]
