"""``spliceannot serve`` as a real subprocess, checked against ``spliceannot annotate``.

Servers load the tiny seeded model, the example FASTA and SpliceAI's grch38
table; the ones a test needs are started together, so their start-up
overlaps.  The example of docs/serve.md runs as written, with the real
weights (marked slow).
"""

from __future__ import annotations

import hashlib
import json
import os
import queue
import resource
import select
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from toy import FASTA, example_lines, spliceai_by_id, write_subset

from spliceannot import __version__
from spliceannot.outcome import NO_CONTIG, NO_GENE, REF_MISMATCH, REF_TOO_LONG

TIMEOUT = 90  # seconds to wait for a line (start-up includes importing torch)
# Records with something special: multi-ALT (v7, v22), MNVs (v5, v26), unscored (v1, v34,
# v181, v194, v215, v224, v247, v250), the 120 bp deletion (v116, scored at -D 500 only).
SPECIAL = [
    "v5",
    "v7",
    "v22",
    "v26",
    "v1",
    "v34",
    "v116",
    "v181",
    "v194",
    "v215",
    "v224",
    "v247",
    "v250",
]


def _env() -> dict:
    env = dict(os.environ)
    env["OMP_NUM_THREADS"] = "1"
    return env


class Server:
    """A ``spliceannot serve`` subprocess; its stdout lines arrive on a queue."""

    def __init__(self, *args, stdin: bool = True) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "spliceannot", "serve", *map(str, args)],
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=_env(),
        )
        self.lines: queue.Queue = queue.Queue()
        self.stderr_lines: list[str] = []  # what the server wrote on stderr so far
        threading.Thread(target=self._pump, daemon=True).start()
        threading.Thread(target=self._pump_stderr, daemon=True).start()

    @property
    def stderr(self) -> str:
        return "".join(self.stderr_lines)

    def _pump(self) -> None:
        for line in self.process.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def _pump_stderr(self) -> None:
        for line in self.process.stderr:
            self.stderr_lines.append(line.decode())

    def send(self, *lines) -> None:
        for line in lines:
            data = (
                line
                if isinstance(line, bytes)
                else (line if isinstance(line, str) else json.dumps(line)).encode()
            )
            self.process.stdin.write(data + b"\n")
        self.process.stdin.flush()

    def read(self, count: int = 1) -> list[dict]:
        replies = []
        for _ in range(count):
            line = self.lines.get(timeout=TIMEOUT)
            assert line is not None, f"the server ended early; stderr: {self.stderr}"
            replies.append(json.loads(line))
        return replies

    def ask(self, *requests) -> list[dict]:
        self.send(*requests)
        return self.read(len(requests))

    def wait(self) -> int:
        code = self.process.wait(timeout=TIMEOUT)
        time.sleep(0.05)  # let the stderr pump finish
        return code

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


class Client:
    """One connection to a Unix-socket or TCP server."""

    def __init__(self, address) -> None:
        family = socket.AF_UNIX if isinstance(address, str) else socket.AF_INET
        self.socket = socket.socket(family, socket.SOCK_STREAM)
        self.socket.settimeout(TIMEOUT)
        self.socket.connect(address)
        self.file = self.socket.makefile("rwb")

    def send(self, *requests) -> None:
        self.file.write(b"".join((json.dumps(r) + "\n").encode() for r in requests))
        self.file.flush()

    def read(self, count: int = 1) -> list[dict]:
        return [json.loads(self.file.readline()) for _ in range(count)]

    def close(self) -> None:
        self.file.close()
        self.socket.close()


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def serve_args(tiny_model) -> list:
    return ["-R", FASTA, "-A", "grch38", "-m", tiny_model]


@pytest.fixture(scope="module")
def servers(serve_args, tmp_path_factory):
    """Every server of this module, started at once: stdio, Unix socket and TCP."""
    where = tmp_path_factory.mktemp("sockets")
    started = {
        "stdio": Server(*serve_args, "--no-cache"),
        "unix": Server(*serve_args, "--no-cache", "--socket", where / "serve.sock"),
        "tcp": Server(
            *serve_args, "--cache", where / "scores.sqlite", "--port", 0, "--max-wait-ms", 50
        ),
        "few-scorers": Server(*serve_args, "--no-cache", "--max-scorers", 2),
        "capped": Server(
            *serve_args, "--no-cache", "--socket", where / "capped.sock", "--max-connections", 2
        ),
        "fd-limit": Server(*serve_args, "--no-cache", "--port", 0, stdin=False),
    }
    yield started
    for server in started.values():
        server.kill()


@pytest.fixture(scope="module")
def stdio(servers) -> Server:
    server = servers["stdio"]
    server.ready = server.read()[0]
    return server


def requests_for(ids, **extra) -> list[dict]:
    """Requests for the example records with these IDs, with their ID as request id."""
    _, data = example_lines()
    wanted = set(ids)
    requests = []
    for line in data:
        chrom, pos, ident, ref, alt = line.split("\t")[:5]
        if ident in wanted:
            requests.append(
                {
                    "id": ident,
                    "chrom": chrom,
                    "pos": int(pos),
                    "ref": ref,
                    "alt": alt.split(","),
                    **extra,
                }
            )
    return requests


@pytest.fixture(scope="module")
def chosen_ids() -> list[str]:
    _, data = example_lines()
    ids = [line.split("\t")[2] for line in data[:40]]
    return ids + [i for i in SPECIAL if i not in ids]


def annotate_info(tiny_model, tmp_path, ids, *options) -> dict:
    """ID -> SpliceAI INFO value written by ``spliceannot annotate`` with the same inputs."""
    from click.testing import CliRunner

    from spliceannot.cli import main

    subset = write_subset(tmp_path / "subset.vcf", ids)
    args = ["annotate", "-I", subset, "-R", FASTA, "-A", "grch38", "-m", tiny_model, *options]
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == 0, result.stderr + repr(result.exception)
    return spliceai_by_id(result.stdout)


@pytest.fixture(scope="module")
def expected(tiny_model, tmp_path_factory, chosen_ids) -> dict:
    return annotate_info(tiny_model, tmp_path_factory.mktemp("annotate"), chosen_ids)


def assert_matches(replies, requests, expected) -> None:
    assert [r["id"] for r in replies] == [q["id"] for q in requests]
    for reply in replies:
        info = expected[reply["id"]]
        if info is None:
            assert reply["scores"] == [] and isinstance(reply["reason"], str), reply
        else:
            assert reply == {"id": reply["id"], "scores": info.split(","), "reason": None}


# --------------------------------------------------------------------------- stdio


def test_ready_line_names_the_model_and_settings(stdio, tiny_model):
    assert stdio.ready == {
        "ready": True,
        "version": __version__,
        "model": str(tiny_model),
        "model_digest": hashlib.sha256(Path(tiny_model).read_bytes()).hexdigest(),
        "annotation": "grch38",
        "distance": 50,
        "mask": 0,
    }


def test_scores_equal_annotate_in_order_and_in_few_batches(stdio, chosen_ids, expected):
    before = stdio.ask({"op": "health"})[0]
    requests = requests_for(chosen_ids)
    replies = stdio.ask(*requests)  # written at once: they arrive together
    after = stdio.ask({"op": "health"})[0]
    assert_matches(replies, requests, expected)
    assert sum(r["scores"] != [] for r in replies) > 30
    assert after["served"] - before["served"] == len(requests)
    assert after["batches"] - before["batches"] <= 3 < len(requests)


def test_one_request_at_a_time_gives_the_same_scores(stdio, expected):
    for request in requests_for(["v3", "v7", "v22"]):
        assert_matches(stdio.ask(request), [request], expected)


def test_unscored_variants_come_with_annotates_reason(stdio):
    requests = requests_for(["v1", "v250", "v116"]) + [
        {"id": "mismatch", "chrom": "chr16", "pos": 189969, "ref": "G", "alt": "A"},
    ]
    reasons = {r["id"]: r["reason"] for r in stdio.ask(*requests)}
    assert reasons == {
        "v1": NO_GENE,
        "v250": NO_CONTIG,
        "v116": REF_TOO_LONG,
        "mismatch": REF_MISMATCH,
    }


def test_ids_of_any_json_type_are_echoed_and_chrom_may_lack_chr(stdio, expected):
    base = {"chrom": "16", "pos": 189969, "ref": "T", "alt": "A"}  # v3, written without "chr"
    ids = [0, -3.5, "x y", None, [1, {"a": 2}], {"nested": ["id"]}, True]
    replies = stdio.ask(*({**base, "id": ident} for ident in ids))
    assert [r["id"] for r in replies] == ids
    assert all(r["scores"] == expected["v3"].split(",") for r in replies)
    assert stdio.ask({k: v for k, v in base.items()})[0]["id"] is None  # no id: null


BAD = [
    (b"this is not json", None, "not valid JSON"),
    (b"[1, 2]", None, "not a JSON object"),
    (b'{"id": 1, "chrom": "16", "pos": 189969, "ref": "T"}', 1, "missing field: alt"),
    (b'{"id": 2, "pos": 189969}', 2, "missing fields: chrom, ref, alt"),
    (b'{"id": 3, "chrom": "16", "pos": "189969", "ref": "T", "alt": "A"}', 3, "pos"),
    (b'{"id": 4, "chrom": "16", "pos": 1.5, "ref": "T", "alt": "A"}', 4, "pos"),
    (b'{"id": 5, "chrom": "16", "pos": 0, "ref": "T", "alt": "A"}', 5, "pos"),
    (b'{"id": 6, "chrom": "16", "pos": 189969, "ref": "", "alt": "A"}', 6, "ref"),
    (b'{"id": 7, "chrom": "16", "pos": 189969, "ref": "T", "alt": []}', 7, "alt"),
    (b'{"id": 8, "chrom": "16", "pos": 189969, "ref": "T", "alt": 5}', 8, "alt"),
    (b'{"id": 9, "chrom": "", "pos": 189969, "ref": "T", "alt": "A"}', 9, "chrom"),
    (
        b'{"id": 10, "chrom": "16", "pos": 189969, "ref": "T", "alt": "A", "distance": 5000}',
        10,
        "distance",
    ),
    (b'{"id": 11, "chrom": "16", "pos": 189969, "ref": "T", "alt": "A", "mask": 2}', 11, "mask"),
    (b'{"id": 12, "op": "dance"}', 12, "op"),
    (b'{"id": NaN, "chrom": "16", "pos": 189969, "ref": "T", "alt": "A"}', None, "NaN"),
    (b'{"id": "\xff\xfe", "chrom": "16"}', None, "not valid JSON"),
]


def test_bad_requests_get_one_line_errors_and_the_server_goes_on(stdio, expected):
    good = requests_for(["v3"])[0]
    stdio.send(*(line for line, _, _ in BAD), good)
    replies = stdio.read(len(BAD) + 1)
    for (line, ident, words), reply in zip(BAD, replies):
        assert set(reply) == {"id", "error"}, (line, reply)
        assert reply["id"] == ident and words in reply["error"] and "\n" not in reply["error"], (
            line,
            reply,
        )
    assert_matches(replies[-1:], [good], expected)
    assert stdio.process.poll() is None


@pytest.fixture(scope="module")
def wide(tiny_model, tmp_path_factory, chosen_ids) -> dict:
    """annotate's INFO values with -D 500 -M 1 for a few records."""
    ids = chosen_ids[:12] + ["v116", "v22"]
    info = annotate_info(tiny_model, tmp_path_factory.mktemp("wide"), ids, "-D", 500, "-M", 1)
    assert info["v116"] is not None  # scored at -D 500, too long at -D 50
    return info


def test_distance_and_mask_per_request_equal_annotate_with_those_flags(stdio, wide, expected):
    requests = requests_for(wide, distance=500, mask=1) + requests_for(["v3"])
    replies = stdio.ask(*requests)
    assert_matches(replies[:-1], requests[:-1], wide)
    assert_matches(replies[-1:], requests[-1:], expected)
    health = stdio.ask({"op": "health", "id": "h"})[0]
    assert health["id"] == "h" and [500, 1] in health["scorers"] and [50, 0] in health["scorers"]


def test_scorers_for_other_distances_stay_bounded_and_score_alike_when_made_again(
    servers, wide, expected
):
    server = servers["few-scorers"]  # --max-scorers 2
    assert server.read()[0]["ready"] is True
    asked = [(d, m) for d in (0, 3, 8, 14, 20, 1000) for m in (0, 1)]

    def ask_each() -> list[list[dict]]:
        return [server.ask(*requests_for(["v3", "v22"], distance=d, mask=m)) for d, m in asked]

    first = ask_each()
    assert len({json.dumps(replies) for replies in first}) >= 6  # -D/-M change the scores
    health = server.ask({"op": "health"})[0]
    assert health["scorers"] == [[50, 0], [1000, 0], [1000, 1]]  # the two last, and the server's
    assert ask_each() == first  # every one dropped and made again: the same scores
    requests = requests_for(wide, distance=500, mask=1) + requests_for(["v3", "v7"])
    replies = server.ask(*requests)
    assert_matches(replies[:-2], requests[:-2], wide)
    assert_matches(replies[-2:], requests[-2:], expected)
    health = server.ask({"op": "health"})[0]
    assert health["scorers"] == [[50, 0], [500, 1], [1000, 1]]
    assert health["errors"] == 0 and server.process.poll() is None


def test_health_counts_answers(stdio):
    first = stdio.ask({"op": "health"})[0]
    stdio.ask(*requests_for(["v3", "v1"]), b"junk")
    second = stdio.ask({"op": "health"})[0]
    assert first["op"] == second["op"] == "health" and second["status"] == "ok"
    assert second["served"] - first["served"] == 3
    assert second["errors"] - first["errors"] == 1
    assert second["unscored"] - first["unscored"] == 1


def test_end_of_input_answers_everything_then_exits_0(serve_args, expected):
    requests = requests_for(["v3", "v7", "v1"])
    lines = "".join(json.dumps(r) + "\n" for r in requests) + "\n"  # a blank line is skipped
    done = subprocess.run(
        [sys.executable, "-m", "spliceannot", "serve", *map(str, serve_args), "--no-cache"],
        input=lines.encode(),
        capture_output=True,
        env=_env(),
        timeout=TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()
    replies = [json.loads(line) for line in done.stdout.splitlines()]
    assert replies[0]["ready"] is True
    assert_matches(replies[1:], requests, expected)
    assert done.stderr == b""


def test_shutdown_answers_what_came_before_and_exits_0(stdio, expected):
    # the last test of the stdio server: it ends it
    request = requests_for(["v3"])[0]
    stdio.send(request, {"op": "shutdown"}, {**request, "id": "after"})
    replies = stdio.read(2)
    assert_matches(replies[:1], [request], expected)
    assert replies[1] == {"op": "shutdown", "status": "bye"}
    assert stdio.wait() == 0
    assert stdio.lines.get(timeout=TIMEOUT) is None  # nothing after "bye"
    assert "Traceback" not in stdio.stderr


# --------------------------------------------------------------------------- sockets


def test_unix_socket_serves_each_connection_and_leaves_stdin_alone(servers, expected):
    server = servers["unix"]
    ready = server.read()[0]
    assert ready["ready"] is True and Path(ready["socket"]).is_socket()
    server.send({"id": "stdin", "op": "health"})  # stdin is not read in socket mode
    first, second = Client(ready["socket"]), Client(ready["socket"])
    assert first.read()[0] == ready == second.read()[0]
    one, two = requests_for(["v3", "v7"]), requests_for(["v22", "v1"])
    first.send(*one)
    second.send(*two)
    assert_matches(second.read(2), two, expected)
    assert_matches(first.read(2), one, expected)
    first.send({"op": "health"})
    assert first.read()[0]["connections"] == 2
    first.close()
    second.close()
    with pytest.raises(queue.Empty):
        server.lines.get(timeout=0.2)


def test_sigterm_stops_the_socket_server_cleanly(servers):
    server = servers["unix"]
    path = Path(server.process.args[server.process.args.index("--socket") + 1])
    client = Client(str(path))
    client.read()
    server.process.send_signal(signal.SIGTERM)
    assert server.wait() == 0
    assert not path.exists()
    assert "Traceback" not in server.stderr
    assert client.file.readline() == b""  # the connection was closed
    client.close()


def test_tcp_port_cache_and_shutdown_from_a_connection(servers, expected, wide):
    server = servers["tcp"]
    ready = server.read()[0]
    address = ("127.0.0.1", ready["port"])
    first, second = Client(address), Client(address)
    first.read(), second.read()
    requests = requests_for(["v3", "v22"]) + requests_for(wide, distance=500, mask=1)
    health = []
    for _ in range(2):  # computed, then read from the cache
        first.send(*requests, {"op": "health"})
        replies = first.read(len(requests) + 1)
        assert_matches(replies[:2], requests[:2], expected)
        assert_matches(replies[2:-1], requests[2:], wide)
        health.append(replies[-1])
    assert health[0]["cache_hits"] == 0 and health[0]["cache_misses"] > 10
    assert health[1]["cache_hits"] == health[0]["cache_misses"]
    assert health[1]["cache_misses"] == health[0]["cache_misses"]
    cache = Path(server.process.args[server.process.args.index("--cache") + 1])
    with sqlite3.connect(cache) as db:
        contexts = db.execute("SELECT count(DISTINCT context) FROM scores").fetchone()[0]
    assert contexts == 2  # -D 50 -M 0 and -D 500 -M 1
    second.send({"op": "shutdown", "id": 9})
    assert second.read()[0] == {"op": "shutdown", "id": 9, "status": "bye"}
    assert server.wait() == 0
    assert first.file.readline() == b""
    first.close()
    second.close()


def test_a_connection_beyond_max_connections_gets_one_error_line(servers, expected):
    server = servers["capped"]  # --max-connections 2
    ready = server.read()[0]
    path = ready["socket"]
    first, second = Client(path), Client(path)
    assert first.read()[0] == ready == second.read()[0]
    third = Client(path)
    assert json.loads(third.file.readline()) == {
        "ready": False,
        "error": "too many connections (2 open); try again later",
    }
    assert third.file.readline() == b""  # and closed
    third.close()
    first.send({"op": "health"})
    assert first.read()[0]["connections"] == 2
    second.close()
    deadline = time.monotonic() + TIMEOUT
    while True:  # until the server has seen the connection end
        first.send({"op": "health"})
        if first.read()[0]["connections"] == 1 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    fourth = Client(path)
    assert fourth.read()[0] == ready
    requests = requests_for(["v3"])
    fourth.send(*requests)
    assert_matches(fourth.read(), requests, expected)
    first.close()
    fourth.close()
    assert server.process.poll() is None


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="reads /proc/PID/fd")
def test_running_out_of_descriptors_pauses_accepting_until_one_is_free(servers, expected):
    server = servers["fd-limit"]
    ready = server.read()[0]
    address = ("127.0.0.1", ready["port"])
    requests = requests_for(["v3"])
    warm = Client(address)  # the model is loaded (files opened) before descriptors run short
    warm.read()
    warm.send(*requests)
    assert_matches(warm.read(), requests, expected)
    warm.close()
    time.sleep(0.2)  # the server closes its end
    pid = server.process.pid
    held = [int(name) for name in os.listdir(f"/proc/{pid}/fd")]
    _, hard = resource.prlimit(pid, resource.RLIMIT_NOFILE)
    limit = max(held) + 4
    resource.prlimit(pid, resource.RLIMIT_NOFILE, (limit, hard))
    room = limit - len(held)  # connections the server can accept now (>= 3)

    clients = [Client(address) for _ in range(room + 2)]
    served, waiting = clients[:room], clients[room:]
    for client in served:
        assert client.read()[0] == ready
    warning = "out of file descriptors"
    deadline = time.monotonic() + TIMEOUT
    while warning not in server.stderr and time.monotonic() < deadline:
        time.sleep(0.05)
    assert warning in server.stderr, server.stderr
    readable, _, _ = select.select([c.socket for c in waiting], [], [], 0.5)
    assert readable == []  # accepted by no one yet: they wait in the listener's backlog

    for client in served:
        client.close()
    for client in waiting:  # accepted once descriptors are free
        client.socket.settimeout(20)
        assert client.read()[0] == ready
    late = Client(address)
    late.socket.settimeout(20)
    assert late.read()[0] == ready
    late.send(*requests)
    assert_matches(late.read(), requests, expected)
    for client in [*waiting, late]:
        client.close()
    assert server.stderr.count(warning) == 1  # once for the episode
    assert "Traceback" not in server.stderr and server.process.poll() is None


# --------------------------------------------------------------------------- start-up errors


def test_startup_errors_are_one_line_and_exit_2(tiny_model, tmp_path):
    cases = {
        "no-fasta": ["-R", tmp_path / "missing.fa", "-A", "grch38", "-m", tiny_model],
        "bad-annotation": ["-R", FASTA, "-A", "grch99", "-m", tiny_model],
        "bad-model": ["-R", FASTA, "-A", "grch38", "-m", tmp_path / "missing.safetensors"],
    }
    running = {
        name: subprocess.Popen(
            [sys.executable, "-m", "spliceannot", "serve", "--no-cache", *map(str, args)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=_env(),
        )
        for name, args in cases.items()
    }
    named = {
        "no-fasta": "missing.fa",
        "bad-annotation": "grch99",
        "bad-model": "missing.safetensors",
    }
    for name, process in running.items():
        out, err = process.communicate(timeout=TIMEOUT)
        lines = err.decode().splitlines()
        assert process.returncode == 2, (name, err)
        assert (
            out == b"" and len(lines) == 1 and lines[0].startswith("spliceannot serve: error: ")
        ), (name, err)
        assert named[name] in lines[0]


def test_run_raises_start_error_and_leaves_no_socket_file(tiny_model, tmp_path):
    from spliceannot import serve as server
    from spliceannot.factory import ScorerSpec

    socket_path = tmp_path / "s.sock"
    spec = ScorerSpec(
        reference=str(tmp_path / "missing.fa"), annotation="grch38", model=str(tiny_model)
    )
    with pytest.raises(server.StartError, match="missing.fa"):
        server.run(spec, server.Transport(socket_path=str(socket_path)))
    assert not socket_path.exists()


# --------------------------------------------------------------------------- in-process units


class _FakeScorer:
    """Scores every record as one entry naming its position; fails on position 13."""

    def __init__(self, distance=50, mask=False):
        self.distance, self.mask = distance, mask
        # no derive(): other -D/-M cannot be made from this scorer
        self.calls = []

    def score(self, records):
        from spliceannot.outcome import Outcome

        self.calls.append(len(records))
        if any(r.pos == 13 for r in records):
            raise RuntimeError("boom\nsecond line")
        return [
            Outcome(entries=[f"{r.alts[0]}|G{r.pos}|0.00|0.00|0.00|0.00|0|0|0|0"]) for r in records
        ]


def _responder(scorer):
    from spliceannot.serve import Responder, ScorerSet

    return Responder(ScorerSet(scorer), distance=50, mask=False)


def _request(pos, **extra):
    return json.dumps(
        {"id": pos, "chrom": "1", "pos": pos, "ref": "A", "alt": "G", **extra}
    ).encode()


def test_a_failing_variant_gets_an_error_and_its_batch_is_still_answered():
    scorer = _FakeScorer()
    responder = _responder(scorer)
    replies = responder.answer([responder.parse(_request(p)) for p in (11, 13, 15)])
    assert [r.get("scores") for r in replies] == [
        ["G|G11|0.00|0.00|0.00|0.00|0|0|0|0"],
        None,
        ["G|G15|0.00|0.00|0.00|0.00|0|0|0|0"],
    ]
    assert replies[1] == {"id": 13, "error": "internal error while scoring: RuntimeError: boom"}
    assert scorer.calls == [3, 1, 1, 1]
    assert responder.control(responder.parse(b'{"op": "health"}'))["errors"] == 1


def test_an_underivable_distance_is_an_error_reply_not_a_crash():
    responder = _responder(_FakeScorer())
    replies = responder.answer(
        [responder.parse(_request(11, distance=80)), responder.parse(_request(12))]
    )
    assert "not available on this server" in replies[0]["error"] and replies[0]["id"] == 11
    assert replies[1]["scores"] and replies[1]["reason"] is None


def test_batches_end_at_max_batch_and_at_shutdown():
    from spliceannot.serve import Session

    scorer = _FakeScorer()
    responder = _responder(scorer)
    lines = [_request(p) for p in range(20, 27)] + [b"", b'{"op": "shutdown"}', _request(99)]
    chunks = [b"\n".join(lines) + b"\n"]
    written = []
    session = Session(
        lambda: chunks.pop() if chunks else b"",
        written.append,
        responder.parse,
        responder.answer,
        max_wait=0.5,
        max_batch=4,
    )
    assert session.run(first={"ready": True}) == "shutdown"
    replies = [json.loads(line) for chunk in written for line in chunk.splitlines()]
    assert replies[0] == {"ready": True}
    assert [r.get("id") for r in replies[1:-1]] == list(range(20, 27))
    assert replies[-1] == {"op": "shutdown", "status": "bye"}
    assert scorer.calls == [4, 3]  # 4, then 3 + shutdown; the request after shutdown is not read


def test_a_dropped_scorer_closes_its_cache_and_is_made_again_alike(tiny_model, tmp_path):
    from spliceannot.annotate import Record
    from spliceannot.factory import build_scorer
    from spliceannot.pipeline import AnnotateSettings
    from spliceannot.serve import ScorerSet

    settings = AnnotateSettings(
        reference=FASTA, annotation="grch38", model=str(tiny_model), cache=str(tmp_path / "s.db")
    )
    base = build_scorer(settings)
    scorers = ScorerSet(base, model_digest=base.model_digest, max_scorers=1)
    record = Record("chr16", 189969, "T", ("A",))  # v3
    dropped = scorers.get(60, False)
    outcome = dropped.score([record])
    assert outcome[0].entries and scorers.get(60, False) is dropped
    hits, misses = scorers.cache_counts()
    assert misses > 0
    assert scorers.get(70, True) is not dropped
    assert scorers.get(50, False) is base  # the server's own scorer is always kept
    assert scorers.loaded() == [(50, False), (70, True)]
    with pytest.raises(sqlite3.ProgrammingError):  # its cache connection was closed
        dropped.cache.get([("x", "y")])
    assert scorers.cache_counts() == (hits, misses)  # a dropped scorer's counts are kept
    again = scorers.get(60, False)
    assert again is not dropped and again.score([record]) == outcome
    assert scorers.cache_counts()[0] > hits  # found in the cache file under its context
    assert scorers.loaded() == [(50, False), (60, False)]


# --------------------------------------------------------------------------- the documentation


def _doc_example() -> tuple[str, str]:
    """The first console example of docs/serve.md: its command and the output it shows."""
    text = (Path(__file__).resolve().parents[1] / "docs" / "serve.md").read_text()
    block = text.split("```console\n", 1)[1].split("```", 1)[0].splitlines()
    command, end = [], 0
    for end, line in enumerate(block):
        command.append(line[2:] if end == 0 else line)
        if not line.endswith("\\"):
            break
    return "\n".join(command), "".join(line + "\n" for line in block[end + 1 :])


@pytest.mark.slow
def test_the_docs_example_gives_the_reply_it_shows():
    command, shown = _doc_example()
    assert command.startswith("printf ") and "spliceannot serve" in command
    env = _env()
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    done = subprocess.run(
        ["bash", "-c", command],
        cwd=Path(__file__).resolve().parents[1],
        capture_output=True,
        env=env,
        timeout=5 * TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()
    assert done.stdout.decode() == shown
    replies = {json.dumps(json.loads(line)["scores"]) for line in shown.splitlines()[1:-1]}
    doc = (Path(__file__).resolve().parents[1] / "docs" / "serve.md").read_text()
    for line in doc.splitlines():  # every score line elsewhere in the page is one of these
        if line.startswith('{"id"') and '"scores": ["' in line and '"haplotype"' not in line:
            assert json.dumps(json.loads(line)["scores"]) in replies, line
