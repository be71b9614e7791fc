"""Faults from outside: signals mid-run, a full disk, unwritable places, broken or crafted checkpoints.

The promise checked everywhere: a file at the output path is complete or
absent, and a failure is one line on stderr with exit code 2 (143 after
SIGTERM, 130 after SIGINT), never a traceback.
"""

from __future__ import annotations

import os
import pickle
import resource
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from hostile_cases import CORPUS, GOOD, base, record, vcf

TIMEOUT = 120


@pytest.fixture
def corpus(tmp_path) -> Path:
    directory = tmp_path / "corpus"
    shutil.copytree(CORPUS, directory)
    return directory


def many_records(path: Path, count: int) -> Path:
    """``count`` scorable SNVs on the corpus genome (positions cycle through chr1's gene)."""
    lines = []
    for i in range(count):
        pos = 300 + (i * 7) % 2400
        ref = base("chr1", pos)
        lines.append(record("chr1", pos, ref, "ACGT"["ACGT".index(ref) - 1], f"r{i}"))
    path.write_bytes(vcf(*lines))
    return path


def annotate_command(corpus: Path, model: Path, vcf_path: Path, out: Path, *extra) -> list[str]:
    return [
        sys.executable, "-m", "spliceannot", "annotate", "-I", str(vcf_path), "-O", str(out),
        "-R", str(corpus / "genome.fa"), "-A", str(corpus / "genes.txt"), "-m", str(model),
        "--no-cache", "--workers", "1", "--chunk-size", "64", *map(str, extra),
    ]


def environment() -> dict:
    return dict(os.environ, OMP_NUM_THREADS="1")


def temporaries(out: Path) -> list[Path]:
    return [p for p in out.parent.iterdir() if p.name.startswith(f".{out.name}.")]


def one_line_error(stderr: str, command: str = "annotate") -> str:
    assert "Traceback" not in stderr, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith(f"spliceannot {command}: error: "), lines[0]
    return lines[0]


# --------------------------------------------------------------------------- signals


@pytest.mark.parametrize(
    "sig, code",
    [(signal.SIGTERM, 143), (signal.SIGINT, 130), (signal.SIGKILL, -signal.SIGKILL)],
    ids=["SIGTERM", "SIGINT", "SIGKILL"],
)
def test_a_signal_mid_run_leaves_nothing_at_the_output_path(corpus, tiny_model, sig, code):
    source = many_records(corpus / "big.vcf", 100_000)
    out = corpus / "out.vcf.gz"
    process = subprocess.Popen(
        annotate_command(corpus, tiny_model, source, out),
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=environment(),
    )
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:  # records are being written to the temporary file
        partial = temporaries(out)
        if partial and partial[0].stat().st_size > 20_000:
            break
        assert process.poll() is None, process.stderr.read().decode()
        time.sleep(0.05)
    else:
        pytest.fail("no output was written")
    process.send_signal(sig)
    stderr = process.communicate(timeout=TIMEOUT)[1].decode()
    assert process.returncode == code, stderr
    assert not out.exists()
    assert "Traceback" not in stderr
    if sig != signal.SIGKILL:  # a killed process cannot clean up; its temporary file is hidden
        assert temporaries(out) == []
    if sig == signal.SIGINT:
        assert stderr.strip().splitlines() == ["spliceannot: interrupted"]


def test_sigterm_mid_predict_leaves_no_output_files(tmp_path, tiny_model):
    import random

    rng = random.Random(3)
    fasta = tmp_path / "big.fa"
    sequence = "".join(rng.choice("ACGT") for _ in range(2_000_000))
    fasta.write_text(">big\n" + "\n".join(sequence[i : i + 80] for i in range(0, len(sequence), 80)) + "\n")
    bed, hdf5 = tmp_path / "sites.bed", tmp_path / "tracks.h5"
    process = subprocess.Popen(
        [sys.executable, "-m", "spliceannot", "predict", "-R", str(fasta), "-m", str(tiny_model),
         "--bed", str(bed), "--hdf5", str(hdf5), "--device", "cpu", "--no-progress", "--chunk-size", "20000"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=environment(),
    )
    deadline = time.monotonic() + TIMEOUT
    while not temporaries(hdf5) and time.monotonic() < deadline:  # predicting has begun
        assert process.poll() is None, process.stderr.read().decode()
        time.sleep(0.05)
    time.sleep(1.0)
    assert process.poll() is None, "predict ended before it could be interrupted"
    process.send_signal(signal.SIGTERM)
    stderr = process.communicate(timeout=TIMEOUT)[1].decode()
    assert process.returncode == 143, stderr
    assert "Traceback" not in stderr
    assert not bed.exists() and not hdf5.exists()
    assert temporaries(bed) == [] and temporaries(hdf5) == []


# --------------------------------------------------------------------------- full disk, unwritable places


def _limit_file_size(limit: int):
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


@pytest.mark.parametrize(
    "name, records, extra",
    [
        ("out.vcf", 3_000, ()),  # fails while records are written
        ("out.vcf.gz", 300, ()),  # fails when the last BGZF block is flushed at close
        ("out.bcf", 300, ()),
        ("scores.vcf.gz", 300, ("--output-mode", "per-gene")),
    ],
    ids=["vcf", "vcf.gz", "bcf", "per-gene"],
)
def test_a_full_disk_is_a_one_line_error_and_leaves_no_partial_output(corpus, tiny_model, name, records, extra):
    """RLIMIT_FSIZE makes every write past 4 KiB fail with EFBIG, as a full disk does with ENOSPC."""
    source = many_records(corpus / "big.vcf", records)
    out = corpus / name
    done = subprocess.run(
        annotate_command(corpus, tiny_model, source, out, *extra),
        capture_output=True, text=True, env=environment(), timeout=TIMEOUT,
        preexec_fn=_limit_file_size(4 << 10),
    )
    assert done.returncode == 2, done.stderr
    line = one_line_error(done.stderr)
    assert name in line and "cannot write" in line, line
    assert not out.exists() and not Path(f"{out}.tbi").exists()
    assert temporaries(out) == []


def test_an_output_under_proc_is_a_one_line_error(corpus, tiny_model):
    done = subprocess.run(
        annotate_command(corpus, tiny_model, corpus / "good.vcf", Path("/proc/out.vcf")),
        capture_output=True, text=True, env=environment(), timeout=TIMEOUT,
    )
    assert done.returncode == 2
    assert "/proc/out.vcf" in one_line_error(done.stderr)


@pytest.fixture
def read_only_directory(tmp_path):
    """A read-only tmpfs mount (root ignores directory permissions, not a read-only mount)."""
    target = tmp_path / "ro"
    target.mkdir()
    if shutil.which("mount") is None:
        pytest.skip("no mount command")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(target)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a read-only tmpfs here: {mounted.stderr.decode().strip()}")
    yield target
    subprocess.run(["umount", str(target)], check=False)


def test_a_read_only_directory_is_a_one_line_error(corpus, tiny_model, read_only_directory):
    out = read_only_directory / "out.vcf"
    done = subprocess.run(
        annotate_command(corpus, tiny_model, corpus / "good.vcf", out),
        capture_output=True, text=True, env=environment(), timeout=TIMEOUT,
    )
    assert done.returncode == 2
    assert str(out) in one_line_error(done.stderr)
    assert list(read_only_directory.iterdir()) == []


# --------------------------------------------------------------------------- checkpoints


def run_cli(args):
    from click.testing import CliRunner

    from spliceannot.cli import main

    return CliRunner().invoke(main, [str(a) for a in args])


def annotate_with_model(corpus: Path, model: Path):
    out = corpus / "out.vcf"
    result = run_cli([
        "annotate", "-I", corpus / "good.vcf", "-O", out, "-R", corpus / "genome.fa",
        "-A", corpus / "genes.txt", "-m", model, "--no-cache", "--workers", "1",
    ])
    assert result.exit_code == 2, (result.stderr, repr(result.exception))
    assert not out.exists()
    return one_line_error(result.stderr)


@pytest.mark.parametrize("keep", [0.1, 0.5, 0.99])
def test_a_truncated_checkpoint_is_a_clear_error(corpus, tiny_model, keep):
    data = tiny_model.read_bytes()
    cut = corpus / "cut.safetensors"
    cut.write_bytes(data[: int(len(data) * keep)])
    assert "cut.safetensors" in annotate_with_model(corpus, cut)


def test_a_checkpoint_with_flipped_bytes_is_a_clear_error(corpus, tiny_model):
    data = bytearray(tiny_model.read_bytes())
    data[8:40] = b"\xff" * 32  # inside the JSON header
    broken = corpus / "flipped.safetensors"
    broken.write_bytes(bytes(data))
    assert "flipped.safetensors" in annotate_with_model(corpus, broken)


def spliceai_h5() -> Path:
    from spliceannot.engine.files import model_files

    return Path(model_files("spliceai")[0])


@pytest.mark.parametrize("keep", [0.05, 0.5, 0.95])
def test_a_truncated_keras_h5_is_a_clear_error(corpus, keep):
    data = spliceai_h5().read_bytes()
    cut = corpus / "cut.h5"
    cut.write_bytes(data[: int(len(data) * keep)])
    assert "cut.h5" in annotate_with_model(corpus, cut)


def test_a_keras_h5_with_corrupted_weights_is_a_clear_error_or_loads(corpus):
    """Garbage over the middle of the file: h5py reports it, or the weights read as numbers (never a crash)."""
    data = bytearray(spliceai_h5().read_bytes())
    middle = len(data) // 2
    data[middle : middle + 4096] = os.urandom(4096)
    broken = corpus / "noisy.h5"
    broken.write_bytes(bytes(data))
    out = corpus / "out.vcf"
    result = run_cli([
        "annotate", "-I", corpus / "good.vcf", "-O", out, "-R", corpus / "genome.fa",
        "-A", corpus / "genes.txt", "-m", broken, "--no-cache", "--workers", "1", "--no-progress",
    ])
    assert result.exit_code in (0, 2), (result.stderr, repr(result.exception))
    if result.exit_code == 2:
        assert "noisy.h5" in one_line_error(result.stderr)
        assert not out.exists()


class _RunsCode:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def crafted_pt(path: Path, payload: bytes) -> Path:
    """A torch zip checkpoint whose data.pkl is ``payload``."""
    import torch

    torch.save({"weight": torch.zeros(2)}, path.with_suffix(".ok"))
    with zipfile.ZipFile(path.with_suffix(".ok")) as source, zipfile.ZipFile(path, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            target.writestr(item, payload if item.filename.endswith("data.pkl") else data)
    return path


@pytest.mark.parametrize("form", ["torch zip", "bare pickle", "state_dict holding an object"])
def test_a_crafted_pickle_runs_no_code(corpus, tmp_path, form):
    marker = tmp_path / "code-ran"
    evil = _RunsCode(marker)
    path = corpus / "evil.pt"
    if form == "torch zip":
        crafted_pt(path, pickle.dumps(evil, protocol=2))
    elif form == "bare pickle":
        path.write_bytes(pickle.dumps(evil, protocol=2))
    else:
        crafted_pt(path, pickle.dumps({"weight": evil}, protocol=2))
    line = annotate_with_model(corpus, path)
    assert "evil.pt" in line and "refused" in line
    assert not marker.exists()

    from spliceannot.engine.weights import read_torch_state_dict
    from spliceannot.errors import ModelError

    with pytest.raises(ModelError, match="could run code"):
        read_torch_state_dict(path)
    assert not marker.exists()
    # the same payload does run when loaded without weights_only: the test would notice a regression
    assert pickle.loads(pickle.dumps(evil)) == 0 and marker.exists()


def test_a_pt_file_in_the_corpus_runs_no_code(corpus):
    from hostile_cases import MARKER

    Path(MARKER).unlink(missing_ok=True)
    annotate_with_model(corpus, corpus / "evil.pt")
    assert not Path(MARKER).exists()


def test_records_are_complete_after_a_clean_run(corpus, tiny_model):
    """The counterpart: without a fault the file is there, with every record."""
    source = corpus / "two.vcf"
    source.write_bytes(vcf(GOOD[0], GOOD[1]))
    out = corpus / "out.vcf"
    done = subprocess.run(
        annotate_command(corpus, tiny_model, source, out), capture_output=True, text=True,
        env=environment(), timeout=TIMEOUT,
    )
    assert done.returncode == 0, done.stderr
    assert [l for l in out.read_text().splitlines() if not l.startswith("#")].__len__() == 2
