"""One-hot encoding, including SpliceAI's treatment of IUPAC letters."""

from __future__ import annotations

import numpy as np
import pytest

from spliceannot.encoding import one_hot, reverse_complement


def test_acgt_case_insensitive_and_n_is_zero():
    encoded = one_hot("ACGTacgtN")
    assert encoded.shape == (9, 4) and encoded.dtype == np.float32
    np.testing.assert_array_equal(encoded[:4], np.eye(4))
    np.testing.assert_array_equal(encoded[4:8], np.eye(4))
    assert not encoded[8].any()


@pytest.mark.parametrize(
    "letter, channel",
    # SpliceAI 1.3.1 maps an unknown letter to row ord(upper(letter)) % 5 of [N, A, C, G, T]
    [("R", 1), ("Y", 3), ("S", 2), ("W", 1), ("M", 1), ("B", 0), ("D", 2), ("H", 1), ("V", 0), ("r", 1)],
)
def test_iupac_letters_read_as_spliceai_reads_them(letter, channel):
    expected = np.zeros(4, dtype=np.float32)
    expected[channel] = 1
    np.testing.assert_array_equal(one_hot(letter)[0], expected)


def test_k_reads_as_nothing_in_spliceai_mode():
    assert not one_hot("K").any()  # ord('K') % 5 == 0


def test_zeros_mode_reads_every_other_letter_as_n():
    assert not one_hot("RYSWKMBDHV", encoding="zeros").any()
    np.testing.assert_array_equal(one_hot("ACGT", encoding="zeros"), np.eye(4))


def test_reverse_complement():
    np.testing.assert_array_equal(reverse_complement(one_hot("AACGN")), one_hot("NCGTT"))


def test_iupac_option_changes_only_windows_with_iupac_letters(tmp_path, base_args):
    """--iupac n differs from the default only where a window holds an IUPAC letter."""
    from click.testing import CliRunner

    from spliceannot.cli import main
    from toy import FASTA

    plain = tmp_path / "in.vcf"
    plain.write_text(
        "##fileformat=VCFv4.2\n##contig=<ID=chr16,length=397118>\n"
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
        "chr16\t189969\tsnv\tT\tA\t.\tPASS\t.\n"
        "chr16\t189969\tiupac\tT\tR\t.\tPASS\t.\n"
    )
    runner = CliRunner()
    outputs = {}
    for mode in ("spliceai", "n"):
        out = tmp_path / f"{mode}.vcf"
        result = runner.invoke(main, [*base_args, "-I", str(plain), "-O", str(out), "--iupac", mode])
        assert result.exit_code == 0, result.stderr
        outputs[mode] = [l for l in out.read_text().splitlines() if not l.startswith("#")]
    assert outputs["spliceai"][0] == outputs["n"][0]  # no IUPAC letter: same
    assert outputs["spliceai"][1] != outputs["n"][1]  # ALT R: read as C vs as N
    assert str(FASTA).endswith("chr16_region.fa.gz")
