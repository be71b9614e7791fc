"""The entry points: `spliceannot`, `python -m spliceannot`, lazy subcommands."""

from __future__ import annotations

import subprocess
import sys

from click.testing import CliRunner

from spliceannot import __version__
from spliceannot.cli import COMMANDS, main


def test_help_lists_every_command_without_importing_torch():
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from spliceannot.cli import main\n"
        "result = CliRunner().invoke(main, ['--help'])\n"
        "assert result.exit_code == 0, result.output\n"
        "print(result.output)\n"
        "print('TORCH' if 'torch' in sys.modules else 'NO-TORCH')\n"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert output.strip().endswith("NO-TORCH")
    for name in COMMANDS:
        assert name in output


def test_python_dash_m_is_the_same_entry_point():
    result = subprocess.run([sys.executable, "-m", "spliceannot", "--version"], capture_output=True, text=True)
    assert result.returncode == 0 and __version__ in result.stdout


def test_every_registered_command_loads_and_has_help():
    runner = CliRunner()
    for name in COMMANDS:
        result = runner.invoke(main, [name, "--help"])
        assert result.exit_code == 0, (name, result.output)
        assert "Usage:" in result.output


def test_unknown_command_is_a_usage_error():
    result = CliRunner().invoke(main, ["frobnicate"])
    assert result.exit_code == 2
