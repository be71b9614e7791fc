"""``spliceannot report``: a self-contained HTML page, checked as text and rendered in headless Chromium."""

from __future__ import annotations

import base64
import io
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from conftest import spliceannot_executable
from toy import FASTA, data_lines, info_value, parse_entries, write_subset

SPLICEAI_D50 = Path(__file__).resolve().parent / "data" / "spliceai131" / "variants.D50.vcf"
TOP = 3


def run_cli(args):
    from click.testing import CliRunner

    from spliceannot.cli import main

    return CliRunner().invoke(main, [str(a) for a in args])


def ranking(text: str) -> list[tuple[str, float]]:
    """(ID, largest DS) of every record with a numeric entry, largest first, file order on ties."""
    found = []
    for line in data_lines(text):
        value = info_value(line)
        scores = [max(e["ds"]) for e in parse_entries(value) if e["ds"]] if value else []
        if scores:
            found.append((line.split("\t")[2], max(scores)))
    return sorted(found, key=lambda item: -item[1])


@pytest.fixture(scope="module")
def annotated_vcf(tmp_path_factory, tiny_model, chr16_table) -> Path:
    """40 example records annotated by the installed command (so ##spliceannotCommand is real)."""
    folder = tmp_path_factory.mktemp("report")
    subset = write_subset(folder / "in.vcf", first=40)
    output = folder / "annotated.vcf"
    done = subprocess.run(
        [
            spliceannot_executable(),
            "annotate",
            "-I",
            str(subset),
            "-O",
            str(output),
            "-R",
            str(FASTA),
            "-A",
            str(chr16_table),
            "-m",
            str(tiny_model),
            "--no-cache",
            "--workers",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return output


@pytest.fixture(scope="module")
def report_page(annotated_vcf) -> Path:
    """The report of ``annotated_vcf``, redrawn with the options of its ##spliceannotCommand line."""
    page = annotated_vcf.with_name("report.html")
    result = run_cli(["report", annotated_vcf, "-o", page, "--top", TOP])
    assert result.exit_code == 0, result.stderr
    return page


def test_top_variants_counts_and_parameters(report_page, annotated_vcf):
    from PIL import Image

    html = report_page.read_text()
    expected = ranking(annotated_vcf.read_text())
    rows = re.findall(r'<tr class="variant" id="variant-(\d+)" data-max="([^"]+)">(.*?)</tr>', html)
    assert [int(r[0]) for r in rows] == [1, 2, 3]
    shown = [(re.findall(r"<td[^>]*>([^<]*)</td>", r[2])[3], float(r[1])) for r in rows]
    assert [s for _, s in shown] == [s for _, s in expected[:TOP]]
    assert {i for i, _ in shown} <= {
        i for i, s in expected if s == expected[0][1] or s >= expected[TOP - 1][1]
    }
    counts = [
        int(c) for c in re.search(r'id="histogram" data-counts="([^"]+)"', html).group(1).split(",")
    ]
    assert counts == np.histogram([s for _, s in expected], bins=np.linspace(0, 1, 21))[0].tolist()
    assert f"<td>{len(expected)}</td>" in html
    images = re.findall(r'<img src="data:image/png;base64,([^"]+)"', html)
    assert len(images) == TOP
    with Image.open(io.BytesIO(base64.b64decode(images[0]))) as image:
        assert image.format == "PNG" and image.size[0] == 900
    assert "##spliceannotCommand=annotate -I" in html and "SpliceAIv1.3.1" in html
    # self-contained: nothing is loaded from anywhere
    assert not re.search(r'<(link|iframe)|<script[^>]+src=|(src|href)="(?!data:|#)', html)


def render(page: Path, profile: Path) -> tuple[str, list[str]]:
    """The DOM of ``page`` after loading in headless Chromium, and the console lines it logged."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    done = subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--enable-logging=stderr",
            "--v=0",
            f"--user-data-dir={profile}",
            "--virtual-time-budget=5000",
            "--dump-dom",
            page.resolve().as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout, [line for line in done.stderr.splitlines() if ":CONSOLE" in line]


def test_renders_in_headless_chromium_without_errors(report_page, annotated_vcf, tmp_path):
    dom, console = render(report_page, tmp_path / "profile")
    assert console == []
    assert re.search(r"<html[^>]*>", dom).group(0) == '<html lang="en">'  # no data-errors recorded
    assert f'data-images-loaded="{TOP}/{TOP}"' in dom
    for ident, _ in ranking(annotated_vcf.read_text())[:1]:
        assert f'<td class="text">{ident}</td>' in dom
    assert dom.count('<tr class="variant"') == TOP and "<svg" in dom


def test_the_browser_check_sees_a_broken_image_and_a_script_error(report_page, tmp_path):
    html = report_page.read_text()
    broken = re.sub(
        r'<img src="data:image/png;base64,[^"]+"',
        '<img src="data:image/png;base64,AAAA"',
        html,
        count=1,
    )
    broken = broken.replace(
        "</body>", "<script>console.error('oops'); undefinedFunction();</script></body>"
    )
    page = tmp_path / "broken.html"
    page.write_text(broken)
    dom, console = render(page, tmp_path / "profile")
    assert f'data-images-loaded="{TOP - 1}/{TOP}"' in dom
    assert "undefinedFunction" in re.search(r'<html[^>]*data-errors="([^"]*)"', dom).group(1)
    assert any("oops" in line for line in console)


def test_report_of_spliceai_output_without_plots(tmp_path):
    page = tmp_path / "spliceai.html"
    result = run_cli(["report", SPLICEAI_D50, "-o", page, "-n", 5, "--no-plots"])
    assert result.exit_code == 0, result.stderr
    html = page.read_text()
    first = re.search(r'<tr class="variant" id="variant-1"[^>]*>(.*?)</tr>', html).group(1)
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", first)
    assert (
        cells[3] == "v129"
        and cells[6] == "RGS11"
        and cells[7:11] == ["0.99", "0.84", "0.00", "0.00"]
    )
    assert cells[11:15] == ["-1", "-9", "-1", "-13"]
    assert "<img" not in html and html.count('<tr class="variant"') == 5


@pytest.mark.parametrize(
    "make_input, extra, message",
    [
        (lambda d: d / "missing.vcf", [], "missing.vcf: input VCF not found"),
        (lambda d: write_subset(d / "plain.vcf", first=3), [], "no SpliceAI INFO field"),
        (lambda d: SPLICEAI_D50, [], "names no -R or -A"),
    ],
)
def test_bad_input_is_one_line_and_no_file(tmp_path, make_input, extra, message):
    inputs = tmp_path / "in"
    inputs.mkdir()
    page = tmp_path / "out" / "report.html"
    page.parent.mkdir()
    result = run_cli(["report", make_input(inputs), "-o", page, *extra])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert (
        len(lines) == 1
        and lines[0].startswith("spliceannot report: error:")
        and message in lines[0]
    ), result.stderr
    assert list(page.parent.iterdir()) == []


def test_redraw_settings_come_from_the_command_line_header_and_options_win():
    from spliceannot.viz.scores import ScoreSummary, report_settings

    summary = ScoreSummary(
        "x.vcf",
        header=[
            (
                "##spliceannotCommand=annotate -I in.vcf -R 'my genome.fa' -A grch37 -D 500 -M 1 "
                "--iupac n --model=run/best.safetensors --transcripts all"
            )
        ],
    )
    settings = report_settings(summary, {"distance": 200, "reference": None, "device": "cpu"})
    assert (settings.reference, settings.annotation, settings.distance, settings.mask) == (
        "my genome.fa",
        "grch37",
        200,
        True,
    )
    assert (settings.model, settings.transcripts, settings.encoding, settings.device) == (
        "run/best.safetensors",
        "all",
        "zeros",
        "cpu",
    )
    assert settings.cache is None and settings.precomputed == ()


# --------------------------------------------------------------------------- files of the command line


@pytest.fixture(scope="module")
def relative_run(tmp_path_factory, tiny_model, chr16_table) -> Path:
    """A run directory where annotate was given relative -R/-A/-m paths; its output is out.vcf."""
    run = tmp_path_factory.mktemp("run")
    for source in (FASTA, Path(f"{FASTA}.fai"), Path(f"{FASTA}.gzi")):
        shutil.copy(source, run / source.name.replace(FASTA.name, "genome.fa.gz"))
    shutil.copy(chr16_table, run / "genes.txt")
    shutil.copy(tiny_model, run / "tiny.safetensors")
    write_subset(run / "in.vcf", first=12)
    done = subprocess.run(
        [spliceannot_executable(), "annotate", "-I", "in.vcf", "-O", "out.vcf", "-R", "genome.fa.gz",
         "-A", "genes.txt", "-m", "tiny.safetensors", "--no-cache", "--workers", "1"],
        cwd=run, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    command = [line for line in (run / "out.vcf").read_text().splitlines() if "Command=" in line]
    assert command and " -R genome.fa.gz -A genes.txt -m tiny.safetensors " in command[0]
    return run


def copy_vcf(source: Path, target: Path, working_directory: Path | None) -> Path:
    """``source`` with its ##spliceannotWorkingDirectory line (if any) set to ``working_directory`` (or dropped)."""
    lines = [
        line
        for line in source.read_text().splitlines(keepends=True)
        if not line.startswith("##spliceannotWorkingDirectory=")
    ]
    if working_directory is not None:
        at = next(i for i, line in enumerate(lines) if line.startswith("##spliceannotCommand="))
        lines.insert(at + 1, f"##spliceannotWorkingDirectory={working_directory}\n")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("".join(lines))
    return target


def plotted(page: Path) -> int:
    return len(re.findall(r'<img src="data:image/png;base64,', page.read_text()))


def test_relative_paths_resolve_against_the_recorded_working_directory(relative_run, tmp_path, monkeypatch):
    vcf = copy_vcf(relative_run / "out.vcf", tmp_path / "moved" / "out.vcf", relative_run)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    result = run_cli(["report", vcf, "-o", "page.html", "-n", 2])
    assert result.exit_code == 0, result.stderr
    assert plotted(elsewhere / "page.html") == 2


def test_without_the_line_relative_paths_resolve_against_the_vcf_directory(relative_run, tmp_path, monkeypatch):
    vcf = copy_vcf(relative_run / "out.vcf", relative_run / "plain.vcf", None)
    monkeypatch.chdir(tmp_path)
    result = run_cli(["report", vcf, "-o", "page.html", "-n", 2])
    assert result.exit_code == 0, result.stderr
    assert plotted(tmp_path / "page.html") == 2


def test_a_file_found_nowhere_is_one_line_naming_the_paths_tried(relative_run, tmp_path, monkeypatch):
    gone = tmp_path / "gone"  # a recorded directory that no longer exists
    vcf = copy_vcf(relative_run / "out.vcf", tmp_path / "moved" / "out.vcf", gone)
    monkeypatch.chdir(tmp_path)
    result = run_cli(["report", vcf, "-o", "page.html"])
    assert result.exit_code == 2
    tried = ", ".join(str(d / "genome.fa.gz") for d in (gone, tmp_path / "moved", tmp_path))
    assert result.stderr == (
        f"spliceannot report: error: {vcf}: reference FASTA genome.fa.gz of the ##spliceannotCommand "
        f"line not found (tried {tried}); pass -R or --no-plots\n"
    )
    assert sorted(os.listdir(tmp_path)) == ["moved"]
    # options given to report are paths from the current directory; the next missing file is named
    shutil.copy(relative_run / "genome.fa.gz", tmp_path / "my.fa.gz")
    result = run_cli(["report", vcf, "-o", "page.html", "-R", "my.fa.gz"])
    assert result.exit_code == 2 and "annotation genes.txt of the" in result.stderr
    assert result.stderr.rstrip().endswith("pass -A or --no-plots")
    result = run_cli(["report", vcf, "-o", "page.html", "-n", 1, "--no-plots"])
    assert result.exit_code == 0 and plotted(tmp_path / "page.html") == 0
