"""plugins/vep/SpliceAnnot.pm under Debian's perl, against a real ``spliceannot serve``.

Ensembl VEP itself is not installed for the tests: ``tests/vep/lib`` holds a
STAND-IN for VEP's plugin base class, and ``tests/vep/run_plugin.pl`` makes
stand-in variation features and transcript variation alleles the way VEP's
VCF parser does (shared leading base of indels trimmed, '-' for an empty
allele), and forks a worker as VEP's ``--fork`` does.  Everything else is
real: the plugin starts ``spliceannot serve`` with the tiny model and the
example FASTA, or reads a tabix score file.  docs/vep.md shows the plugin in
a real VEP.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from toy import FASTA, ROOT, example_lines, spliceai_by_id, write_subset

PERL = "/usr/bin/perl"
DRIVER = ROOT / "tests" / "vep" / "run_plugin.pl"
FIELDS = ["DS_AG", "DS_AL", "DS_DG", "DS_DL", "DP_AG", "DP_AL", "DP_DG", "DP_DL"]

pytestmark = pytest.mark.skipif(
    not Path(PERL).exists(), reason="Debian's perl (/usr/bin/perl) is not installed"
)

# (record ID, transcript's gene symbol, transcript strand, allele number, VEP read it from a VCF)
CASES = [
    ("v3", "LUC7L", -1, 1, True),  # SNV in a reverse-strand gene
    ("v59", "FAM234A", 1, 1, True),  # SNV in a forward-strand gene
    ("v2", "LUC7L", -1, 1, True),  # deletion AC>A: VEP holds C/- at 189179
    ("v2", "LUC7L", -1, 1, False),  # the same from non-VCF input: to_VCF_record restores the base
    ("v9", "LUC7L", -1, 1, True),  # insertion T>TCG: VEP holds -/CG
    ("v9", "LUC7L", -1, 1, False),
    ("v7", "LUC7L", -1, 2, True),  # the second ALT of G>C,T
    ("v22", "LUC7L", -1, 2, True),  # CAAA>TAAA,C: the deletion
    ("v5", "LUC7L", -1, 1, True),  # CAAT>TA: SpliceAI writes dots
    ("v82", "FAM234A", 1, 2, True),  # two genes: each transcript gets its gene's score
    ("v82", "AC004754.3", 1, 2, True),
    ("v3", "FAM234A", 1, 1, True),  # a gene SpliceAI did not score: nothing
    ("v1", "LUC7L", -1, 1, True),  # outside every gene of the table: nothing
]


def records() -> dict[str, tuple[str, int, str, list[str]]]:
    _, data = example_lines()
    found = {}
    for line in data:
        chrom, pos, ident, ref, alt = line.split("\t")[:5]
        found[ident] = (chrom, int(pos), ref, alt.split(","))
    return found


def case_dicts(cases, *, chrom: str | None = None) -> list[dict]:
    known = records()
    result = []
    for ident, symbol, strand, number, from_vcf in cases:
        record_chrom, pos, ref, alts = known[ident]
        result.append(
            {
                "chrom": chrom or record_chrom,
                "pos": pos,
                "ref": ref,
                "alts": alts,
                "allele_number": number,
                "symbol": symbol,
                "strand": strand,
                "from_vcf": from_vcf,
            }
        )
    return result


def run_driver(
    params,
    cases,
    *,
    output_format="tab",
    fork=False,
    finish=False,
    kill=False,
    check=True,
    env=None,
) -> dict | subprocess.CompletedProcess:
    spec = {
        "params": [str(p) for p in params],
        "config": {"output_format": output_format},
        "cases": cases,
        "fork": int(fork),
        "finish": int(finish),
        "kill": int(kill),
    }
    env = dict(os.environ, OMP_NUM_THREADS="1", **(env or {}))
    done = subprocess.run(
        [
            PERL,
            "-I",
            str(ROOT / "plugins" / "vep"),
            "-I",
            str(ROOT / "tests" / "vep" / "lib"),
            str(DRIVER),
        ],
        input=json.dumps(spec).encode(),
        capture_output=True,
        env=env,
        timeout=180,
        check=False,
    )
    if not check:
        return done
    assert done.returncode == 0, done.stderr.decode()
    return json.loads(done.stdout)


@pytest.fixture
def private_tmp():
    """A short, empty TMPDIR for the plugin (its socket's path must fit in 107 bytes)."""
    path = Path(tempfile.mkdtemp(prefix="vep-", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def gone(pid: int) -> bool:
    """True when the process has exited (a zombie waiting for its parent counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def wait_gone(pids, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while not all(gone(pid) for pid in pids):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def entry_for(info: str | None, alt: str, symbol: str) -> list[str] | None:
    """The 8 values of annotate's entry for (ALT, gene), or None."""
    for entry in (info or "").split(",") if info else []:
        allele, gene, *values = entry.split("|")
        if allele == alt and gene == symbol:
            return values
    return None


def expected_results(cases, info_by_id, *, style: str, cutoff: float | None = None) -> list[dict]:
    """What VEP's SpliceAI plugin writes for these cases, from annotate's INFO entries."""
    known = records()
    expected = []
    for ident, symbol, _, number, _ in cases:
        values = entry_for(info_by_id[ident], known[ident][3][number - 1], symbol)
        if values is None:
            expected.append({})
            continue
        if style == "tab":
            result = {"SpliceAI_pred": "|".join([symbol, *values])}
        else:
            prefix = "SpliceAI_pred_" if style == "split" else ""
            result = {prefix + "SYMBOL": symbol, **{prefix + f: v for f, v in zip(FIELDS, values)}}
        if cutoff is not None:
            scores = [float(v) for v in values[:4] if v != "."]
            result["SpliceAI_cutoff"] = "PASS" if scores and max(scores) >= cutoff else "FAIL"
        expected.append({"SpliceAI": result} if style == "json" else result)
    return expected


@pytest.fixture(scope="module")
def case_ids() -> list[str]:
    return sorted({ident for ident, *_ in CASES})


@pytest.fixture(scope="module")
def annotated(tiny_model, tmp_path_factory, case_ids) -> tuple[dict, Path]:
    """annotate's INFO values by ID, and the same output as a bgzipped, tabix-indexed VCF."""
    from click.testing import CliRunner

    from spliceannot.cli import main

    where = tmp_path_factory.mktemp("vep")
    subset = write_subset(where / "subset.vcf", case_ids)
    scores = where / "scores.vcf.gz"
    args = [
        "annotate",
        "-I",
        subset,
        "-O",
        scores,
        "--write-index",
        "-R",
        FASTA,
        "-A",
        "grch38",
        "-m",
        tiny_model,
    ]
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == 0, result.stderr + repr(result.exception)
    text = subprocess.run(
        ["bgzip", "-dc", str(scores)], capture_output=True, check=True, text=True
    ).stdout
    return spliceai_by_id(text), scores


def serve_params(tiny_model, *extra) -> list[str]:
    return [
        "fasta=" + str(FASTA),
        "model=" + str(tiny_model),
        "cache=none",
        f"spliceannot={sys.executable} -m spliceannot",
        *extra,
    ]


def test_serve_mode_matches_annotate_with_vcf_keys_cutoff_and_fork(
    tiny_model, annotated, private_tmp
):
    info, _ = annotated
    assert any(entry_for(info["v59"], "T", "FAM234A")), "the tiny model scores the + strand case"
    maxima = [
        max(float(v) for v in e[:4])
        for e in (entry_for(info[i], records()[i][3][n - 1], s) for i, s, _, n, _ in CASES)
        if e and e[0] != "."
    ]
    cutoff = statistics.median(maxima)
    out = run_driver(
        serve_params(tiny_model, f"cutoff={cutoff}"),
        case_dicts(CASES),
        output_format="vcf",
        fork=True,
        finish=True,
        env={"TMPDIR": str(private_tmp)},
    )
    expected = expected_results(CASES, info, style="split", cutoff=cutoff)
    assert out["results"] == expected
    assert {r.get("SpliceAI_cutoff") for r in expected} == {"PASS", "FAIL", None}
    assert sum(bool(r) for r in expected) >= 9
    assert set(out["header"]) == {f"SpliceAI_pred_{k}" for k in ["SYMBOL", *FIELDS]} | {
        "SpliceAI_cutoff"
    }
    # one server, started before the fork in a private directory, shared with the worker
    assert Path(out["socket"]).parent == Path(out["directory"])
    assert Path(out["directory"]).parent == private_tmp
    assert out["forked"]["results"] == expected and out["forked"]["status"] == 0
    assert out["forked"]["socket"] == out["socket"] and out["forked"]["requests"] > 0
    assert out["server_alive_after_worker"] == 1  # a worker's end leaves the server running
    assert out["health"]["served"] == out["requests"] + out["forked"]["requests"]
    # VEP's finish() stopped it: server and keeper exited, the directory is gone
    assert gone(out["server_pid"]) and gone(out["keeper_pid"])
    assert list(private_tmp.iterdir()) == []


def test_the_server_stops_with_the_plugin_object(tiny_model, annotated, private_tmp):
    """Without finish() (a VEP that dies in a plugin's run, say), DESTROY stops the server."""
    info, _ = annotated
    out = run_driver(
        serve_params(tiny_model), case_dicts(CASES[:4]), env={"TMPDIR": str(private_tmp)}
    )
    assert out["results"] == expected_results(CASES[:4], info, style="tab")
    assert out["health"]["served"] == out["requests"] > 0
    assert gone(out["server_pid"]) and gone(out["keeper_pid"])
    assert list(private_tmp.iterdir()) == []


def test_the_server_stops_when_vep_is_killed(tiny_model, private_tmp):
    """VEP killed by SIGKILL runs no Perl code: the keeper sees its input end, stops the server."""
    done = run_driver(
        serve_params(tiny_model), [], kill=True, check=False, env={"TMPDIR": str(private_tmp)}
    )
    assert done.returncode == -9
    out = json.loads(done.stdout)
    assert Path(out["directory"]).parent == private_tmp and out["server_pid"]
    assert wait_gone([out["server_pid"], out["keeper_pid"]])
    assert list(private_tmp.iterdir()) == []


def test_socket_mode_shares_one_running_server_across_fork(tiny_model, annotated, tmp_path):
    info, _ = annotated
    path = tmp_path / "serve.sock"
    server = subprocess.Popen(
        [sys.executable, "-m", "spliceannot", "serve", "-R", str(FASTA), "-A", "grch38"]
        + ["-m", str(tiny_model), "--no-cache", "--max-wait-ms", "0", "--socket", str(path)],
        stdout=subprocess.PIPE,
        env=dict(os.environ, OMP_NUM_THREADS="1"),
    )
    try:
        assert json.loads(server.stdout.readline())["socket"] == str(path)  # listening
        out = run_driver(
            [f"socket={path}"], case_dicts(CASES), output_format="tab", fork=True, finish=True
        )
        expected = expected_results(CASES, info, style="tab")
        assert out["results"] == expected and out["forked"]["results"] == expected
        assert out["keeper_pid"] is None and out["forked"]["status"] == 0
        assert out["health"]["served"] == out["requests"] + out["forked"]["requests"]
        assert server.poll() is None  # the plugin leaves a server it did not start running
    finally:
        server.terminate()
        assert server.wait(timeout=60) == 0
    assert not path.exists()


@pytest.mark.parametrize(
    "output_format, extra, style",
    [
        ("tab", [], "tab"),
        ("json", [], "json"),
        ("tab", ["split_output=1"], "split"),
        ("vcf", ["cutoff=0"], "split"),
    ],
)
def test_file_mode_reads_annotate_output(annotated, output_format, extra, style):
    info, scores = annotated
    out = run_driver(
        [f"file={scores}", *extra], case_dicts(CASES, chrom="16"), output_format=output_format
    )
    cutoff = 0.0 if "cutoff=0" in extra else None
    assert out["results"] == expected_results(CASES, info, style=style, cutoff=cutoff)
    assert out["keeper_pid"] is None and out["socket"] is None
    if style == "tab":
        assert (
            list(out["header"]) == ["SpliceAI_pred"]
            and "SpliceAI (v1.3.1)" in out["header"]["SpliceAI_pred"]
        )


def test_file_mode_reads_illumina_style_files(annotated, tmp_path):
    """One ALT per line, chrom without "chr", SNVs and indels in two files (snv= and indel=)."""
    if shutil.which("bgzip") is None or shutil.which("tabix") is None:
        pytest.skip("bgzip/tabix are not installed (apt-get install tabix)")
    info, _ = annotated
    header = (
        "##fileformat=VCFv4.0\n##contig=<ID=16,length=90338345>\n"
        '##INFO=<ID=SpliceAI,Number=.,Type=String,Description="SpliceAIv1.3 variant annotation. '
        'Format: ALLELE|SYMBOL|DS_AG|DS_AL|DS_DG|DS_DL|DP_AG|DP_AL|DP_DG|DP_DL">\n'
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
    )
    lines = {"snv": [], "indel": []}
    known = records()
    for ident in sorted(info, key=lambda i: known[i][1]):
        _, pos, ref, _ = known[ident]
        for entry in (info[ident] or "").split(",") if info[ident] else []:
            alt = entry.split("|")[0]
            kind = "snv" if len(ref) == len(alt) == 1 else "indel"
            lines[kind].append(f"16\t{pos}\t.\t{ref}\t{alt}\t.\t.\tSpliceAI={entry}\n")
    params = []
    for kind, body in lines.items():
        path = tmp_path / f"{kind}.vcf"
        path.write_text(header + "".join(body))
        subprocess.run(["bgzip", "-f", str(path)], check=True)
        subprocess.run(["tabix", "-p", "vcf", f"{path}.gz"], check=True)
        params.append(f"{kind}={path}.gz")
    out = run_driver(params, case_dicts(CASES), output_format="tab")
    assert out["results"] == expected_results(CASES, info, style="tab")
    assert "SpliceAI (v1.3)" in out["header"]["SpliceAI_pred"]


@pytest.mark.parametrize(
    "params, message",
    [
        (["cutoff=2"], "cutoff"),
        (["colour=blue"], "unknown parameter 'colour'"),
        ([], "give file=SCORES.vcf.gz, fasta=GENOME"),
        (["socket=/nonexistent/serve.sock"], "no spliceannot serve socket"),
        (["file=/nonexistent/scores.vcf.gz"], "not found"),
        (["fasta=/nonexistent/genome.fa"], "not found"),
    ],
)
def test_bad_parameters_stop_vep_with_a_message(params, message):
    done = run_driver(params, [], check=False)
    assert done.returncode != 0 and message in done.stderr.decode()


@pytest.mark.parametrize(
    "extra, messages",
    [
        (["annotation=grch99"], ["spliceannot serve: error:", "did not start (exit status 2)"]),
        (["spliceannot=no-such-spliceannot"], ["'no-such-spliceannot' not found", "spliceannot="]),
        (
            ["spliceannot=/nonexistent/bin/spliceannot"],
            ["'/nonexistent/bin/spliceannot' not found"],
        ),
    ],
)
def test_a_server_that_cannot_start_fails_the_plugin(tiny_model, private_tmp, extra, messages):
    """The server starts when VEP loads the plugin: its failure is the plugin's (--safe: fatal)."""
    done = run_driver(
        serve_params(tiny_model) + extra,
        case_dicts(CASES[:1]),
        check=False,
        env={"TMPDIR": str(private_tmp)},
    )
    stderr = done.stderr.decode()
    assert done.returncode != 0 and "ERROR: SpliceAnnot:" in stderr
    assert all(message in stderr for message in messages), stderr
    assert list(private_tmp.iterdir()) == []  # no directory left behind
