"""``spliceannot ism``: mutagenesis numbers, the TSV, and the logo drawn from them."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from toy import FASTA, TINY_FLANK, tiny_members

# A donor the tiny model calls with P ~ 0.5 on the example sequence (+ strand, by choice)
TINY_DONOR = "chr16:274103"
# RGS11 (minus strand): the annotated acceptor that v129 (chr16:274274 G>C) weakens
RGS11_ACCEPTOR = 274265


def run_cli(args):
    from click.testing import CliRunner

    from spliceannot.cli import main

    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture(scope="module")
def second_model(tmp_path_factory) -> Path:
    """Another tiny checkpoint (other seeds), to compare two models on one figure."""
    from spliceannot.engine.weights import save_checkpoint

    path = tmp_path_factory.mktemp("model2") / "other.safetensors"
    save_checkpoint(path, tiny_members(seeds=(21, 22)))
    return path


@pytest.fixture(scope="module")
def donor_ism(tiny_model):
    """Cone and window ISM of the tiny donor, 45 nt each side (beyond the model's reach of 40)."""
    from spliceannot.engine.weights import load_model
    from spliceannot.ism import mutagenesis
    from spliceannot.readers.fasta import Reference
    from spliceannot.sites import Site

    reference = Reference(FASTA)
    model = load_model(str(tiny_model))
    site = Site("chr16", 274103, "donor", "+")
    results = {
        c: mutagenesis(reference, site, model, width=45, compute=c, device="cpu")
        for c in ("cone", "window")
    }
    reference.close()
    return results


def logo_heights_from_svg(path: Path) -> dict[tuple[str, int], float]:
    """(model, position) -> height from the ids of the letter patches in an SVG logo."""
    found = {}
    for ident in re.findall(r'id="letter_([^"]+)"', path.read_text()):
        model, position, _base, height = ident.rsplit("_", 3)
        found[(model, int(position))] = float(height)
    return found


def test_cone_equals_whole_windows(donor_ism):
    cone, window = donor_ism["cone"], donor_ism["window"]
    assert cone.reference_probability == pytest.approx(window.reference_probability, abs=1e-6)
    assert cone.reference_probability > 0.3
    assert np.array_equal(np.isnan(cone.drops), np.isnan(window.drops))
    np.testing.assert_allclose(np.nan_to_num(cone.drops), np.nan_to_num(window.drops), atol=2e-5)
    # one NaN (the reference base) per row, three mutants
    assert (np.isnan(cone.drops).sum(axis=1) == 1).all()
    assert cone.importance.max() > 0.05


def test_mutations_beyond_the_receptive_field_change_nothing(donor_ism):
    result = donor_ism["cone"]
    far = np.abs(result.offsets) > TINY_FLANK // 2
    assert far.sum() == 10  # 5 positions each side
    assert np.all(np.nan_to_num(result.drops[far]) == 0)
    assert np.any(np.nan_to_num(result.drops[~far]) != 0)


def test_a_drop_is_the_model_on_the_mutated_window(donor_ism, tiny_model):
    """Recompute one mutant's probability by hand: the whole window, mutated, through the predictor."""
    from spliceannot.encoding import one_hot
    from spliceannot.engine.runner import Predictor
    from spliceannot.engine.weights import load_model
    from spliceannot.readers.fasta import Reference

    result = donor_ism["cone"]
    row = int(np.nanargmax(result.importance))
    position = int(result.positions[row])
    base = "ACGT"[int(np.nanargmax(result.drops[row]))]
    reference = Reference(FASTA)
    text = reference.fetch("chr16", 274103 - 1 - 40, 274103 + 40).upper()
    reference.close()
    index = position - (274103 - 40)
    mutant = text[:index] + base + text[index + 1 :]
    predictor = Predictor(load_model(str(tiny_model)), device="cpu")
    ref_p, alt_p = (out[0, 2] for out in predictor.predict([one_hot(text), one_hot(mutant)]))
    assert result.drops[row, "ACGT".index(base)] == pytest.approx(ref_p - alt_p, abs=1e-5)


def test_minus_strand_is_the_reverse_complement_of_plus(tiny_model, tmp_path):
    """A site on a contig and the same site on its reverse complement give mirrored, complemented drops."""
    from spliceannot.engine.weights import load_model
    from spliceannot.ism import mutagenesis
    from spliceannot.readers.fasta import Reference
    from spliceannot.sites import Site

    source = Reference(FASTA)
    forward = source.fetch("chr16", 274103 - 1 - 200, 274103 + 200).upper()  # the tiny donor at 201
    source.close()
    complement = forward[::-1].translate(str.maketrans("ACGTN", "TGCAN"))
    fasta = tmp_path / "pair.fa"
    fasta.write_text(f">fw\n{forward}\n>rc\n{complement}\n")
    reference = Reference(fasta)
    model = load_model(str(tiny_model))
    plus = mutagenesis(reference, Site("fw", 201, "donor", "+"), model, width=30, device="cpu")
    minus = mutagenesis(reference, Site("rc", 201, "donor", "-"), model, width=30, device="cpu")
    reference.close()
    assert plus.reference_probability == pytest.approx(minus.reference_probability, abs=1e-6)
    # the logo reads the same letters at the same offsets
    assert plus.transcript_bases == minus.transcript_bases[::-1]
    assert plus.offsets.tolist() == minus.offsets[::-1].tolist()
    mirrored = minus.drops[::-1][
        :, ::-1
    ]  # position p <-> 402 - p, base b <-> its complement (ACGT reversed)
    np.testing.assert_allclose(np.nan_to_num(plus.drops), np.nan_to_num(mirrored), atol=2e-5)
    np.testing.assert_allclose(plus.importance, minus.importance[::-1], atol=2e-5)


def test_tsv_importance_equals_logo_heights_two_models(tiny_model, second_model, tmp_path):
    from PIL import Image

    from spliceannot.ism import read_tsv
    from spliceannot.viz.ism import run_ism

    results, written, drawing = run_ism(
        str(FASTA),
        TINY_DONOR,
        [str(tiny_model), str(second_model)],
        str(tmp_path / "donor"),
        kind="donor",
        strand="+",
        width=20,
        labels=["tiny", "other"],
        formats=["svg", "png"],
        device="cpu",
    )
    assert [p.name for p in written] == ["donor.tsv", "donor.svg", "donor.png"]
    table = read_tsv(tmp_path / "donor.tsv")
    assert sorted(table) == ["other", "tiny"] and all(len(rows) == 41 for rows in table.values())
    from_svg = logo_heights_from_svg(tmp_path / "donor.svg")
    for name in ("tiny", "other"):
        heights = drawing.heights(name)
        assert heights.keys() == table[name].keys()
        for position, importance in table[name].items():
            assert heights[position] == pytest.approx(importance, abs=1e-6)
            if abs(heights[position]) > 0:
                assert from_svg[(name, position)] == pytest.approx(importance, abs=1e-6)
    assert results[0].importance.tolist() != results[1].importance.tolist()
    with Image.open(tmp_path / "donor.png") as image:
        width, height = image.size
    assert image.format == "PNG" and width >= 600 and height >= 400  # two logo rows
    header = (tmp_path / "donor.tsv").read_text().splitlines()[:3]
    assert header[0] == "# site=chr16:274103 kind=donor strand=+"
    assert header[1].startswith("# model=tiny reference_probability=0.")


def test_site_and_strand_from_the_annotation(chr16_table):
    from spliceannot.readers.annotation import load_annotation
    from spliceannot.sites import Site, resolve_site

    annotation = load_annotation(str(chr16_table))
    expected = Site("chr16", RGS11_ACCEPTOR, "acceptor", "-")
    assert resolve_site(f"chr16:{RGS11_ACCEPTOR}", annotation) == (expected, None)
    assert resolve_site("chr16:274,250-274,280", annotation) == (expected, (274250, 274280))
    assert resolve_site("chr16:274103", None, kind="donor", strand="+")[0] == Site(
        "chr16", 274103, "donor", "+"
    )


def test_cli_minus_strand_logo_reads_the_transcript(tiny_model, chr16_table, tmp_path):
    result = run_cli(
        [
            "ism",
            f"chr16:{RGS11_ACCEPTOR}",
            "-R",
            FASTA,
            "-A",
            chr16_table,
            "-m",
            tiny_model,
            "-w",
            5,
            "-o",
            tmp_path / "acc",
            "--format",
            "svg",
        ]
    )
    assert result.exit_code == 0, result.stderr
    rows = [
        l.split("\t")
        for l in (tmp_path / "acc.tsv").read_text().splitlines()
        if not l.startswith("#")
    ][1:]
    by_offset = {int(r[3]): r for r in rows}
    # transcript direction on the minus strand: offset -1 is the next base to the right on the contig
    assert (
        int(by_offset[-1][2]) == RGS11_ACCEPTOR + 1 and int(by_offset[5][2]) == RGS11_ACCEPTOR - 5
    )
    # the intron's last two bases read AG in the transcript: CT on the forward strand
    assert by_offset[-1][4] + by_offset[-2][4] == "CT"
    assert "acceptor at chr16:274265 (- strand)" in (tmp_path / "acc.svg").read_text()


@pytest.mark.parametrize(
    "location, extra, message",
    [
        ("chr16:274104", [], "no annotated splice site there"),
        ("chr16:274104", ["--site", "donor"], "no annotated donor splice site there"),
        ("chr16-274104", [], "not a site or region"),
        ("chr99:1000", ["--site", "donor", "--strand", "+"], "chr99: contig not in"),
        ("chr16:1-5000", [], "region longer than 2001 nt"),
    ],
)
def test_bad_input_is_one_line_and_no_file(
    tiny_model, chr16_table, tmp_path, location, extra, message
):
    result = run_cli(
        [
            "ism",
            location,
            "-R",
            FASTA,
            "-A",
            chr16_table,
            "-m",
            tiny_model,
            *extra,
            "-o",
            tmp_path / "out",
        ]
    )
    assert result.exit_code == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert (
        len(lines) == 1 and lines[0].startswith("spliceannot ism: error:") and message in lines[0]
    ), result.stderr
    assert list(tmp_path.iterdir()) == []
