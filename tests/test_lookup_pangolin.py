"""The lookup with Pangolin (its twelve real networks, read from ../shared; skipped without them):
found through $SPLICEANNOT_PANGOLIN_MODELS, answered on /pangolin/ and beside SpliceAI in the
JSON API and the page, with the values ``annotate -m pangolin`` writes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from test_lookup_http import TAGGED, HttpServer, _env
from toy import FASTA, info_value, vcf_text

MODELS = Path(__file__).resolve().parents[2] / "shared" / "data" / "pangolin-models"
pytestmark = [
    pytest.mark.skipif(not (MODELS / "final.1.0.3.v2").is_file(), reason="Pangolin weights not in ../shared"),
    pytest.mark.slow,
]
VARIANT = ("chr16", 189969, "T", "A")


@pytest.fixture(scope="module")
def server(tiny_model):
    previous = os.environ.get("SPLICEANNOT_PANGOLIN_MODELS")
    os.environ["SPLICEANNOT_PANGOLIN_MODELS"] = str(MODELS)
    try:
        running = HttpServer("--genome", f"38={FASTA},{TAGGED}", "-m", tiny_model, "--no-cache")
    finally:
        if previous is None:
            os.environ.pop("SPLICEANNOT_PANGOLIN_MODELS")
        else:
            os.environ["SPLICEANNOT_PANGOLIN_MODELS"] = previous
    yield running
    running.stop()


@pytest.fixture(scope="module")
def expected(tiny_model, tmp_path_factory) -> str:
    """``annotate -m pangolin``'s value at -D 50 with Pangolin's masking."""
    directory = tmp_path_factory.mktemp("annotate")
    chrom, pos, ref, alt = VARIANT
    (directory / "in.vcf").write_text(vcf_text([(chrom, pos, "v", ref, alt)]))
    subprocess.run(
        [sys.executable, "-m", "spliceannot", "annotate", "-I", directory / "in.vcf", "-O", directory / "out.vcf",
         "-R", FASTA, "-A", TAGGED, "--transcripts", "all", "-m", "pangolin", "--pangolin-models", MODELS,
         "-D", "50", "--no-cache"],
        check=True, env=_env(), capture_output=True,
    )  # fmt: skip
    line = next(x for x in (directory / "out.vcf").read_text().splitlines() if not x.startswith("#"))
    return info_value(line, "Pangolin")


def test_pangolin_endpoint_answers_annotates_values(server, expected):
    chrom, pos, ref, alt = VARIANT
    status, reply = server.get("/pangolin/", hg="38", variant=f"{chrom}-{pos}-{ref}-{alt}", distance="50",
                               mask="1")  # fmt: skip
    assert status == 200, reply
    assert reply["mask"] == "True" and reply["source"] == "pangolin:model"
    genes = [part.split("|") for part in expected.split(",")]
    assert [(e["g_name"], e["DP_SG"], e["DS_SG"], e["DP_SL"], e["DS_SL"]) for e in reply["scores"]] == [
        (g[0], int(g[1].split(":")[0]), g[1].split(":")[1], int(g[2].split(":")[0]), g[2].split(":")[1])
        for g in genes
    ]


def test_json_api_and_page_show_both_models(server, expected):
    chrom, pos, ref, alt = VARIANT
    status, reply = server.get("/api/lookup", variant=f"{chrom}:{pos}:{ref}:{alt}")
    assert status == 200 and reply["pangolin"] == expected and reply["scores"]
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        page = browser.new_page()
        problems = []
        page.on("console", lambda m: m.type == "error" and problems.append(m.text))
        page.goto(server.url + "/")
        page.wait_for_selector("#genome option", state="attached")
        page.fill("#variant", f"{chrom}-{pos}-{ref}-{alt}")
        page.click("#submit")
        page.wait_for_selector("#pangolin div.transcript")
        gains = page.eval_on_selector_all("#pangolin td[data-field=gain]", "cells => cells.map(c => c.textContent)")
        assert gains == [g["gain"] for g in reply["pangolin_genes"]]
        assert page.eval_on_selector_all("#spliceai div.transcript", "b => b.length") == len(reply["transcripts"])
        browser.close()
    assert problems == []
