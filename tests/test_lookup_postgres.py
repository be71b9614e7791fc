"""The PostgreSQL score cache: a real server (Debian's postgresql, a temporary data directory)
shared by two lookup servers, with the keys the SQLite cache uses."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from test_lookup_http import TAGGED, HttpServer, _env
from toy import FASTA, vcf_text

psycopg = pytest.importorskip("psycopg")
BINARIES = sorted(glob.glob("/usr/lib/postgresql/*/bin"))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _as_owner(command: list[str]) -> list[str]:
    """initdb and postgres refuse to run as root: run them as the postgres account then."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@pytest.fixture(scope="module")
def postgres_url():
    if not BINARIES:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not installed (scripts/test.sh installs it)")
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
    binaries = Path(BINARIES[-1])
    directory = Path(tempfile.mkdtemp(prefix="spliceannot-pg-"))
    data, sockets = directory / "data", directory / "sockets"
    sockets.mkdir()
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres")
        shutil.chown(sockets, "postgres")
    port = _free_port()
    run = lambda *command: subprocess.run(_as_owner([str(c) for c in command]), check=True,
                                          capture_output=True, text=True)  # fmt: skip
    run(binaries / "initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8")
    run(binaries / "pg_ctl", "-D", data, "-l", directory / "log", "-w", "-t", "60", "start", "-o",
        f"-p {port} -k {sockets} -c listen_addresses=''")  # fmt: skip
    try:
        yield f"postgresql://postgres@/postgres?host={sockets}&port={port}"
    finally:
        run(binaries / "pg_ctl", "-D", data, "-m", "fast", "-w", "stop")
        shutil.rmtree(directory, ignore_errors=True)


def test_two_servers_share_the_cache_with_sqlites_keys(tiny_model, postgres_url, tmp_path):
    args = ["--genome", f"38={FASTA},{TAGGED}", "-m", tiny_model, "--cache", postgres_url]
    first = HttpServer(*args)
    second = HttpServer(*args)
    try:
        variant = "chr16-235000-C-T"
        status, computed = first.get("/api/lookup", variant=variant)
        assert status == 200 and computed["source"] == "computed"
        assert first.get("/health")[1]["cache"]["38/spliceai"]["hits"] == 0
        status, shared = second.get("/api/lookup", variant=variant)
        assert status == 200 and shared["source"] == "cache"
        assert shared["scores"] == computed["scores"]
        counts = second.get("/health")[1]["cache"]["38/spliceai"]
        assert counts == {"hits": len(computed["scores"]), "misses": 0}
        other = second.get("/api/lookup", variant=variant, distance="80")[1]  # another -D: its own context
        assert other["source"] == "computed"
    finally:
        first.stop()
        second.stop()
    with psycopg.connect(postgres_url) as connection:
        stored = set(connection.execute("SELECT context, variant, transcript FROM scores").fetchall())
    sqlite_path = tmp_path / "scores.sqlite"
    (tmp_path / "in.vcf").write_text(vcf_text([("chr16", 235000, "v", "C", "T")]))
    subprocess.run(
        [sys.executable, "-m", "spliceannot", "annotate", "-I", tmp_path / "in.vcf", "-O", tmp_path / "out.vcf",
         "-R", FASTA, "-A", TAGGED, "--transcripts", "all", "-m", tiny_model, "--cache", sqlite_path],
        check=True, env=_env(), capture_output=True,
    )  # fmt: skip
    with sqlite3.connect(sqlite_path) as connection:
        keys = set(connection.execute("SELECT context, variant, transcript FROM scores").fetchall())
    assert keys and keys <= stored  # annotate's -D 50 keys are the lookup's (which also holds -D 80)


def test_an_unreachable_database_is_a_one_line_start_error(tiny_model, tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "spliceannot", "serve", "--http", "0", "--genome", f"38={FASTA},{TAGGED}",
         "-m", tiny_model, "--cache", f"postgresql://nobody@/none?host={tmp_path}&port=1"],
        capture_output=True, text=True, env=_env(), timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "cannot use as a score cache" in result.stderr
