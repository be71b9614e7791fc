"""Hostile requests to ``serve --http``: a clear 4xx each, the server keeps serving, nothing is
written outside the cache directory."""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import urllib.parse

import pytest
from test_lookup_http import TAGGED, HttpServer
from toy import FASTA


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    return tmp_path_factory.mktemp("sandbox")


@pytest.fixture(scope="module")
def server(tiny_model, sandbox):
    cache = sandbox / "cache"
    before = {"HOME": os.environ.get("HOME"), "SPLICEANNOT_CACHE": os.environ.get("SPLICEANNOT_CACHE")}
    os.environ.update(HOME=str(sandbox / "home"), SPLICEANNOT_CACHE=str(cache))
    try:
        running = HttpServer("--genome", f"38={FASTA},{TAGGED}", "-m", tiny_model, "--max-body", "65536")
    finally:
        for key, value in before.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    yield running
    running.stop()


def raw_request(server, text: bytes, timeout: float = 30) -> str:
    host, port = server.ready["host"], server.ready["port"]
    with socket.create_connection((host, port), timeout=timeout) as connection:
        connection.sendall(text)
        chunks = []
        while True:
            chunk = connection.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks).decode("latin-1")


@pytest.mark.parametrize(
    "variant",
    ["", "16", "16-x-A-G", "16-1-A", "16-1-A-G-T", "16-1-<DEL>-A", "chr16-99999999999-A-G", "\x00\x01",
     "16-1-" + "A" * 5000 + "-G", "NM_018032:c.", "NM_018032:c.1_2ins", "NM_018032.5:c.999999A>G",
     "'; DROP TABLE scores; --", "<script>alert(1)</script>"],
)  # fmt: skip
def test_malformed_variants_are_clear_400s(server, variant):
    status, reply = server.get("/spliceai/", hg="38", variant=variant)
    assert status == 400 and reply["source"] == "spliceai" and reply["error"]
    status, reply = server.get("/api/lookup", variant=variant)
    assert status == 400 and reply["error"] and "Traceback" not in reply["error"]


@pytest.mark.parametrize("distance", ["5000", "99999999999999999999", "1e9", "-5", "NaN"])
def test_huge_or_odd_distances_are_refused(server, distance):
    assert server.get("/spliceai/", hg="38", variant="16-189969-T-A", distance=distance)[0] == 400
    assert server.get("/api/lookup", variant="16-189969-T-A", distance=distance)[0] == 400


def test_unknown_genome_and_models(server):
    assert server.get("/spliceai/", hg="../38", variant="16-189969-T-A")[0] == 400
    assert server.get("/api/lookup", genome="hg99", variant="16-189969-T-A")[0] == 400
    assert server.get("/api/lookup", models="spliceai,evil", variant="16-189969-T-A")[0] == 400


def test_one_megabyte_bodies_are_413(server):
    body = json.dumps({"hg": "38", "variant": "16-189969-T-A", "pad": "x" * (1 << 20)}).encode()
    status, reply = server.post("/spliceai/", body)
    assert status == 413 and reply["error"]
    status, _ = server.post("/api/lookup", b"{" * (1 << 20))
    assert status == 413
    status, reply = server.post("/api/lookup", b"[" * 20000 + b"]" * 20000)  # under the limit, nested deep
    assert status == 400


@pytest.mark.parametrize(
    "path",
    ["/static/../../setup.py", "/static/%2e%2e/%2e%2e/setup.py", "/static/..%2f..%2fREADME.md",
     "/static//etc/passwd", "/static/app.js%00.html", "/..%2f..%2fetc/passwd", "/static/.%2e/page.py"],
)  # fmt: skip
def test_path_traversal_in_static_urls_finds_nothing(server, path):
    response = raw_request(server, f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    status = int(response.split(" ", 2)[1])
    assert 400 <= status < 500
    assert "root:" not in response and "setuptools" not in response and "import" not in response


def test_bad_http_is_answered_and_slow_clients_do_not_block_others(server):
    assert raw_request(server, b"NONSENSE\r\n\r\n").startswith("HTTP/1.")
    stalled = []
    for _ in range(5):  # connections that send half a request line and then wait
        connection = socket.create_connection((server.ready["host"], server.ready["port"]))
        connection.sendall(b"GET /spliceai/?hg=38&variant=16-1899")
        stalled.append(connection)
    slow_body = socket.create_connection((server.ready["host"], server.ready["port"]))
    slow_body.sendall(b"POST /api/lookup HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                      b"Content-Length: 1000\r\n\r\n{\"variant\": ")  # fmt: skip

    def dribble():
        for byte in b'"16-189969-T-A"':
            time.sleep(0.05)
            try:
                slow_body.sendall(bytes([byte]))
            except OSError:
                return

    threading.Thread(target=dribble, daemon=True).start()
    started = time.monotonic()
    status, reply = server.get("/spliceai/", hg="38", variant="16-189969-T-A", distance="20")
    assert status == 200 and reply["scores"]
    assert time.monotonic() - started < 30
    for connection in [*stalled, slow_body]:
        connection.close()
    assert server.get("/health")[0] == 200


def test_nothing_is_written_outside_the_cache(server, sandbox):
    server.get("/spliceai/", hg="38", variant=urllib.parse.quote("16-189969-T-A"))
    written = [path.relative_to(sandbox) for path in sandbox.rglob("*") if path.is_file()]
    assert written and all(path.parts[0] == "cache" for path in written), written
    assert server.get("/health")[1]["status"] == "ok"
    assert server.process.poll() is None


def test_server_still_scores_like_before(server):
    status, reply = server.get("/api/lookup", variant="16-189969-T-A")
    assert status == 200 and reply["reason"] is None
    # the same request twice gives the same answer after all the abuse above
    assert server.get("/api/lookup", variant="16-189969-T-A")[1] == reply
