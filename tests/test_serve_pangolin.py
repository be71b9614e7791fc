"""``spliceannot serve`` with Pangolin: ``-m pangolin`` alone and ``-m MODEL -m pangolin``.

The servers run as real subprocesses with Pangolin's twelve real networks
(read from ../shared, GPL data never committed; the tests skip without them)
on a few example variants, and their Pangolin values are checked against
what ``spliceannot annotate -m pangolin`` writes for the same variants.
SpliceAI's side uses the tiny seeded model; the Pangolin example of
docs/serve.md runs as written (real SpliceAI weights too, marked slow).  The request parsing and the
replies of a two-model responder are also checked in process, with fakes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from test_serve import Server, requests_for
from toy import EXAMPLES, FASTA, data_lines, info_value, write_subset

from spliceannot.outcome import NO_GENE, REF_MISMATCH, UNSUPPORTED_VARIANT, Outcome

MODELS = Path(__file__).resolve().parents[2] / "shared" / "data" / "pangolin-models"
GTF = EXAMPLES / "chr16_genes.gtf.gz"
needs_weights = pytest.mark.skipif(
    not (MODELS / "final.1.0.3.v2").is_file(), reason="Pangolin weights not in ../shared"
)
# v2, v3, v16: scored by both; v7: two ALTs (Pangolin scores the first); v9: REF soft-masked in
# the FASTA (SpliceAI scores it, Pangolin's case-sensitive check does not); v1 (REF N) and
# v5 (MNV CAAT>TA): neither A/C/G/T-only nor of equal length, Pangolin skips them.
IDS = ["v1", "v2", "v3", "v5", "v7", "v9", "v16"]
PANGOLIN_SKIPS = {"v1": UNSUPPORTED_VARIANT, "v5": UNSUPPORTED_VARIANT, "v9": REF_MISMATCH}


def annotate_fields(tmp_path: Path, ids, *options) -> dict[str, dict[str, str | None]]:
    """ID -> {"SpliceAI": value, "Pangolin": value} written by ``spliceannot annotate``."""
    from click.testing import CliRunner

    from spliceannot.cli import main

    subset = write_subset(tmp_path / "subset.vcf", ids)
    args = ["annotate", "-I", subset, "-R", FASTA, "-A", GTF, "--no-cache", "--workers", 1]
    args += ["--pangolin-models", MODELS, *options]
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == 0, result.stderr + repr(result.exception)
    return {
        line.split("\t")[2]: {key: info_value(line, key) for key in ("SpliceAI", "Pangolin")}
        for line in data_lines(result.stdout)
    }


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def servers(tiny_model, tmp_path_factory):
    """A Pangolin-only server and a two-model one (with a score cache), started at once."""
    where = tmp_path_factory.mktemp("pangolin-serve")
    common = ["-R", FASTA, "-A", GTF, "--pangolin-models", MODELS]
    started = {
        "pangolin": Server(*common, "-m", "pangolin", "--no-cache"),
        "both": Server(
            *common, "-m", "pangolin", "-m", tiny_model, "--cache", where / "scores.sqlite"
        ),
    }
    for server in started.values():
        server.ready = server.read()[0]
    yield started
    for server in started.values():
        server.kill()


@pytest.fixture(scope="module")
def expected(tiny_model, tmp_path_factory) -> dict:
    """annotate's values: ``-m TINY -m pangolin``, and Pangolin's with -D 500 or -m False for v3."""
    where = tmp_path_factory.mktemp("pangolin-annotate")
    (where / "wide").mkdir()
    (where / "unmasked").mkdir()
    return {
        "both": annotate_fields(where, IDS, "-m", tiny_model, "-m", "pangolin"),
        "wide": annotate_fields(where / "wide", ["v3"], "-m", "pangolin", "-D", 500),
        "unmasked": annotate_fields(
            where / "unmasked", ["v3"], "-m", "pangolin", "--pangolin-mask", "False"
        ),
    }


def pangolin_reply(ident: str, value: str | None) -> dict:
    if value is None:
        return {"id": ident, "pangolin": None, "pangolin_reason": PANGOLIN_SKIPS[ident]}
    return {"id": ident, "pangolin": value, "pangolin_reason": None}


def spliceai_reply(ident: str, value: str | None) -> dict:
    if value is None:
        return {"id": ident, "scores": [], "reason": NO_GENE}  # v1 only: before the genes
    return {"id": ident, "scores": value.split(","), "reason": None}


# --------------------------------------------------------------------------- real servers


@needs_weights
def test_ready_lines_name_the_models(servers, tiny_model):
    from spliceannot.engine.files import file_digest, model_files

    digest = file_digest(model_files(str(MODELS)))
    pangolin = servers["pangolin"].ready
    assert pangolin["model"] == str(MODELS) and pangolin["model_digest"] == digest
    assert pangolin["models"] == ["pangolin"] and pangolin["pangolin_mask"] == 1
    assert "pangolin_model" not in pangolin
    both = servers["both"].ready
    assert both["model"] == str(tiny_model) and both["models"] == ["spliceai", "pangolin"]
    assert both["pangolin_model"] == str(MODELS) and both["pangolin_model_digest"] == digest
    assert both["pangolin_mask"] == 1 and both["distance"] == 50 and both["mask"] == 0


@needs_weights
def test_pangolin_values_equal_annotates(servers, expected):
    replies = servers["pangolin"].ask(*requests_for(IDS))
    want = expected["both"]
    assert {i for i in IDS if want[i]["Pangolin"] is None} == set(PANGOLIN_SKIPS)
    assert [r["id"] for r in replies] == IDS
    for reply in replies:
        assert reply == pangolin_reply(reply["id"], want[reply["id"]]["Pangolin"])
    health = servers["pangolin"].ask({"op": "health"})[0]
    assert health["pangolin_scorers"] == [[50, 1]] and "scorers" not in health
    assert "cache_hits" not in health and "pangolin_cache_hits" not in health  # --no-cache


@needs_weights
def test_both_models_by_default_or_each_alone(servers, expected):
    server, want = servers["both"], expected["both"]
    default = server.ask(*requests_for(IDS))
    only_spliceai = server.ask(*requests_for(IDS, models=["spliceai"]))
    only_pangolin = server.ask(*requests_for(IDS, models="pangolin"))
    for both, spliceai, pangolin in zip(default, only_spliceai, only_pangolin):
        ident = both["id"]
        assert spliceai == spliceai_reply(ident, want[ident]["SpliceAI"])
        assert pangolin == pangolin_reply(ident, want[ident]["Pangolin"])
        assert both == {**spliceai, **pangolin}
        assert list(both) == ["id", "scores", "reason", "pangolin", "pangolin_reason"]
    v9 = default[IDS.index("v9")]  # one model scored it, the other did not
    assert v9["scores"] and v9["pangolin"] is None and v9["pangolin_reason"] == REF_MISMATCH


@needs_weights
def test_distance_and_pangolin_mask_per_request_equal_annotate(servers, expected):
    wide, unmasked = expected["wide"]["v3"]["Pangolin"], expected["unmasked"]["v3"]["Pangolin"]
    assert wide != unmasked != expected["both"]["v3"]["Pangolin"]
    for name in ("pangolin", "both"):
        replies = servers[name].ask(
            *requests_for(["v3"], models=["pangolin"], distance=500),
            *requests_for(["v3"], models=["pangolin"], pangolin_mask=0),
        )
        assert [r["pangolin"] for r in replies] == [wide, unmasked], name
    health = servers["pangolin"].ask({"op": "health"})[0]
    assert health["pangolin_scorers"] == [[50, 0], [50, 1], [500, 1]]


@needs_weights
def test_pangolin_values_come_from_the_cache_the_second_time(servers):
    server = servers["both"]
    values = []
    for distance in (50, 500):  # the server's own scorer, then one made for -D 500
        # v17: asked for in this test only
        request = requests_for(["v17"], models=["pangolin"], distance=distance)[0]
        before = server.ask({"op": "health"})[0]
        first = server.ask(request)[0]
        middle = server.ask({"op": "health"})[0]
        second = server.ask(request)[0]
        after = server.ask({"op": "health"})[0]
        assert first == second and first["pangolin"] and first["pangolin_reason"] is None
        assert middle["pangolin_cache_misses"] == before["pangolin_cache_misses"] + 1
        assert after["pangolin_cache_hits"] == middle["pangolin_cache_hits"] + 1
        assert after["cache_hits"] == before["cache_hits"]  # SpliceAI's: not asked
        values.append(first["pangolin"])
    assert values[0] != values[1]  # each -D under its own context


@needs_weights
def test_asking_for_a_model_not_loaded_is_a_one_line_error(servers, expected):
    v3 = requests_for(["v3"])[0]
    bad = [
        (
            {**v3, "id": "a", "models": ["spliceai"]},
            "models: spliceai is not loaded on this server",
        ),
        ({**v3, "id": "b", "models": ["spliceai", "pangolin"]}, "spliceai is not loaded"),
        ({**v3, "id": "c", "models": []}, "models: expected a list of spliceai and/or pangolin"),
        ({**v3, "id": "d", "models": ["SpliceAI"]}, 'got ["SpliceAI"]'),
        ({**v3, "id": "e", "pangolin_mask": 2}, "pangolin_mask: expected 0 or 1, got 2"),
    ]
    server = servers["pangolin"]
    replies = server.ask(*[request for request, _ in bad], v3)
    for (request, text), reply in zip(bad, replies):
        assert set(reply) == {"id", "error"} and reply["id"] == request["id"]
        assert text in reply["error"] and "\n" not in reply["error"]
    assert replies[-1] == pangolin_reply("v3", expected["both"]["v3"]["Pangolin"])
    assert server.process.poll() is None


# --------------------------------------------------------------------------- in process


def _line(**fields) -> bytes:
    return json.dumps({"id": 1, "chrom": "1", "pos": 10, "ref": "A", "alt": "G", **fields}).encode()


def test_requests_ask_for_the_loaded_models_by_default():
    from spliceannot.serve import BadRequest, parse_request

    both = ("spliceai", "pangolin")
    assert parse_request(_line(), distance=50, mask=False).models == ("spliceai",)
    request = parse_request(_line(), distance=50, mask=False, models=both, pangolin_mask=False)
    assert request.models == both and request.pangolin_mask is False
    asked = parse_request(
        _line(models=["pangolin", "spliceai", "pangolin"]), distance=50, mask=False, models=both
    )
    assert asked.models == both  # reply order, once each
    assert parse_request(_line(models="pangolin"), distance=50, mask=False, models=both).models == (
        "pangolin",
    )
    refused = parse_request(_line(models=["pangolin"]), distance=50, mask=False)
    assert refused == BadRequest(
        1, "models: pangolin is not loaded on this server (it serves spliceai)"
    )
    for value in (None, 1, [], [1], ["pangolin", "other"], {"pangolin": 1}):
        reply = parse_request(_line(models=value), distance=50, mask=False, models=both)
        assert isinstance(reply, BadRequest) and reply.error.startswith("models: expected"), value
    flags = parse_request(_line(pangolin_mask=0, mask=1), distance=50, mask=False, models=both)
    assert flags.pangolin_mask is False and flags.mask is True


class _Fake:
    """A scorer giving one fixed outcome per record; ``derive`` to other -D/-M fails."""

    def __init__(self, outcome, *, mask: bool, fail_at: int | None = None) -> None:
        self.distance, self.mask, self.outcome, self.fail_at = 50, mask, outcome, fail_at
        self.calls = 0

    def score(self, records):
        self.calls += 1
        if any(r.pos == self.fail_at for r in records):
            raise RuntimeError("boom")
        return [Outcome(**self.outcome()) for _ in records]


def _two_model_responder(fail_at=None):
    from spliceannot.serve import Responder, ScorerSet

    spliceai = _Fake(lambda: {"entries": ["G|GENE|0.10|0.00|0.00|0.00|1|0|0|0"]}, mask=False)
    pangolin = _Fake(
        lambda: {"fields": {"Pangolin": "GENE|1:0.5|-2:-0.25|Warnings:"}},
        mask=True,
        fail_at=fail_at,
    )
    sets = {"pangolin": ScorerSet(pangolin), "spliceai": ScorerSet(spliceai)}
    return Responder(sets, distance=50, mask=False, pangolin_mask=True), spliceai, pangolin


def test_a_two_model_reply_carries_each_asked_models_fields_in_one_line():
    responder, spliceai, pangolin = _two_model_responder(fail_at=13)
    lines = [
        _line(),
        _line(id=2, models=["spliceai"]),
        _line(id=3, models=["pangolin"]),
        _line(id=4, pos=13),
        _line(id=5, distance=80, models=["pangolin"]),
    ]
    replies = responder.answer([responder.parse(line) for line in lines])
    spliceai_part = {"scores": ["G|GENE|0.10|0.00|0.00|0.00|1|0|0|0"], "reason": None}
    pangolin_part = {"pangolin": "GENE|1:0.5|-2:-0.25|Warnings:", "pangolin_reason": None}
    assert replies[0] == {"id": 1, **spliceai_part, **pangolin_part}
    assert replies[1] == {"id": 2, **spliceai_part}
    assert replies[2] == {"id": 3, **pangolin_part}
    assert replies[3] == {"id": 4, "error": "internal error while scoring: RuntimeError: boom"}
    assert replies[4]["id"] == 5 and replies[4]["error"].startswith(
        "Pangolin -D 80 --pangolin-mask True is not available on this server"
    )
    assert (spliceai.calls, pangolin.calls) == (1, 1 + 3)  # one batch, then one by one
    health = responder.control(responder.parse(b'{"op": "health"}'))
    assert (health["scored"], health["errors"]) == (3, 2)
    assert health["scorers"] == [[50, 0]] and health["pangolin_scorers"] == [[50, 1]]


def test_a_skip_of_one_model_leaves_the_other_models_scores():
    from spliceannot.serve import Responder, ScorerSet

    spliceai = _Fake(lambda: {"entries": ["G|GENE|0.10|0.00|0.00|0.00|1|0|0|0"]}, mask=False)
    pangolin = _Fake(lambda: {"reason": REF_MISMATCH, "message": "Mismatch"}, mask=True)
    responder = Responder(
        {"spliceai": ScorerSet(spliceai), "pangolin": ScorerSet(pangolin)}, distance=50, mask=False
    )
    reply = responder.answer([responder.parse(_line())])[0]
    assert (
        reply["scores"] and reply["pangolin"] is None and reply["pangolin_reason"] == REF_MISMATCH
    )
    alone = Responder({"pangolin": ScorerSet(pangolin)}, distance=50, mask=False)
    assert alone.answer([alone.parse(_line())])[0] == {
        "id": 1,
        "pangolin": None,
        "pangolin_reason": REF_MISMATCH,
    }
    health = alone.control(alone.parse(b'{"op": "health"}'))
    assert (health["scored"], health["unscored"]) == (0, 1)


def test_pangolin_tissue_fields_come_with_the_value_when_the_server_writes_them():
    from spliceannot.serve import Responder, ScorerSet
    from spliceannot.serve.responder import model_fields

    tissues = {"Pangolin_heart_gain": 0.12, "Pangolin_heart_loss": -0.3}
    fields = {"Pangolin": "GENE|1:0.5|-2:-0.25|Warnings:", **tissues}
    assert model_fields("pangolin", Outcome(fields=fields)) == {
        "pangolin": fields["Pangolin"],
        "pangolin_reason": None,
        "pangolin_tissues": tissues,
    }
    responder = Responder(
        {"pangolin": ScorerSet(_Fake(lambda: {"fields": dict(fields)}, mask=True))},
        distance=50,
        mask=False,
    )
    assert responder.answer([responder.parse(_line())])[0]["pangolin_tissues"] == tissues


# --------------------------------------------------------------------------- the documentation


@pytest.mark.slow
@needs_weights
def test_the_docs_pangolin_example_gives_the_reply_it_shows():
    """docs/serve.md's console example with ``-m pangolin`` runs as written (real weights)."""
    root = Path(__file__).resolve().parents[1]
    blocks = (root / "docs" / "serve.md").read_text().split("```console\n")[1:]
    block = next(b for b in blocks if "-m pangolin" in b.split("```", 1)[0]).split("```", 1)[0]
    lines = block.splitlines()
    end = next(i for i, line in enumerate(lines) if not line.endswith("\\"))
    command = "\n".join([lines[0][2:], *lines[1 : end + 1]])
    env = dict(os.environ, OMP_NUM_THREADS="1", SPLICEANNOT_PANGOLIN_MODELS=str(MODELS))
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    done = subprocess.run(
        ["bash", "-c", command], cwd=root, capture_output=True, env=env, timeout=600, check=False
    )
    assert done.returncode == 0, done.stderr.decode()
    assert done.stdout.decode() == "".join(line + "\n" for line in lines[end + 1 :])
