"""Small building blocks for the fast tests: a tiny seeded model, VCFs, tables.

Nothing here needs the real SpliceAI weights.  The tiny model is an ensemble
of two flank-80 networks with seeded random weights; its head is scaled so
that delta scores are far from 0.00 and a wrong window or a wrong alignment
shows up in the printed numbers.
"""

from __future__ import annotations

import gzip
import re
import subprocess
from collections.abc import Iterable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
FASTA = EXAMPLES / "chr16_region.fa.gz"
VARIANTS = EXAMPLES / "variants.vcf"
VARIANTS_GZ = EXAMPLES / "variants.vcf.gz"
CLI_DATA = Path(__file__).resolve().parent / "data" / "cli"
CHR16_LENGTH = 397_118

TINY_FLANK = 80
TINY_SEEDS = (11, 12)

# SpliceAI 1.3.1's header line, byte for byte (from SPEC.md).
SPLICEAI_HEADER = (
    '##INFO=<ID=SpliceAI,Number=.,Type=String,Description="SpliceAIv1.3.1 variant annotation. '
    "These include delta scores (DS) and delta positions (DP) for acceptor gain (AG), "
    "acceptor loss (AL), donor gain (DG), and donor loss (DL). "
    'Format: ALLELE|SYMBOL|DS_AG|DS_AL|DS_DG|DS_DL|DP_AG|DP_AL|DP_DG|DP_DL">'
)

VCF_COLUMNS = "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO"
TABLE_HEADER = "#NAME\tCHROM\tSTRAND\tTX_START\tTX_END\tEXON_START\tEXON_END"


# --------------------------------------------------------------------------- model


def tiny_members(seeds: Sequence[int] = TINY_SEEDS):
    """Flank-80 SpliceAI networks with seeded weights that give visible scores."""
    import torch

    from spliceannot.engine.architecture import Architecture
    from spliceannot.engine.model import SpliceAI

    members = []
    for seed in seeds:
        torch.manual_seed(seed)
        member = SpliceAI(Architecture(flank=TINY_FLANK))
        with torch.no_grad():
            for module in member.modules():
                if isinstance(module, torch.nn.BatchNorm1d):
                    module.running_mean.normal_(0.0, 0.1)
                    module.running_var.uniform_(0.5, 1.5)
                    module.weight.normal_(1.0, 0.2)
                    module.bias.normal_(0.0, 0.2)
            # large head weights: probabilities swing with the sequence; the
            # bias keeps "neither" the usual winner, as in a real model
            member.head.weight.mul_(20.0)
            member.head.bias.copy_(torch.tensor([4.0, -1.0, -1.0]))
        members.append(member.eval())
    return members


def tiny_ensemble(flank: int, seed: int = 0, members: int = 2):
    """A LoadedModel of random networks whose BatchNorm statistics and head make visible, varied scores."""
    import torch

    from spliceannot.engine.architecture import Architecture
    from spliceannot.engine.model import Ensemble, SpliceAI
    from spliceannot.engine.weights import LoadedModel

    torch.manual_seed(seed)
    nets = []
    for _ in range(members):
        net = SpliceAI(Architecture(flank=flank))
        with torch.no_grad():
            for module in net.modules():
                if isinstance(module, torch.nn.BatchNorm1d):
                    module.running_mean.uniform_(-0.5, 0.5)
                    module.running_var.uniform_(0.5, 2.0)
            net.head.weight.mul_(20)
        nets.append(net.eval())
    return LoadedModel(ensemble=Ensemble(nets).eval(), name=f"tiny{flank}", digest="0")


def write_tiny_checkpoint(path: Path) -> Path:
    from spliceannot.engine.weights import save_checkpoint

    save_checkpoint(path, tiny_members())
    return path


# --------------------------------------------------------------------------- VCF text


def vcf_text(
    records: Iterable[Sequence],
    *,
    contigs: Sequence[tuple[str, int]] = (("chr16", CHR16_LENGTH),),
    extra_header: Sequence[str] = (),
) -> str:
    """A VCFv4.2 text from ``(chrom, pos, id, ref, alt)`` tuples (QUAL ., FILTER PASS, INFO .)."""
    lines = ["##fileformat=VCFv4.2"]
    lines += [f"##contig=<ID={name},length={length}>" for name, length in contigs]
    lines += list(extra_header)
    lines.append(VCF_COLUMNS)
    for chrom, pos, ident, ref, alt in records:
        lines.append(f"{chrom}\t{pos}\t{ident}\t{ref}\t{alt}\t.\tPASS\t.")
    return "\n".join(lines) + "\n"


def example_lines() -> tuple[list[str], list[str]]:
    """Header lines and data lines (with newline) of ``examples/variants.vcf``."""
    header, data = [], []
    with open(VARIANTS) as handle:
        for line in handle:
            (header if line.startswith("#") else data).append(line)
    return header, data


def write_subset(path: Path, ids: Iterable[str] | None = None, *, first: int | None = None) -> Path:
    """Write the example VCF's header and the records with these IDs (or the first N)."""
    header, data = example_lines()
    if ids is not None:
        wanted = set(ids)
        data = [line for line in data if line.split("\t")[2] in wanted]
    if first is not None:
        data = data[:first]
    path.write_text("".join(header + data))
    return path


def read_text(path: Path) -> str:
    """The text of a VCF, bgzipped VCF or BCF (the last two through bcftools)."""
    path = Path(path)
    with open(path, "rb") as handle:
        magic = handle.read(4)
    if magic[:2] == b"\x1f\x8b":
        with gzip.open(path, "rb") as handle:
            data = handle.read()
    else:
        data = path.read_bytes()
    if data.startswith(b"BCF"):
        return bcftools("view", "--no-version", str(path))
    return data.decode()


def split_vcf(text: str) -> tuple[list[str], list[str]]:
    """Header lines and data lines of VCF text (no newlines)."""
    lines = text.splitlines()
    return [l for l in lines if l.startswith("#")], [
        l for l in lines if l and not l.startswith("#")
    ]


def data_lines(text: str) -> list[str]:
    return split_vcf(text)[1]


def key_columns(lines: Iterable[str]) -> list[tuple[str, ...]]:
    """CHROM, POS, ID, REF, ALT of each data line."""
    return [tuple(line.split("\t")[:5]) for line in lines]


def info_value(line: str, key: str = "SpliceAI") -> str | None:
    """The value of INFO ``key`` in a data line, or None."""
    for item in line.split("\t")[7].split(";"):
        name, _, value = item.partition("=")
        if name == key:
            return value
    return None


def spliceai_by_id(text: str) -> dict[str, str | None]:
    """ID -> SpliceAI INFO value for every record."""
    return {line.split("\t")[2]: info_value(line) for line in data_lines(text)}


def parse_entries(value: str) -> list[dict]:
    """SpliceAI INFO entries as dicts: alt, name, ds (4 floats or None), dp (4 ints or None)."""
    entries = []
    for entry in value.split(","):
        fields = entry.split("|")
        assert len(fields) == 10, entry
        alt, name, *rest = fields
        if rest[0] == ".":
            entries.append({"alt": alt, "name": name, "ds": None, "dp": None})
        else:
            entries.append(
                {
                    "alt": alt,
                    "name": name,
                    "ds": [float(x) for x in rest[:4]],
                    "dp": [int(x) for x in rest[4:]],
                }
            )
    return entries


SUMMARY = re.compile(
    r"records read (\d+), written (\d+), scored (\d+)(?: \((?:(\d+) from the cache)?(?:, )?"
    r"(?:(\d+) from precomputed files)?\))?, passed through (\d+)(?: \((.*)\))?; "
)


def parse_summary(stderr: str) -> dict:
    """The counts of the ``annotate`` summary line on stderr."""
    lines = [l for l in stderr.splitlines() if "records read" in l]
    assert len(lines) == 1, stderr
    match = SUMMARY.search(lines[0])
    assert match, lines[0]
    read, written, scored, cached, precomputed, passed, reasons = match.groups()
    by_reason = {
        reason: int(count) for reason, count in re.findall(r"(.+?): (\d+)(?:, |$)", reasons or "")
    }
    return {
        "read": int(read),
        "written": int(written),
        "scored": int(scored),
        "from_cache": int(cached or 0),
        "from_precomputed": int(precomputed or 0),
        "passed": int(passed),
        "reasons": by_reason,
    }


# --------------------------------------------------------------------------- tables


def table_text(rows: Iterable[Sequence]) -> str:
    """A SpliceAI-style table.

    ``rows`` are ``(name, chrom, strand, tx_start, tx_end, exon_starts, exon_ends)``.
    """
    lines = [TABLE_HEADER]
    for name, chrom, strand, tx_start, tx_end, starts, ends in rows:
        lines.append(
            "\t".join(
                [
                    name,
                    chrom,
                    strand,
                    str(tx_start),
                    str(tx_end),
                    "".join(f"{s}," for s in starts),
                    "".join(f"{e}," for e in ends),
                ]
            )
        )
    return "\n".join(lines) + "\n"


def builtin_rows(name: str, chroms: set[str]) -> list[str]:
    """Lines of SpliceAI's bundled table on these contigs, in file order."""
    from spliceannot.readers.annotation import builtin_table_path

    with open(builtin_table_path(name)) as handle:
        lines = handle.read().splitlines()
    return [line for line in lines[1:] if line.split("\t")[1] in chroms]


# --------------------------------------------------------------------------- tools


def bcftools(*args: str, input: str | None = None) -> str:
    """Run bcftools and return its standard output (raises on failure)."""
    done = subprocess.run(
        ["bcftools", *args], input=input, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise AssertionError(f"bcftools {' '.join(args)} failed: {done.stderr}")
    return done.stdout
