"""``spliceannot serve --http``: the real server process, its APIs checked against ``annotate``.

One server (tiny seeded model, the example genome, the tagged test GTF with
every transcript) serves the module; its answers are compared with
``spliceannot annotate --transcripts all`` on the same inputs.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from toy import FASTA, spliceai_by_id, vcf_text

TAGGED = Path(__file__).parent / "data" / "lookup" / "chr16_tagged.gtf"
VARIANTS = [  # (id, chrom, pos, ref, alt): SNVs, an insertion, a deletion, in genes on both strands
    ("a", "chr16", 189969, "T", "A"),
    ("b", "chr16", 191347, "G", "C"),
    ("c", "chr16", 235000, "C", "T"),
    ("d", "chr16", 193603, "T", "TCG"),
    ("e", "chr16", 270000, "A", "G"),
    ("f", "chr16", 284000, "G", "A"),
    ("g", "chr16", 300000, "G", "C"),
]


def _env() -> dict:
    return {**os.environ, "OMP_NUM_THREADS": "1"}


class HttpServer:
    """A ``spliceannot serve --http 0`` process; ``url`` once its ready line arrived."""

    def __init__(self, *args, timeout: float = 120) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "spliceannot", "serve", "--http", "0", *map(str, args)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(),
        )  # fmt: skip
        self.stderr_lines: list[str] = []
        threading.Thread(target=self._pump, daemon=True).start()
        line = self._readline(timeout)
        if not line:
            self.process.kill()
            raise AssertionError(f"no ready line; stderr: {''.join(self.stderr_lines)[-2000:]}")
        self.ready = json.loads(line)
        self.url = self.ready["http"].rstrip("/")

    def _readline(self, timeout: float) -> str:
        result: list[str] = []
        reader = threading.Thread(target=lambda: result.append(self.process.stdout.readline()), daemon=True)
        reader.start()
        reader.join(timeout)
        return result[0] if result else ""

    def _pump(self) -> None:
        for line in self.process.stderr:
            self.stderr_lines.append(line)

    def get(self, path: str, **params) -> tuple[int, dict | bytes]:
        query = ("?" + urllib.parse.urlencode(params)) if params else ""
        return _fetch(urllib.request.Request(self.url + path + query))

    def post(self, path: str, body: bytes, kind: str = "application/json") -> tuple[int, dict | bytes]:
        return _fetch(urllib.request.Request(self.url + path, data=body, headers={"Content-Type": kind}))

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(30)


def _fetch(request) -> tuple[int, dict | bytes]:
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            status, body, kind = response.status, response.read(), response.headers.get_content_type()
    except urllib.error.HTTPError as error:
        status, body, kind = error.code, error.read(), error.headers.get_content_type()
    return status, json.loads(body) if kind == "application/json" else body


@pytest.fixture(scope="module")
def server(tiny_model, tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache") / "scores.sqlite"
    running = HttpServer("--genome", f"38={FASTA},{TAGGED}", "-m", tiny_model, "--cache", cache)
    yield running
    if running.process.poll() is None:
        running.stop()


@pytest.fixture(scope="module")
def annotated(tiny_model, tmp_path_factory) -> dict:
    """``annotate``'s INFO/SpliceAI per variant id at -D 50 and -D 500 -M 1, every transcript."""
    directory = tmp_path_factory.mktemp("annotate")
    path = directory / "in.vcf"
    path.write_text(vcf_text([(c, p, i, r, a) for i, c, p, r, a in VARIANTS]))
    found = {}
    for key, extra in (("d50", []), ("d500m1", ["-D", "500", "-M", "1"])):
        out = directory / f"{key}.vcf"
        subprocess.run(
            [sys.executable, "-m", "spliceannot", "annotate", "-I", path, "-O", out, "-R", FASTA, "-A", TAGGED,
             "--transcripts", "all", "-m", tiny_model, "--no-cache", *extra],
            check=True, env=_env(), capture_output=True,
        )  # fmt: skip
        found[key] = spliceai_by_id(out.read_text())
    return found


def _dash(variant) -> str:
    _, chrom, pos, ref, alt = variant
    return f"{chrom}-{pos}-{ref}-{alt}"


def test_spliceai_lookup_api_answers_annotates_scores_in_its_shape(server, annotated):
    for variant in VARIANTS:
        status, reply = server.get("/spliceai/", hg="38", variant=_dash(variant), distance="50", mask="0", bc="basic")
        assert status == 200, reply
        expected = annotated["d50"][variant[0]].split(",")
        for key in ("variant", "hg", "bc", "genomeVersion", "chrom", "pos", "ref", "alt", "distance", "mask",
                    "scores", "source", "allNonZeroScores", "allNonZeroScoresStrand", "allNonZeroScoresTranscriptId"):
            assert key in reply, key
        assert (reply["variant"], reply["distance"], reply["mask"], reply["pos"]) == (_dash(variant), 50, 0, variant[2])
        assert len(reply["scores"]) == len(expected)
        for entry, text in zip(reply["scores"], expected):
            fields = text.split("|")
            assert [entry[f"DS_{k}"] for k in ("AG", "AL", "DG", "DL")] == fields[2:6]
            assert [str(entry[f"DP_{k}"]) for k in ("AG", "AL", "DG", "DL")] == fields[6:10]
            assert entry["g_name"] == fields[1]
            assert entry["t_id"].startswith("N") and entry["t_priority"] in ("MS", "C", "N")
            assert isinstance(entry["nNonZeroScores"], int)
        chosen = reply["allNonZeroScoresTranscriptId"]
        priorities = {e["t_id"]: e["t_priority"] for e in reply["scores"]}
        assert priorities[chosen] == max(priorities.values(), key={"MS": 3, "C": 1, "N": 0}.get)
        for row in reply["allNonZeroScores"]:
            assert set(row) == {"pos", "RA", "AA", "RD", "AD"}


def test_per_transcript_scores_endpoint_gives_one_transcripts_rows(server):
    variant = _dash(VARIANTS[0])
    status, reply = server.get("/spliceai/", hg="38", variant=variant, distance="50", mask="0")
    assert status == 200, reply
    for entry in reply["scores"]:
        t_id = entry["t_id"]
        status, rows = server.get("/spliceai/scores/", hg="38", variant=variant, distance="50", mask="0",
                                  transcript=t_id.split(".")[0])  # the version may be left out
        assert status == 200, rows
        assert rows["transcript"] == t_id and rows["strand"] == entry["t_strand"]
        assert len(rows["rows"]) == entry["nNonZeroScores"]
        assert all(set(row) == {"pos", "RA", "AA", "RD", "AD"} for row in rows["rows"])
        if t_id == reply["allNonZeroScoresTranscriptId"]:  # the main reply shows the rows above the threshold
            shown = {row["pos"] for row in reply["allNonZeroScores"]}
            assert shown <= {row["pos"] for row in rows["rows"]}
    status, error = server.get("/spliceai/scores/", hg="38", variant=variant, distance="50", mask="0",
                               transcript="NM_000000")
    assert status == 400 and "not found" in error["error"]
    status, error = server.get("/spliceai/scores/", hg="38", variant=variant, distance="50", mask="0")
    assert status == 400 and '"transcript" not specified' in error["error"]


def test_masked_wide_requests_and_post_bodies_agree(server, annotated):
    variant = VARIANTS[0]
    query = {"hg": "38", "variant": _dash(variant), "distance": "500", "mask": "1"}
    status, by_get = server.get("/spliceai/", **query)
    status_json, by_json = server.post("/spliceai/", json.dumps(query).encode())
    status_form, by_form = server.post("/spliceai/", urllib.parse.urlencode(query).encode(),
                                       "application/x-www-form-urlencoded")  # fmt: skip
    assert status == status_json == status_form == 200
    assert by_get["scores"] == by_json["scores"] == by_form["scores"]
    expected = annotated["d500m1"][variant[0]].split(",")
    assert [e["DS_DG"] for e in by_get["scores"]] == [t.split("|")[4] for t in expected]


@pytest.mark.parametrize(
    ("params", "status", "wording"),
    [
        ({"hg": "38"}, 400, '"variant" not specified'),
        ({"variant": "16-189969-T-A"}, 400, '"hg" not specified'),
        ({"hg": "19", "variant": "16-189969-T-A"}, 400, 'Invalid "hg" value'),
        ({"hg": "38", "variant": "16-189969-T-A", "distance": "x"}, 400, "must be an integer"),
        ({"hg": "38", "variant": "16-189969-T-A", "distance": "-1"}, 400, "non-negative"),
        ({"hg": "38", "variant": "16-189969-T-A", "distance": "100000000"}, 400, 'Invalid "distance"'),
        ({"hg": "38", "variant": "16-189969-T-A", "mask": "2"}, 400, 'Invalid "mask" value'),
        ({"hg": "38", "variant": "16-189969-T-A", "bc": "x"}, 400, 'Invalid "bc" value'),
        ({"hg": "38", "variant": "16-189969-T"}, 400, 'Unable to parse "variant"'),
        ({"hg": "38", "variant": "16-100-A-G"}, 200, "did not return any scores"),
        ({"hg": "38", "variant": "16-189969-G-A"}, 200, "did not return any scores"),
    ],
)  # fmt: skip
def test_errors_have_the_reference_services_meaning_and_status(server, params, status, wording):
    got, reply = server.get("/spliceai/", **params)
    assert got == status
    assert wording in reply["error"]
    assert reply["source"] == "spliceai"


def test_pangolin_endpoint_without_pangolin_is_refused(server):
    status, reply = server.get("/pangolin/", hg="38", variant="16-189969-T-A")
    assert status == 400 and "rather than pangolin" in reply["error"]


def test_own_api_gives_serves_entries_transcript_details_and_raw_tracks(server, annotated):
    variant = VARIANTS[1]
    status, reply = server.get("/api/lookup", variant=_dash(variant).replace("-", ":"), raw="1")
    assert status == 200, reply
    assert ",".join(reply["scores"]) == annotated["d50"][variant[0]]
    assert reply["reason"] is None
    for row in reply["transcripts"]:
        assert len(row["raw"]["positions"]) == 101 and row["raw"]["positions"][50] == variant[2]
        assert len(row["raw"]["ref_acceptor"]) == len(row["raw"]["alt_donor"]) == 101
    every = server.get("/api/lookup", variant=_dash(VARIANTS[2]))[1]["transcripts"]
    primary = server.get("/api/lookup", variant=_dash(VARIANTS[2]), transcripts="primary")[1]["transcripts"]
    assert primary and all(t["mane_select"] or t["canonical"] for t in primary)
    assert len(primary) < len(every)
    status, unscored = server.get("/api/lookup", variant="16-100-A-G")
    assert status == 200 and unscored["scores"] == [] and unscored["reason"] == "no overlapping gene"


def test_hgvs_gives_the_scores_of_the_genomic_form(server):
    status, genomic = server.get("/api/lookup", variant="16-189963-G-A")
    assert status == 200
    status, hgvs = server.get("/api/lookup", variant="NM_018032:c.*1C>T")
    assert status == 200, hgvs
    assert (hgvs["pos"], hgvs["ref"], hgvs["alt"], hgvs["hgvs_transcript"]) == (189963, "G", "A", "NM_018032.5")
    assert hgvs["scores"] == genomic["scores"]


def test_fifty_concurrent_clients_get_the_sequential_answers_in_few_batches(server):
    import aiohttp

    queries = [{"hg": "38", "variant": _dash(VARIANTS[i % len(VARIANTS)]), "distance": str(40 + i % 3)}
               for i in range(50)]  # fmt: skip
    before = server.get("/health")[1]

    async def ask_all():
        async with aiohttp.ClientSession() as session:
            async def ask(params):
                async with session.get(server.url + "/spliceai/", params=params) as response:
                    return response.status, await response.json()
            return await asyncio.gather(*(ask(q) for q in queries))

    replies = asyncio.run(ask_all())
    after = server.get("/health")[1]
    assert all(status == 200 for status, _ in replies)
    for query, (_, reply) in zip(queries[:7], replies[:7]):
        assert server.get("/spliceai/", **query)[1]["scores"] == reply["scores"]
    assert after["requests"] - before["requests"] == 51
    assert after["batches"] - before["batches"] < 25  # requests that arrive together share engine calls


def test_health_page_and_unknown_paths(server):
    status, health = server.get("/health")
    assert status == 200 and health["status"] == "ok" and health["genomes"] == ["38"]
    assert health["cache"]["38/spliceai"]["misses"] > 0
    status, page = server.get("/")
    assert status == 200 and b"spliceannot" in page
    assert server.get("/nothing/here")[0] == 404


def test_sigterm_stops_gracefully_with_one_access_line_per_request(tiny_model, tmp_path):
    running = HttpServer("--genome", f"38={FASTA},{TAGGED}", "-m", tiny_model, "--no-cache")
    for _ in range(3):
        assert running.get("/health")[0] == 200
    assert running.get("/spliceai/", hg="38")[0] == 400
    assert running.stop() == 0
    time.sleep(0.2)
    stderr = "".join(running.stderr_lines)
    assert "Traceback" not in stderr
    lines = [line for line in stderr.splitlines() if '"GET /' in line]
    assert len(lines) == 4 and " 400 " in lines[-1]


def test_start_up_errors_are_one_line(tiny_model):
    result = subprocess.run(
        [sys.executable, "-m", "spliceannot", "serve", "--http", "0", "--genome", "38=/no/such.fa,grch38",
         "-m", tiny_model], capture_output=True, text=True, env=_env(), timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith("spliceannot serve: error:") and "Traceback" not in result.stderr
    result = subprocess.run([sys.executable, "-m", "spliceannot", "serve", "--http", "0", "-m", tiny_model],
                            capture_output=True, text=True, env=_env(), timeout=60, check=False)  # fmt: skip
    assert result.returncode == 2 and "--genome" in result.stderr


def test_two_workers_share_the_port(tiny_model):
    running = HttpServer("--genome", f"38={FASTA},{TAGGED}", "-m", tiny_model, "--no-cache", "--workers", "2")
    try:
        assert running.ready["workers"] == 2
        replies = [running.get("/spliceai/", hg="38", variant="16-189969-T-A", distance="10") for _ in range(4)]
        assert all(status == 200 for status, _ in replies)
        assert len({json.dumps(reply["scores"]) for _, reply in replies}) == 1
    finally:
        assert running.stop() == 0
