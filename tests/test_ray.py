"""``--engine ray``: a local two-worker Ray cluster gives the single-process output, byte for byte.

Each test starts (and stops) a real local Ray cluster, a few seconds each.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("ray")

from synthetic import write_synthetic_genome  # noqa: E402

pytestmark = pytest.mark.slow

CONTIGS = ("chr1", "chr2", "chr3")


def _spliceannot(*args, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "spliceannot", *map(str, args)],
        capture_output=True, text=True, timeout=300, **kwargs,
    )  # fmt: skip


@pytest.fixture(scope="module")
def genome(tmp_path_factory):
    """Three synthetic contigs with genes, and an unsorted VCF over all of them."""
    directory = tmp_path_factory.mktemp("ray-genome")
    fasta, gtf = write_synthetic_genome(directory, chromosomes=CONTIGS, genes_per_chromosome=4, seed=7)
    from spliceannot.readers.fasta_stream import stream_fasta

    sequences = {name: bytes(seq).decode().upper() for name, seq in stream_fasta(fasta)}
    rng = random.Random(3)
    lines = []
    for chrom, sequence in sequences.items():
        for k in range(70):
            pos = rng.randrange(200, len(sequence) - 200)
            ref = sequence[pos - 1]
            others = [b for b in "ACGT" if b != ref]
            kind = k % 7
            if kind == 0:  # multi-allelic SNV
                alts = ",".join(rng.sample(others, 2))
            elif kind == 1:  # deletion
                ref = sequence[pos - 1 : pos + 2]
                alts = ref[0]
            elif kind == 2:  # insertion and SNV at one site
                alts = f"{ref}GT,{others[0]}"
            else:
                alts = rng.choice(others)
            lines.append(f"{chrom}\t{pos}\tv{chrom}_{k}\t{ref}\t{alts}\t.\t.\t.")
    lines.append("chrUn\t100\tunknown\tA\tG\t.\t.\t.")  # passes through: no gene on this contig
    rng.shuffle(lines)  # unsorted: the output keeps this order
    header = ["##fileformat=VCFv4.2"]
    header += [f"##contig=<ID={c},length={len(s)}>" for c, s in sequences.items()]
    header += ["##contig=<ID=chrUn,length=1000>", "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO"]
    vcf = directory / "variants.vcf"
    vcf.write_text("\n".join(header + lines) + "\n")
    return fasta, gtf, vcf


def _content(path: Path) -> list[str]:
    """The records and header of a VCF/BCF, without the command line (which names the engine)."""
    text = subprocess.run(["bcftools", "view", "--no-version", str(path)], capture_output=True, text=True,
                          check=True).stdout  # fmt: skip
    return [line for line in text.splitlines() if not line.startswith("##spliceannotCommand")]


def _annotate_args(genome, tiny_model, output, *extra):
    fasta, gtf, vcf = genome
    return ["annotate", "-I", vcf, "-O", output, "-R", fasta, "-A", gtf, "-m", tiny_model, "-D", 100,
            "--no-progress", *extra]  # fmt: skip


def _cache_rows(path: Path) -> int:
    with sqlite3.connect(path) as connection:
        return connection.execute("SELECT count(*) FROM scores").fetchone()[0]


def test_two_ray_workers_write_the_single_process_output(genome, tiny_model, tmp_path):
    outputs = {}
    for name, extra in (("local", ["--workers", 1]), ("ray", ["--engine", "ray", "--workers", 2, "--chunk-size", 8])):
        output = tmp_path / f"{name}.bcf"
        result = _spliceannot(*_annotate_args(genome, tiny_model, output, "--per-allele-fields",
                                              "--cache", tmp_path / f"{name}.sqlite", *extra))  # fmt: skip
        assert result.returncode == 0, result.stderr
        outputs[name] = (_content(output), result.stderr)
    (local, local_log), (ray, ray_log) = outputs["local"], outputs["ray"]
    assert ray == local
    assert sum(1 for line in ray if "SpliceAI=" in line) == 128
    # the same summary: every record read and written, the same pass-through counts
    summary = lambda text: text.strip().splitlines()[-1].rsplit(";", 1)[0]  # noqa: E731
    assert summary(ray_log) == summary(local_log)
    assert "records read 211, written 211, scored 128" in ray_log
    assert len(ray_log.strip().splitlines()) == 1, ray_log  # Ray's own logging stays quiet
    # both actors wrote their scores into one cache file: as many as one process writes
    assert _cache_rows(tmp_path / "ray.sqlite") == _cache_rows(tmp_path / "local.sqlite") > 100


def _records(vcf: Path) -> list:
    """The VCF's records as the pools take them (InputRecord items)."""
    from spliceannot.readers.vcf import open_variants

    with open_variants(str(vcf)) as source:
        return list(source)


def test_a_killed_worker_is_restarted_and_its_shards_scored_again(genome, tiny_model, tmp_path):
    """SIGKILL one actor while shards are in flight: nothing lost, nothing twice, same outcomes."""
    from spliceannot.stream import record_view
    from spliceannot.cluster.annotate_pool import RayScoringPool
    from spliceannot.cluster.connection import RaySettings, connect, disconnect
    from spliceannot.factory import build_scorer
    from spliceannot.pipeline import AnnotateSettings

    fasta, gtf, vcf = genome
    settings = AnnotateSettings(reference=str(fasta), annotation=str(gtf), model=str(tiny_model),
                                distance=100, cache=str(tmp_path / "scores.sqlite"))  # fmt: skip
    records = _records(vcf)
    expected = build_scorer(settings).score([record_view(r.record) for r in records])
    shards = [records[i : i + 4] for i in range(0, len(records), 4)]
    connect(None)
    try:
        pool = RayScoringPool(settings, RaySettings(workers=2), gap=10_200)
        victim = pool.pool.actors[0]
        first_pid = pool.pool.ray.get(victim.pid.remote())

        def feed():
            for number, shard in enumerate(shards):
                if number == 5:  # shards 0..4 are in flight, 0, 2 and 4 on the victim
                    os.kill(first_pid, signal.SIGKILL)
                yield shard

        got = []
        for shard, outcomes in pool.map_ordered(feed()):
            assert len(outcomes) == len(shard)
            got.extend(outcomes)
        assert got == expected
        assert pool.retried >= 1
        assert pool.pool.ray.get(victim.pid.remote()) != first_pid  # Ray restarted the actor
        # a second pass over the same records finds every score in the shared cache
        pool.close()
        pool = RayScoringPool(settings, RaySettings(workers=2), gap=10_200)
        again = []
        for _, outcomes in pool.map_ordered([records[i : i + 16] for i in range(0, len(records), 16)]):
            again.extend(outcomes)
        hits, misses = pool.cache_counts()
        assert again == expected and hits > 100 and misses == 0
        pool.close()
    finally:
        disconnect()


def _ray_processes() -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if b"ray::" in command or b"raylet" in command or b"gcs_server" in command:
                found.add(int(entry.name))
    return found


def test_sigterm_to_the_driver_leaves_no_output_and_stops_the_cluster(genome, tiny_model, tmp_path):
    fasta, gtf, vcf = genome
    big = tmp_path / "big.vcf"
    header = [line for line in vcf.read_text().splitlines() if line.startswith("#")]
    body = [line for line in vcf.read_text().splitlines() if not line.startswith("#")]
    big.write_text("\n".join(header + body * 40) + "\n")
    before = _ray_processes()
    output = tmp_path / "out.vcf.gz"
    process = subprocess.Popen(
        [sys.executable, "-m", "spliceannot", *map(str, _annotate_args((fasta, gtf, big), tiny_model, output,
         "--engine", "ray", "--workers", 2, "--chunk-size", 2, "--no-cache"))],
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not any(
        b"ray::AnnotateWorker" in Path(f"/proc/{pid}/cmdline").read_bytes()
        for pid in _ray_processes() - before if Path(f"/proc/{pid}").exists()
    ):
        assert process.poll() is None, process.stderr.read()
        time.sleep(0.2)
    time.sleep(2.0)  # scoring under way
    assert process.poll() is None, "the run ended before it could be interrupted"
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 143, stderr
    assert "Traceback" not in stderr
    assert not output.exists() and list(tmp_path.glob("out.vcf.gz*")) == []
    deadline = time.monotonic() + 30
    while _ray_processes() - before and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _ray_processes() - before == set()  # the local cluster it started is gone


def test_predict_on_ray_has_the_same_seams_and_bytes(genome, tiny_model, tmp_path):
    import h5py
    import numpy as np

    fasta, _, _ = genome
    outputs = {}
    for name, extra in (("local", []), ("ray", ["--engine", "ray", "--workers", 2])):
        result = _spliceannot("predict", "-R", fasta, "-m", tiny_model, "--chunk-size", 2000,
                              "--batch-size", 1, "--regions", "chr1:1-6000,chr3:2001-8000", "--skip-n", 0, "--bedgraph", tmp_path / name,
                              "--hdf5", tmp_path / f"{name}.h5", "--no-progress", *extra)  # fmt: skip
        assert result.returncode == 0, result.stderr
        outputs[name] = result.stderr
    lines = 0
    for kind in ("acceptor", "donor"):
        for strand in ("plus", "minus"):
            local = (tmp_path / f"local.{kind}.{strand}.bedGraph").read_bytes()
            assert (tmp_path / f"ray.{kind}.{strand}.bedGraph").read_bytes() == local
            lines += local.count(b"\n")
    assert lines > 10_000
    with h5py.File(tmp_path / "local.h5") as a, h5py.File(tmp_path / "ray.h5") as b:
        for contig in ("chr1", "chr3"):
            for strand in ("plus", "minus"):
                left, right = a[contig][strand][()], b[contig][strand][()]
                assert np.count_nonzero(~np.isnan(left[:, 1])) == 6000
                assert np.array_equal(left, right, equal_nan=True)


def test_an_unreachable_cluster_is_one_line_and_no_output(genome, tiny_model, tmp_path):
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    output = tmp_path / "out.vcf"
    result = _spliceannot(*_annotate_args(genome, tiny_model, output, "--engine", "ray",
                                          "--ray-address", f"127.0.0.1:{port}"))  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"spliceannot annotate: error: cannot reach a Ray cluster at 127.0.0.1:{port}: Connection refused"
    )
    assert not output.exists()
    result = _spliceannot(*_annotate_args(genome, tiny_model, output, "--ray-address", "auto"))
    assert result.returncode == 2 and "--ray-address needs --engine ray" in result.stderr


def test_joining_a_running_cluster_by_address(genome, tiny_model, tmp_path):
    """`ray start --head` elsewhere; `--ray-address HOST:PORT` joins it and leaves it running."""
    import socket

    ray_cli = Path(sys.executable).with_name("ray")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "RAY_AUTH_MODE": "token"}  # Ray >= 2.5x clusters want their token
    started = subprocess.run([ray_cli, "start", "--head", "--port", str(port), "--num-cpus", "2",
                              "--include-dashboard=false", "--disable-usage-stats"],
                             capture_output=True, text=True, env=env, timeout=120)  # fmt: skip
    assert started.returncode == 0, started.stderr
    try:
        local = _spliceannot(*_annotate_args(genome, tiny_model, tmp_path / "local.vcf", "--no-cache", "--workers", 1))
        joined = _spliceannot(*_annotate_args(genome, tiny_model, tmp_path / "joined.vcf", "--no-cache",
                                              "--engine", "ray", "--ray-address", f"127.0.0.1:{port}"),
                              env=env)  # fmt: skip
        assert local.returncode == 0 and joined.returncode == 0, joined.stderr
        assert _content(tmp_path / "joined.vcf") == _content(tmp_path / "local.vcf")
        status = subprocess.run([ray_cli, "status", "--address", f"127.0.0.1:{port}"], capture_output=True,
                                text=True, env=env, timeout=60)  # fmt: skip
        assert status.returncode == 0, status.stderr  # the cluster outlives the run
    finally:
        subprocess.run([ray_cli, "stop", "--force"], capture_output=True, timeout=120)


def test_shards_split_each_batch_for_the_actors_at_window_gaps():
    from spliceannot.annotate import Record
    from spliceannot.cluster.shards import genomic_shards

    def rec(chrom, pos):
        return Record(chrom, pos, "A", ("G",))

    def positions(shards):
        return [[(r.chrom, r.pos) for r in shard] for shard in shards]

    # the even split (after 4 of 8) moves to the gap between 400 and 30,000
    records = [rec("1", p) for p in (100, 200, 300, 400, 30_000, 30_100, 30_200)] + [rec("1", 30_300)]
    assert positions(genomic_shards(records, size=8, gap=10_100, pieces=2)) == [
        [("1", p) for p in (100, 200, 300, 400)],
        [("1", p) for p in (30_000, 30_100, 30_200, 30_300)],
    ]
    shifted = [rec("1", p) for p in (100, 200, 300, 30_000, 30_100, 30_200, 30_300, 30_400)]
    assert [len(s) for s in genomic_shards(shifted, size=8, gap=10_100, pieces=2)] == [3, 5]
    # a contig change is the best place to cut; a dense stretch is cut evenly
    mixed = [rec("1", p) for p in range(1, 6)] + [rec("2", p) for p in range(1, 4)]
    assert [len(s) for s in genomic_shards(mixed, size=8, gap=10_100, pieces=2)] == [5, 3]
    dense = [rec("1", p) for p in range(1, 151)]
    assert [len(s) for s in genomic_shards(dense, size=256, gap=10_100, pieces=2)] == [75, 75]
    assert [len(s) for s in genomic_shards(dense, size=64, gap=10_100, pieces=2)] == [32, 32, 32, 32, 11, 11]
    # nothing lost, nothing repeated, order kept
    assert [r for s in genomic_shards(dense, 7, 0, 3) for r in s] == dense
