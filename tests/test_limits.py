"""Resource limits: memory does not grow with the input; ``serve`` takes a crowd.

Memory: ``annotate`` runs on 10,000 and on 100,000 records (one in a hundred
scored by the model, the rest passing through) under an address-space cap,
and the peak RSS of the larger run stays within a small margin of the
smaller one.  ``SPLICEANNOT_LIMITS_RECORDS=1000000`` sets the larger size
(1,000,000 by hand: see the numbers in SECURITY.md).

serve: 1,000 requests from 10 concurrent clients on its TCP port are all
answered, matched by id, and the server is still healthy afterwards.
"""

from __future__ import annotations

import json
import os
import resource
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from hostile_cases import CORPUS, GOOD, base, record, vcf

LARGE = int(os.environ.get("SPLICEANNOT_LIMITS_RECORDS", "100000"))
SMALL = 10_000
ADDRESS_SPACE = 3 << 30  # bytes; torch maps far more than it touches (RSS stays near 0.4 GB)
GROWTH = 64 << 20  # allowed peak RSS growth from SMALL to LARGE records, bytes
TIMEOUT = 600


def mixed_records(path: Path, count: int) -> Path:
    """``count`` records: every hundredth a scorable SNV in chr1's gene, the rest on a contig the FASTA lacks."""
    with open(path, "wb") as handle:
        handle.write(vcf())
        for i in range(count):
            if i % 100 == 0:
                pos = 300 + (i // 100 * 7) % 2400
                ref = base("chr1", pos)
                line = record("chr1", pos, ref, "ACGT"["ACGT".index(ref) - 1], f"r{i}")
            else:
                line = record("chr9", 1 + i % 900, "A", "G", f"r{i}")
            handle.write(line.encode() + b"\n")
    return path


def peak_rss(command: list[str]) -> tuple[int, str]:
    """Run ``command`` under the address-space cap; (peak RSS in bytes, stderr)."""

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))

    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        env=dict(os.environ, OMP_NUM_THREADS="1"), preexec_fn=cap,
    )
    timer = threading.Timer(TIMEOUT, process.kill)
    timer.start()
    stderr = process.stderr.read().decode()
    _, status, usage = os.wait4(process.pid, 0)
    timer.cancel()
    assert os.waitstatus_to_exitcode(status) == 0, stderr
    return usage.ru_maxrss * 1024, stderr


def test_peak_memory_does_not_grow_with_the_number_of_records(tmp_path, tiny_model):
    fasta = tmp_path / "genome.fa"  # a copy: its .fai is built beside it
    fasta.write_bytes((CORPUS / "genome.fa").read_bytes())
    peaks = {}
    for count in (SMALL, LARGE):
        source = mixed_records(tmp_path / f"{count}.vcf", count)
        out = tmp_path / f"{count}.vcf.gz"
        command = [
            sys.executable, "-m", "spliceannot", "annotate", "-I", str(source), "-O", str(out),
            "-R", str(fasta), "-A", str(CORPUS / "genes.txt"), "-m", str(tiny_model),
            "--no-cache", "--workers", "1",
        ]
        peaks[count], stderr = peak_rss(command)
        summary = next(line for line in stderr.splitlines() if "records read" in line)
        assert f"records read {count}, written {count}, scored {count // 100}," in summary, summary
        print(f"{count} records: peak RSS {peaks[count] / 2**20:.0f} MiB; {summary}")
    assert peaks[LARGE] <= peaks[SMALL] + GROWTH, peaks


# --------------------------------------------------------------------------- serve


CLIENTS = 10
REQUESTS_PER_CLIENT = 100


@pytest.fixture
def tcp_server(tmp_path, tiny_model):
    # the FASTA is read from a copy: its .fai is built beside it
    fasta = tmp_path / "genome.fa"
    fasta.write_bytes((CORPUS / "genome.fa").read_bytes())
    process = subprocess.Popen(
        [sys.executable, "-m", "spliceannot", "serve", "-R", fasta, "-A", CORPUS / "genes.txt",
         "-m", tiny_model, "--no-cache", "--port", "0"],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env=dict(os.environ, OMP_NUM_THREADS="1"),
    )
    timer = threading.Timer(TIMEOUT, process.kill)
    timer.start()
    ready = json.loads(process.stdout.readline())
    yield process, ready
    timer.cancel()
    if process.poll() is None:
        process.kill()
    process.wait()


def _conversation(port: int, client: int, replies: dict, errors: list) -> None:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as connection:
            stream = connection.makefile("rwb")
            json.loads(stream.readline())  # the ready line
            lines = []
            for i in range(REQUESTS_PER_CLIENT):
                chrom, pos, _, ref, alt = GOOD[i % len(GOOD)].split("\t")[:5]
                if i % 10 == 9:
                    chrom, pos, ref, alt = "chr9", "500", "A", "G"  # unscored: contig not in FASTA
                lines.append(json.dumps({"id": f"{client}-{i}", "chrom": chrom, "pos": int(pos), "ref": ref, "alt": alt}))
            stream.write(("\n".join(lines) + "\n").encode())
            stream.flush()
            for _ in range(REQUESTS_PER_CLIENT):
                reply = json.loads(stream.readline())
                replies[reply["id"]] = reply
    except Exception as error:  # reported by the test
        errors.append(f"client {client}: {error!r}")


def test_serve_answers_a_thousand_concurrent_requests_and_stays_up(tcp_server):
    process, ready = tcp_server
    assert ready["ready"] is True
    port = ready["port"]
    replies: dict = {}
    errors: list = []
    threads = [threading.Thread(target=_conversation, args=(port, c, replies, errors)) for c in range(CLIENTS)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)
    elapsed = time.monotonic() - started
    assert errors == []
    assert len(replies) == CLIENTS * REQUESTS_PER_CLIENT
    scored = [r for r in replies.values() if r.get("scores")]
    unscored = [r for r in replies.values() if r.get("reason") == "contig not in FASTA"]
    assert len(scored) == 900 and len(unscored) == 100
    assert len({r["scores"][0] for r in scored}) == len(GOOD)  # the same variant gets the same answer
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as connection:
        stream = connection.makefile("rwb")
        json.loads(stream.readline())
        stream.write(b'{"op": "health", "id": "h"}\n')
        stream.flush()
        health = json.loads(stream.readline())
    assert health["status"] == "ok" and health["served"] == 1000 and health["errors"] == 0, health
    assert process.poll() is None
    print(f"serve: 1000 requests from {CLIENTS} clients answered in {elapsed:.1f} s")
