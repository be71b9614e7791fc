"""The three annotators: how each is set up and invoked.

- ``spliceannot``: this repository's ``spliceannot annotate``.
- ``spliceai``: Illumina's SpliceAI 1.3.1 on CPU TensorFlow, in its own venv
  (``peers/setup_spliceai.sh``, run through ``peers/run_spliceai.sh``).
- ``openspliceai``: OpenSpliceAI 0.0.7's ``openspliceai variant`` on CPU
  PyTorch with its five MANE 10000-nt models, in its own venv
  (``peers/setup_openspliceai.sh``, run through ``peers/run_openspliceai.sh``).

All three get the same VCF, the same uncompressed FASTA, ``-A grch38`` (the
GENCODE V24 table that SpliceAI and OpenSpliceAI both ship, byte for byte the
same file) and the same ``-D``.
"""

from __future__ import annotations

import glob
import hashlib
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from .paths import PEERS_DIR, REPO, peers_dir

TOOL_KEYS = ("spliceannot", "spliceai", "openspliceai")
LABELS = {
    "spliceannot": "spliceannot",
    "spliceai": "SpliceAI 1.3.1",
    "openspliceai": "OpenSpliceAI 0.0.7",
}
#: The torch requirement used when the repository's .venv has to be created (as README.md does).
TORCH_PIN = os.environ.get("SPLICEANNOT_TORCH", "torch==2.13.0")


@dataclass(frozen=True)
class Tool:
    """A ready-to-run annotator.

    Attributes
    ----------
    key : str
        One of :data:`TOOL_KEYS`.
    label : str
        Name and version for the tables.
    prefix : tuple of str
        The command before the common flags.
    extra : tuple of str
        Tool-specific flags after the common ones.
    info_key : str
        The INFO field its scores go into.
    env : dict
        Environment variables added for its runs.
    versions : dict
        Framework versions (torch, TensorFlow) for the machine description.
    """

    key: str
    label: str
    prefix: tuple[str, ...]
    extra: tuple[str, ...]
    info_key: str
    env: dict = field(default_factory=dict)
    versions: dict = field(default_factory=dict)

    def argv(
        self, vcf_in: Path, vcf_out: Path, fasta: Path, annotation: str, distance: int
    ) -> list[str]:
        """The command line that annotates ``vcf_in`` into ``vcf_out``."""
        common = [
            "-I",
            str(vcf_in),
            "-O",
            str(vcf_out),
            "-R",
            str(fasta),
            "-A",
            annotation,
            "-D",
            str(distance),
        ]
        return [*self.prefix, *common, *self.extra]


@dataclass(frozen=True)
class Unavailable:
    """A tool that could not be set up, and why."""

    key: str
    reason: str


def _capture(argv: list[str], env: dict | None = None) -> str:
    result = subprocess.run(argv, check=False, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        raise RuntimeError(
            f"{' '.join(argv)} exited {result.returncode}: {result.stderr.strip()[-2000:]}"
        )
    return result.stdout


def _package_version(python: str, *distributions: str) -> str:
    """The first installed version among ``distributions`` in ``python``'s environment.

    Read from the package metadata: nothing is imported.
    """
    code = (
        "import importlib.metadata as m, sys\n"
        "for d in sys.argv[1:]:\n"
        "    try:\n        print(m.version(d)); break\n"
        "    except m.PackageNotFoundError:\n        pass\n"
    )
    try:
        return _capture([python, "-c", code, *distributions]).strip() or "?"
    except (RuntimeError, OSError):
        return "?"


def _python_version(python: str) -> str:
    try:
        return _capture([python, "-c", "import platform; print(platform.python_version())"]).strip()
    except (RuntimeError, OSError):
        return "?"


def _script_python(script: Path) -> str:
    """The interpreter named in ``script``'s ``#!`` line (a console script), else this one."""
    try:
        first = script.read_text(errors="replace").splitlines()[0]
    except (OSError, IndexError):
        return sys.executable
    if first.startswith("#!") and "python" in first:
        return first[2:].strip().split()[0]
    return str(script.parent / "python") if (script.parent / "python").exists() else sys.executable


def _run_setup(script: str, log: Path) -> tuple[int, list[str]]:
    """Run a peers/ setup script, its stderr to ``log``; return its exit code and stdout lines."""
    with open(log, "ab") as err:
        command = ["bash", str(PEERS_DIR / script)]
        result = subprocess.run(command, check=False, stdout=subprocess.PIPE, stderr=err, text=True)
    return result.returncode, result.stdout.split()


def setup_spliceai(log: Path) -> Tool | Unavailable:
    """Create (or reuse) the SpliceAI 1.3.1 venv under ``<cache>/peers``."""
    code, lines = _run_setup("setup_spliceai.sh", log)
    if code != 0 or not lines:
        return Unavailable("spliceai", f"setup_spliceai.sh exited {code} (see {log})")
    venv = Path(lines[-1])
    python = str(venv / "bin" / "python")
    return Tool(
        key="spliceai",
        label=LABELS["spliceai"],
        prefix=("bash", str(PEERS_DIR / "run_spliceai.sh")),
        extra=(),
        info_key="SpliceAI",
        env={"SPLICEAI_VENV": str(venv)},
        versions={
            "tensorflow": _package_version(python, "tensorflow-cpu", "tensorflow"),
            "python": _python_version(python),
        },
    )


def setup_openspliceai(log: Path, batch_size: int) -> Tool | Unavailable:
    """Create (or reuse) the OpenSpliceAI 0.0.7 venv and its five MANE 10000-nt models.

    ``batch_size`` > 1 selects OpenSpliceAI's batched inference path (``-b``);
    1 is its original one-window-at-a-time path.
    """
    code, lines = _run_setup("setup_openspliceai.sh", log)
    if code == 3:
        return Unavailable(
            "openspliceai",
            "its MANE 10000-nt models were not found: set OPENSPLICEAI_MODELS_SRC "
            "to a directory holding model_10000nt_rs1[0-4].pt",
        )
    if code != 0 or len(lines) < 2:
        return Unavailable("openspliceai", f"setup_openspliceai.sh exited {code} (see {log})")
    venv, models = Path(lines[-2]), Path(lines[-1])
    python = str(venv / "bin" / "python")
    return Tool(
        key="openspliceai",
        label=LABELS["openspliceai"],
        prefix=("bash", str(PEERS_DIR / "run_openspliceai.sh")),
        extra=("-m", str(models), "-f", "10000", "-t", "pytorch", "-b", str(batch_size)),
        info_key="OpenSpliceAI",
        env={"OPENSPLICEAI_VENV": str(venv)},
        versions={
            "torch": _package_version(python, "torch"),
            "python": _python_version(python),
        },
    )


def find_spliceannot(explicit: str | None) -> Path | None:
    """The spliceannot to measure: ``explicit``, ``$SPLICEANNOT_BIN``, the repo .venv, PATH."""
    for candidate in (
        explicit,
        os.environ.get("SPLICEANNOT_BIN"),
        str(REPO / ".venv" / "bin" / "spliceannot"),
        shutil.which("spliceannot"),
    ):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return Path(candidate).absolute()
    if explicit:
        raise FileNotFoundError(f"--spliceannot {explicit}: not an executable file")
    return None


def install_spliceannot(log: Path) -> Path:
    """Create the repository's .venv with spliceannot installed (editable), as README.md does."""
    venv = REPO / ".venv"
    with open(log, "ab") as err:
        if not (venv / "bin" / "python").exists():
            subprocess.run(
                [sys.executable, "-m", "venv", str(venv)], check=True, stdout=err, stderr=err
            )
        subprocess.run(
            [
                str(venv / "bin" / "python"),
                "-m",
                "pip",
                "install",
                "--quiet",
                TORCH_PIN,
                "-e",
                str(REPO),
            ],
            check=True,
            stdout=err,
            stderr=err,
        )
    return venv / "bin" / "spliceannot"


def setup_spliceannot(
    explicit: str | None, device: str, extra_args: list[str], log: Path
) -> Tool | Unavailable:
    """Find (or install into the repo's .venv) spliceannot and describe how it is run."""
    try:
        executable = find_spliceannot(explicit) or install_spliceannot(log)
    except (FileNotFoundError, subprocess.CalledProcessError) as error:
        return Unavailable("spliceannot", str(error))
    python = _script_python(executable)
    try:
        version = _capture([str(executable), "--version"]).strip().split()[-1]
    except (RuntimeError, OSError, IndexError) as error:
        return Unavailable("spliceannot", f"{executable} --version failed: {error}")
    return Tool(
        key="spliceannot",
        label=f"spliceannot {version}",
        prefix=(str(executable), "annotate"),
        # the speed workloads measure computation: no score cache (the `cache` workload
        # measures the cache on its own)
        extra=("--device", device, "--no-cache", *extra_args),
        info_key="SpliceAI",
        env={},
        versions={
            "torch": _package_version(python, "torch"),
            "python": _python_version(python),
            "executable": str(executable),
        },
    )


def find_gene_table(tools: list[Tool], name: str = "grch38") -> Path:
    """SpliceAI's packaged gene table ``name``.

    Looked up without importing ``spliceai`` in the SpliceAI venv, then in
    spliceannot's (which installs spliceai for its weights), then in the
    default SpliceAI venv location, then in OpenSpliceAI's package, which
    ships the same file.
    """
    default_venv = os.environ.get("SPLICEAI_VENV") or str(peers_dir() / "spliceai131")
    pythons = []
    for tool in tools:
        if tool.key == "spliceai":
            pythons.append(str(Path(tool.env["SPLICEAI_VENV"]) / "bin" / "python"))
        elif tool.key == "spliceannot":
            pythons.append(_script_python(Path(tool.versions["executable"])))
    pythons.append(str(Path(default_venv) / "bin" / "python"))  # set up by an earlier run
    code = (
        "import importlib.util; "
        "print(importlib.util.find_spec('spliceai').submodule_search_locations[0])"
    )
    for python in pythons:
        try:
            table = Path(_capture([python, "-c", code]).strip()) / "annotations" / f"{name}.txt"
        except (RuntimeError, OSError):
            continue
        if table.exists():
            return table
    for tool in tools:  # OpenSpliceAI ships the same file
        table = openspliceai_gene_table(tool, name) if tool.key == "openspliceai" else None
        if table:
            return table
    raise FileNotFoundError(
        f"SpliceAI's {name}.txt not found (is spliceai==1.3.1 installed in a venv?)"
    )


def openspliceai_gene_table(tool: Tool, name: str = "grch38") -> Path | None:
    """OpenSpliceAI's packaged copy of the gene table ``name``, if present."""
    venv = tool.env.get("OPENSPLICEAI_VENV", "")
    hits = glob.glob(
        os.path.join(
            venv,
            "lib",
            "python*",
            "site-packages",
            "openspliceai",
            "variant",
            "annotations",
            f"{name}.txt",
        )
    )
    return Path(hits[0]) if hits else None


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
