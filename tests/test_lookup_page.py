"""The lookup page in a real headless browser (Debian's chromium driven by Playwright).

A variant typed into the page gives, in the page's DOM, the scores
``annotate`` writes for it; its HGVS form gives the same scores; the CSV
download parses and holds the tracks of ``/api/lookup``; clear messages
for a bad variant, a REF mismatch and a variant outside every gene; no
console error anywhere.
"""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from test_lookup_http import TAGGED, HttpServer, _env
from toy import FASTA, spliceai_by_id, vcf_text

playwright_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
VARIANT = ("chr16", 235000, "C", "T")  # FAM234A: three transcripts, one MANE Select


@pytest.fixture(scope="module")
def server(tiny_model):
    running = HttpServer("--genome", f"38={FASTA},{TAGGED}", "-m", tiny_model, "--no-cache", "-D", "50")
    yield running
    running.stop()


@pytest.fixture(scope="module")
def page(server):
    if not shutil.which(CHROMIUM) and not __import__("os").path.exists(CHROMIUM):
        pytest.skip("chromium is not installed")
    with playwright_api.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        context = browser.new_context(accept_downloads=True)
        tab = context.new_page()
        tab.problems = []
        tab.on("console", lambda m: m.type == "error" and tab.problems.append(m.text))
        tab.on("pageerror", lambda e: tab.problems.append(str(e)))
        tab.on("requestfailed", lambda r: tab.problems.append(f"failed: {r.url}"))
        tab.goto(server.url + "/")
        tab.wait_for_selector("#genome option", state="attached")
        yield tab
        browser.close()


@pytest.fixture(scope="module")
def expected(tiny_model, tmp_path_factory) -> list[list[str]]:
    directory = tmp_path_factory.mktemp("annotate")
    chrom, pos, ref, alt = VARIANT
    (directory / "in.vcf").write_text(vcf_text([(chrom, pos, "v", ref, alt)]))
    subprocess.run(
        [sys.executable, "-m", "spliceannot", "annotate", "-I", directory / "in.vcf", "-O", directory / "out.vcf",
         "-R", FASTA, "-A", TAGGED, "--transcripts", "all", "-m", tiny_model, "--no-cache"],
        check=True, env=_env(), capture_output=True,
    )  # fmt: skip
    info = spliceai_by_id((directory / "out.vcf").read_text())["v"]
    return [entry.split("|") for entry in info.split(",")]


def look_up(page, text: str, **fields) -> None:
    page.fill("#variant", text)
    for name, value in fields.items():
        page.select_option(f"#{name}", value)
    page.click("#submit")
    page.wait_for_function("!document.getElementById('message').textContent.startsWith('Scoring')")


def dom_scores(page) -> list[list[str]]:
    return page.eval_on_selector_all(
        "#spliceai div.transcript",
        """boxes => boxes.map(box => ["DS_AG", "DS_AL", "DS_DG", "DS_DL", "DP_AG", "DP_AL", "DP_DG", "DP_DL"]
            .map(field => box.querySelector(`td[data-field=${field}]`).textContent))""",
    )


def test_typed_variant_shows_annotates_scores_and_plots(page, expected):
    chrom, pos, ref, alt = VARIANT
    look_up(page, f"{chrom}-{pos}-{ref}-{alt}", transcripts="all")
    assert dom_scores(page) == [fields[2:10] for fields in expected]
    names = page.eval_on_selector_all("#spliceai div.transcript h3", "hs => hs.map(h => h.textContent)")
    assert all(name.startswith("FAM234A") for name in names) and any("MANE Select" in n for n in names)
    page.wait_for_function("[...document.querySelectorAll('img.landscape')].every(i => i.complete)")
    widths = page.eval_on_selector_all("img.landscape", "imgs => imgs.map(i => i.naturalWidth)")
    assert len(widths) == len(expected) and all(width > 100 for width in widths)
    assert page.problems == []


def test_hgvs_form_gives_the_same_scores(page, server):
    look_up(page, "chr16:189969:T:A", transcripts="all")
    genomic = dom_scores(page)
    look_up(page, "NM_018032.5:c.*1C>T")
    assert "NM_018032.5" in page.inner_text("#resolved")
    hgvs_scores = dom_scores(page)
    reply = server.get("/api/lookup", variant="chr16-189963-G-A")[1]
    assert hgvs_scores == [[t[f"DS_{k}"] for k in ("AG", "AL", "DG", "DL")] + [str(t[f"DP_{k}"]) for k in
                           ("AG", "AL", "DG", "DL")] for t in reply["transcripts"]]  # fmt: skip
    assert genomic and page.problems == []


def test_primary_only_and_csv_download(page, server):
    chrom, pos, ref, alt = VARIANT
    look_up(page, f"{chrom}:{pos}:{ref}:{alt}", transcripts="primary")
    boxes = page.eval_on_selector_all("#spliceai div.transcript", "bs => bs.map(b => b.dataset.transcript)")
    assert boxes == ["NM_032039.5"]
    page.click("#spliceai div.transcript details summary")
    with page.expect_download() as waiting:
        page.click("#spliceai button.csv")
    download = waiting.value
    rows = list(csv.DictReader(io.StringIO(Path(download.path()).read_text())))
    every = server.get("/api/lookup", variant=f"{chrom}-{pos}-{ref}-{alt}", raw="1")[1]["transcripts"]
    raw = next(t for t in every if t["transcript_id"] == "NM_032039.5")["raw"]
    assert [int(row["position"]) for row in rows] == raw["positions"]
    assert [float(row["alt_donor"]) for row in rows] == raw["alt_donor"]
    assert download.suggested_filename.endswith("NM_032039.5.csv")
    assert page.problems == []


@pytest.mark.parametrize(
    ("text", "wording"),
    [
        ("chr16-235000-C", "Unable to parse variant"),
        ("chr16-235000-G-T", "REF does not match the genome"),
        ("chr16-100-A-G", "outside every gene"),
        ("NM_404:c.1A>G", "not in the loaded annotation"),
    ],
)
def test_clear_messages(page, text, wording):
    look_up(page, text)
    assert wording in page.inner_text("#message")
    assert page.eval_on_selector("#message", "m => m.className") == "error"
    assert page.eval_on_selector_all("#spliceai", "s => s.length") == 0
    # a 400 from the server shows its message, not a console error
    page.problems[:] = [p for p in page.problems if "status of 400" not in p]
    assert page.problems == []
