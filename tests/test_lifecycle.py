"""The lifecycle end to end on a synthetic genome: create-data, train, evaluate,
transfer, calibrate, ensemble, and annotate with the result."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from spliceannot.cli import main
from spliceannot.engine.weights import load_model
from spliceannot.trainers.layout import SpliceData
from spliceannot.trainers.training import evaluate_data
from synthetic import write_synthetic_genome



def fast(seed: int = 1) -> list[str]:
    """Options of a quick flank-80 run on the synthetic genome."""
    return ["--flank", "80", "--batch-size", "2", "--threads", "1", "--seed", str(seed),
            "--learning-rate", "0.01", "--scheduler", "cosine", "--metric-windows", "4",
            "--no-progress"]  # fmt: skip


FAST = fast()


def run(*args: str):
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result


def ok(*args: str):
    result = run(*args)
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture(scope="module")
def genome(tmp_path_factory):
    directory = tmp_path_factory.mktemp("lifecycle")
    fasta, gtf = write_synthetic_genome(
        directory, chromosomes=("chr1", "chr2", "chr3", "chr4", "chr5"), genes_per_chromosome=8, seed=0
    )
    data = directory / "data"
    ok("create-data", "-R", fasta, "-A", gtf, "-o", data, "--test-chroms", "chr5", "--val-chroms", "chr4")
    return directory, fasta, gtf, data


def read_metrics(path):
    with open(path) as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        row.pop("seconds")
    return rows


@pytest.fixture(scope="module")
def short_run(genome):
    directory, _, _, data = genome
    out = directory / "short"
    ok("train", "-d", data, "-o", out, "--epochs", "3", *FAST)
    return out


@pytest.mark.slow
def test_a_small_model_learns_the_planted_sites(genome):
    directory, _, _, data = genome
    out = directory / "long"
    ok("train", "-d", data, "-o", out, "--epochs", "30", *FAST)
    for name in ("best.safetensors", "last.safetensors", "metrics.csv", "curves.png", "resume.pt"):
        assert (out / name).is_file()
    assert (out / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    rows = read_metrics(out / "metrics.csv")
    assert len(rows) == 30
    assert {"train_loss", "validation_loss", "validation_acceptor_top1", "validation_donor_pr_auc",
            "train_acceptor_top4", "learning_rate"} <= set(rows[0])  # fmt: skip
    assert float(rows[-1]["train_loss"]) < float(rows[0]["train_loss"]) / 10
    model = load_model(str(out / "best.safetensors"))
    with SpliceData(data / "test.h5") as test:
        metrics = evaluate_data(model.ensemble, test)
    # chr5 was never seen in training or model selection
    assert metrics.topk["acceptor"][1.0] >= 0.9
    assert metrics.topk["donor"][1.0] >= 0.9


def test_the_same_seed_gives_the_same_run_and_resume_continues_it(genome, short_run):
    directory, _, _, data = genome
    again = directory / "again"
    ok("train", "-d", data, "-o", again, "--epochs", "3", *FAST)
    assert read_metrics(again / "metrics.csv") == read_metrics(short_run / "metrics.csv")
    # a multistep run extended by one epoch equals the longer run
    steps = [*FAST, "--scheduler", "multistep", "--milestones", "2"]
    longer, resumed = directory / "longer", directory / "resumed"
    ok("train", "-d", data, "-o", longer, "--epochs", "3", *steps)
    ok("train", "-d", data, "-o", resumed, "--epochs", "2", *steps)
    ok("train", "-d", data, "-o", resumed, "--epochs", "3", "--resume", *steps)
    assert read_metrics(resumed / "metrics.csv") == read_metrics(longer / "metrics.csv")
    # a cosine schedule spans --epochs: resuming with another count is refused
    changed = run("train", "-d", data, "-o", short_run, "--epochs", "4", "--resume", *FAST)
    assert changed.exit_code == 2 and "--epochs" in changed.output
    other = directory / "other-seed"
    ok("train", "-d", data, "-o", other, "--epochs", "1", *fast(seed=2))
    assert read_metrics(other / "metrics.csv")[0] != read_metrics(short_run / "metrics.csv")[0]


def test_evaluate_from_fasta_equals_evaluate_on_the_test_file(genome, short_run):
    directory, fasta, gtf, data = genome
    model = short_run / "best.safetensors"
    from_file = ok("evaluate", "-m", model, "--data", data / "test.h5", "-o", directory / "a.tsv")
    from_genome = ok("evaluate", "-m", model, "-R", fasta, "-A", gtf, "--chromosomes", "chr5",
                     "-o", directory / "b.tsv")  # fmt: skip
    a = (directory / "a.tsv").read_text().splitlines()
    b = (directory / "b.tsv").read_text().splitlines()
    assert a[0] == b[0] and a[1].split("\t")[1:] == b[1].split("\t")[1:]
    assert "acceptor_top1" in from_file.output and "donor_pr_auc" in from_genome.output
    two = ok("evaluate", "-m", model, "-m", short_run / "last.safetensors", "--data", data / "test.h5")
    assert len(two.output.strip().splitlines()) == 3


def test_transfer_freezes_what_it_is_told(genome, short_run):
    directory, _, _, data = genome
    out = directory / "transfer"
    ok("transfer", "-m", short_run / "best.safetensors", "--train-last", "1", "-d", data, "-o", out,
       "--epochs", "1", "--threads", "1", "--no-progress")  # fmt: skip
    source = load_model(str(short_run / "best.safetensors")).ensemble.members[0].state_dict()
    tuned = load_model(str(out / "best.safetensors")).ensemble.members[0].state_dict()
    for key in source:
        same = torch.equal(source[key], tuned[key])
        if key.startswith(("units.3.", "head.", "group_skips.0.")):
            if not key.endswith(("running_var", "num_batches_tracked")):
                assert not same, key
        else:
            assert same, key
    provenance = load_model(str(out / "best.safetensors")).provenance
    assert any(entry.get("kind") == "transfer" for entry in provenance)


def test_calibrate_ensemble_and_annotate_with_the_result(genome, short_run, tmp_path):
    directory, fasta, gtf, data = genome
    calibrated = tmp_path / "calibrated.safetensors"
    result = ok("calibrate", "-m", short_run / "best.safetensors", "--data", data / "validation.h5",
                "-o", calibrated, "--per-class", "--plot", tmp_path / "reliability.png")  # fmt: skip
    assert "ece_acceptor" in result.output and "brier" in result.output
    temperature = load_model(str(calibrated)).ensemble.temperature
    assert isinstance(temperature, tuple) and temperature[0] == 1.0 and temperature[1:] != (1.0, 1.0)
    assert (tmp_path / "reliability.png").read_bytes()[:4] == b"\x89PNG"
    mixed = run("ensemble", calibrated, short_run / "last.safetensors", "-o", tmp_path / "x.safetensors")
    assert mixed.exit_code == 2 and "--temperature" in mixed.output
    ensemble = tmp_path / "ensemble.safetensors"
    ok("ensemble", short_run / "best.safetensors", short_run / "last.safetensors", "-o", ensemble)
    assert len(load_model(str(ensemble)).ensemble.members) == 2
    # annotate a variant at a planted donor with the ensemble
    with SpliceData(data / "train.h5") as train:
        row = int(np.nonzero((train.y[:] == 2).any(axis=1))[0][0])
        chrom, strand = train._file["chrom"][row].decode(), train._file["strand"][row].decode()
        start = int(train._file["start"][row])
        offset = int(np.nonzero(train.y[row] == 2)[0][0])
    donor = start + offset if strand == "+" else start - offset  # 0-based
    seq = {}
    name = None
    for line in open(fasta):
        if line.startswith(">"):
            name = line[1:].split()[0]
            seq[name] = []
        else:
            seq[name].append(line.strip().upper())
    contig = "".join(seq[chrom])
    pos = donor + (2 if strand == "+" else 0)  # a base inside the GTAAGT / its complement
    ref = contig[pos - 1]
    alt = "A" if ref != "A" else "C"
    vcf = tmp_path / "one.vcf"
    vcf.write_text(f"##fileformat=VCFv4.2\n##contig=<ID={chrom}>\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
                   f"{chrom}\t{pos}\tv1\t{ref}\t{alt}\t.\t.\t.\n")  # fmt: skip
    out = tmp_path / "one.out.vcf"
    ok("annotate", "-I", vcf, "-O", out, "-R", fasta, "-A", gtf, "-m", ensemble, "--workers", "1")
    body = [line for line in out.read_text().splitlines() if not line.startswith("#")]
    assert len(body) == 1 and "SpliceAI=" in body[0]


def test_lifecycle_errors_are_one_line(genome, tmp_path):
    directory, _, _, data = genome
    missing = run("train", "-d", tmp_path / "nowhere", "-o", tmp_path / "o", "--no-progress")
    assert missing.exit_code == 2 and missing.output.count("\n") == 1
    assert "nowhere" in missing.output
    not_data = tmp_path / "bad.h5"
    not_data.write_bytes(b"not hdf5")
    bad = run("calibrate", "-m", "spliceai", "--data", not_data, "-o", tmp_path / "c.safetensors")
    assert bad.exit_code == 2 and "bad.h5" in bad.output
    no_model = run("evaluate", "-m", tmp_path / "none.safetensors", "--data", data / "test.h5")
    assert no_model.exit_code == 2 and "none.safetensors" in no_model.output
    both = run("transfer", "-m", "spliceai", "--freeze-units", "1", "--train-last", "1", "-d", data,
               "-o", tmp_path / "t")  # fmt: skip
    assert both.exit_code == 2
    resume = run("train", "-d", data, "-o", tmp_path / "fresh", "--resume", "--no-progress")
    assert resume.exit_code == 2 and "nothing to resume" in resume.output
