"""Every case of ``tests/hostile_cases.py`` gives its documented outcome.

Commands run in-process through click's CliRunner (each under an alarm, so
a hang fails the test instead of stalling the suite); ``serve`` cases go to
one real server process, which must answer every line and stay up.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

import hostile_cases
from hostile_cases import CASES, CORPUS, MARKER, Case, Env

CLI_CASES = [case for case in CASES if case.command != "serve"]
SERVE_CASES = [case for case in CASES if case.command == "serve"]
SECONDS = 120  # a case running longer than this is a hang


def test_the_corpus_has_forty_cases_or_more():
    assert len(CASES) >= 40
    assert len({case.name for case in CASES}) == len(CASES)


def test_the_readme_is_up_to_date():
    assert (CORPUS / "README.md").read_text() == hostile_cases.readme(), (
        "run: python tests/hostile_cases.py --write-readme"
    )


def test_the_committed_corpus_holds_every_file_the_cases_read():
    committed = {p.name for p in CORPUS.iterdir()}
    assert set(hostile_cases.corpus_files()) <= committed


@pytest.fixture
def env(tmp_path, tiny_model) -> Env:
    directory = tmp_path / "corpus"
    shutil.copytree(CORPUS, directory)
    return Env(directory, tiny_model)


def _on_alarm(signum, frame):
    raise TimeoutError(f"no answer after {SECONDS} s: a hang")


def run_cli(args: list[str]):
    from click.testing import CliRunner

    from spliceannot.cli import main

    previous = signal.signal(signal.SIGALRM, _on_alarm)
    signal.alarm(SECONDS)
    try:
        return CliRunner().invoke(main, args)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def data_keys(data: bytes) -> list[tuple[str, ...]]:
    """(CHROM, POS, ID, REF, ALT) of every record of a VCF text (gzip or not); empty fields read as '.'."""
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    keys = []
    for line in data.split(b"\n"):
        line = line.rstrip(b"\r")
        if not line or line.startswith(b"#"):
            continue
        fields = line.decode("utf-8", "replace").split("\t")[:5]
        keys.append(tuple(value or "." for value in fields))
    return keys


def assert_no_output(path: Path) -> None:
    if path.is_dir():
        assert list(path.iterdir()) == [], list(path.iterdir())
    else:
        assert not path.exists()
    parent = path.parent
    while not parent.is_dir():
        parent = parent.parent
    leftovers = [p.name for p in parent.iterdir() if p.name.startswith(f".{path.name}.")]
    assert leftovers == []  # no temporary file beside it


@pytest.mark.parametrize("case", CLI_CASES, ids=[case.name for case in CLI_CASES])
def test_hostile_input(case: Case, env: Env):
    if case.prepare is not None:
        case.prepare(env)
    args = case.build(env)
    with contextlib_suppress_marker():
        result = run_cli(args)
    stderr = result.stderr
    assert "Traceback" not in stderr
    output = env.directory / case.output
    if case.outcome == "error":
        assert result.exit_code == 2, (result.exit_code, stderr, repr(result.exception))
        assert isinstance(result.exception, SystemExit), repr(result.exception)
        lines = stderr.strip().splitlines()
        assert len(lines) == 1, stderr
        assert lines[0].startswith(f"spliceannot {case.command}: error: "), lines[0]
        for text in case.mentions:
            assert text in lines[0], (text, lines[0])
        assert_no_output(output)
        return
    assert result.exit_code == 0, (result.exit_code, stderr, repr(result.exception))
    for text in case.mentions:
        assert text in stderr, (text, stderr)
    if case.outcome == "pass":
        summary = [line for line in stderr.splitlines() if line.startswith("spliceannot annotate: records read")]
        assert len(summary) == 1, stderr
        expected = data_keys((env.directory / case.vcf).read_bytes())
        assert data_keys(output.read_bytes()) == expected  # every record, in order
        assert f"records read {len(expected)}, written {len(expected)}," in summary[0]
    if case.check is not None:
        case.check(env.directory, case.output)


class contextlib_suppress_marker:
    """Asserts that the crafted pickle's command never ran."""

    def __enter__(self):
        if os.path.exists(MARKER):
            os.unlink(MARKER)

    def __exit__(self, *exc):
        assert not os.path.exists(MARKER), "a pickled command ran"
        return False


# --------------------------------------------------------------------------- serve


@pytest.fixture(scope="module")
def server(tiny_model, tmp_path_factory):
    directory = tmp_path_factory.mktemp("serve-corpus") / "corpus"
    shutil.copytree(CORPUS, directory)
    env = dict(os.environ, OMP_NUM_THREADS="1")
    process = subprocess.Popen(
        [sys.executable, "-m", "spliceannot", "serve", "-R", directory / "genome.fa", "-A",
         directory / "genes.txt", "-m", tiny_model, "--no-cache"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
    )
    timer = threading.Timer(SECONDS * 2, process.kill)  # a hang ends the server, and the tests
    timer.start()
    ready = json.loads(process.stdout.readline())
    assert ready["ready"] is True
    yield process
    timer.cancel()
    if process.poll() is None:
        process.kill()
    process.wait()


@pytest.mark.parametrize("case", SERVE_CASES, ids=[case.name for case in SERVE_CASES])
def test_hostile_request(case: Case, server, tiny_model):
    line = case.build(Env(Path("."), tiny_model))
    server.stdin.write(line + b"\n" + b'{"id": "after", "op": "health"}\n')
    server.stdin.flush()
    reply = json.loads(server.stdout.readline())
    health = json.loads(server.stdout.readline())
    assert health["id"] == "after" and health["status"] == "ok", health
    for text in case.mentions:
        assert text in json.dumps(reply), (text, reply)
    assert "\n" not in reply.get("error", "")
    assert server.poll() is None


# --------------------------------------------------------------------------- standard input


@pytest.mark.parametrize("name", ["empty.vcf", "garbage.vcf", "truncated.vcf.gz"])
def test_bad_input_on_stdin_is_one_line_and_exit_2(env, name):
    """htslib reads ``-I -`` itself, so these run as real processes."""
    out = env.directory / "out.vcf"
    args = env.annotate(vcf="x")
    args[args.index("-I") + 1] = "-"
    with open(env.directory / name, "rb") as stdin:
        done = subprocess.run(
            [sys.executable, "-m", "spliceannot", *args], stdin=stdin, capture_output=True,
            text=True, timeout=SECONDS, env=dict(os.environ, OMP_NUM_THREADS="1"),
        )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("spliceannot annotate: error: <stdin>: "), line
    assert_no_output(out)
