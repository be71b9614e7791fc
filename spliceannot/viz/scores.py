"""Reading a VCF annotated by spliceannot or SpliceAI: each record's best entry, the top ones, the run."""

from __future__ import annotations

import heapq
import itertools
import shlex
from dataclasses import dataclass, field

from spliceannot.encoding import iupac_encoding
from spliceannot.entry import INFO_KEY, EntryScores
from spliceannot.errors import InputError
from spliceannot.values import Variant

HEADER_PREFIXES = ("##spliceannot", "##source", "##reference", "##fileDate", "##INFO=<ID=SpliceAI,")


@dataclass(frozen=True)
class ScoredRecord:
    """A VCF record and its SpliceAI entries; ``index`` is its 0-based order in the file."""

    index: int
    chrom: str
    pos: int
    ident: str
    ref: str
    alts: tuple[str, ...]
    entries: tuple[EntryScores, ...]

    @property
    def best(self) -> EntryScores:
        """The entry with the largest delta score."""
        return max((e for e in self.entries if e.scores), key=lambda e: e.maximum)

    @property
    def maximum(self) -> float:
        return self.best.maximum

    @property
    def variant(self) -> Variant:
        return Variant(self.chrom, self.pos, self.ref, self.best.allele)


@dataclass
class ScoreSummary:
    """What the report shows of a whole VCF."""

    path: str
    records: int = 0
    scored: int = 0
    maxima: list[float] = field(default_factory=list)
    top: list[ScoredRecord] = field(default_factory=list)
    header: list[str] = field(default_factory=list)

    @property
    def command(self) -> str | None:
        """The ``##spliceannotCommand`` value, if the file has one."""
        for line in self.header:
            if line.startswith("##spliceannotCommand="):
                return line.split("=", 1)[1]
        return None


def read_scores(path: str, top: int = 10) -> ScoreSummary:
    """Scan an annotated VCF: every record's largest delta score and the ``top`` records by it.

    Raises
    ------
    InputError
        Unreadable input, or a VCF without the SpliceAI INFO field.
    """
    from spliceannot.readers.vcf import open_variants

    # own_info=(): keep the input's SpliceAI definition, its values are what is read here
    handle = open_variants(path, own_info=())
    summary = ScoreSummary(path)
    try:
        summary.header = [
            line for line in str(handle.header).splitlines() if line.startswith(HEADER_PREFIXES)
        ]
        if INFO_KEY not in handle.header.info:
            raise InputError(f"{path}: no SpliceAI INFO field in the header (annotate it first)")
        heap: list[tuple[float, int, ScoredRecord]] = []
        for item in handle.records():
            summary.records += 1
            scored = _scored_record(summary.records - 1, item.record, path)
            if scored is None:
                continue
            summary.scored += 1
            summary.maxima.append(scored.maximum)
            item = (scored.maximum, -scored.index, scored)
            if len(heap) < top:
                heapq.heappush(heap, item)
            elif top:
                heapq.heappushpop(heap, item)
    finally:
        handle.close()
    summary.top = [item[2] for item in sorted(heap, key=lambda i: (-i[0], -i[1]))]
    return summary


def _scored_record(index: int, record, path: str) -> ScoredRecord | None:
    """The record with its parsed entries, or None when it has no numeric entry."""
    value = record.info.get(INFO_KEY)
    if not value:
        return None
    texts = value if isinstance(value, tuple) else (value,)
    try:
        entries = tuple(EntryScores.parse(text) for text in texts)
    except ValueError as error:
        raise InputError(f"{path}: {record.chrom}:{record.pos}: {error}") from None
    if not any(e.scores for e in entries):
        return None
    return ScoredRecord(
        index,
        record.chrom,
        record.pos,
        record.id or ".",
        record.ref or "",
        tuple(record.alts or ()),
        entries,
    )


_FLAGS = {
    "-R": "reference",
    "-A": "annotation",
    "-D": "distance",
    "-M": "mask",
    "-m": "model",
    "--model": "model",
    "--transcripts": "transcripts",
    "--iupac": "iupac",
}


def command_options(command: str | None) -> dict[str, str]:
    """``-R/-A/-D/-M/-m/--transcripts/--iupac`` of an ``annotate`` command line (``##spliceannotCommand``)."""
    if not command:
        return {}
    try:
        words = shlex.split(command)
    except ValueError:
        return {}
    found = {}
    for flag, value in itertools.pairwise(words):
        if flag in _FLAGS:
            found[_FLAGS[flag]] = value
    for word in words:
        name, sep, value = word.partition("=")
        if sep and name in _FLAGS:
            found[_FLAGS[name]] = value
    return found


def report_settings(summary: ScoreSummary, overrides: dict):
    """The :class:`~spliceannot.pipeline.AnnotateSettings` to redraw the top variants with.

    Options given on the report's command line (``overrides``, None = not
    given) win over those of the ``##spliceannotCommand`` line.
    """
    from spliceannot.pipeline import AnnotateSettings

    found = command_options(summary.command)
    chosen = {key: value for key, value in found.items()}
    chosen.update({key: value for key, value in overrides.items() if value is not None})
    missing = [
        flag for flag, key in (("-R", "reference"), ("-A", "annotation")) if not chosen.get(key)
    ]
    if missing:
        raise InputError(
            f"{summary.path}: the header names no {' or '.join(missing)} to redraw the variants with; "
            "give them (or --no-plots)"
        )
    try:
        return AnnotateSettings(
            reference=chosen["reference"],
            annotation=chosen["annotation"],
            model=chosen.get("model", "spliceai"),
            distance=int(chosen.get("distance", 50)),
            mask=bool(int(chosen.get("mask", 0))),
            transcripts=chosen.get("transcripts", "canonical"),
            encoding=iupac_encoding(chosen.get("iupac")),
            device=overrides.get("device") or "auto",
            batch_size=int(overrides.get("batch_size") or 32),
            workers=1,
            cache=None,
        )
    except ValueError:
        raise InputError(
            f"{summary.path}: cannot read -D/-M from ##spliceannotCommand={summary.command}"
        ) from None
