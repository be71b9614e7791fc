"""``spliceannot convert`` and ``annotate -A`` with a GTF."""

from __future__ import annotations

from pathlib import Path

import torch
from click.testing import CliRunner
from safetensors import safe_open

from spliceannot.cli import main
from spliceannot.engine.weights import load_model, save_checkpoint
from toy import FASTA, tiny_members

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_convert_a_directory_into_one_checkpoint(tmp_path):
    members = tiny_members()
    directory = tmp_path / "members"
    directory.mkdir()
    for index, member in enumerate(members):
        save_checkpoint(directory / f"m{index}.safetensors", [member])
    out = tmp_path / "ensemble.safetensors"
    result = CliRunner().invoke(main, ["convert", str(directory), "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    with safe_open(str(out), framework="pt") as handle:
        metadata = handle.metadata()
    assert metadata["members"] == str(len(members)) and metadata["flank"] == "80"
    assert '"kind": "convert"' in metadata["provenance"]
    x = torch.zeros(1, 4, 300)
    x[0, torch.randint(0, 4, (300,), generator=torch.Generator().manual_seed(0)), torch.arange(300)] = 1
    with torch.no_grad():
        torch.testing.assert_close(load_model(str(out)).ensemble(x), load_model(str(directory)).ensemble(x),
                                   atol=0, rtol=0)


def test_convert_of_a_missing_source_is_a_clean_error(tmp_path):
    out = tmp_path / "x.safetensors"
    result = CliRunner().invoke(main, ["convert", str(tmp_path / "nothing"), "-o", str(out)])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "nothing" in result.stderr and "Traceback" not in result.stderr
    assert not out.exists()


def test_annotate_reads_a_gtf_as_annotation(tmp_path, tiny_model):
    vcf = tmp_path / "in.vcf"
    vcf.write_text(
        "##fileformat=VCFv4.2\n##contig=<ID=chr16,length=397118>\n"
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
        "chr16\t189969\tv3\tT\tA\t.\tPASS\t.\n"
    )
    out = tmp_path / "out.vcf"
    args = ["annotate", "-I", str(vcf), "-O", str(out), "-R", str(FASTA), "-m", str(tiny_model),
            "-A", str(EXAMPLES / "chr16_genes.gtf.gz"), "--transcripts", "all"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.stderr
    record = [l for l in out.read_text().splitlines() if not l.startswith("#")][0]
    names = [entry.split("|")[1] for entry in record.split("SpliceAI=")[1].split(",")]
    # LUC7L's RefSeq transcripts, named by their accessions (gene_id) in this GTF
    assert names and all(name.startswith(("NM_", "NR_", "XM_")) for name in names)
