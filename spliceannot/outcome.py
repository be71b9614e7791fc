"""What became of each record (:class:`Outcome`), the run's counts (:class:`Summary`)
and the warning a summary can carry when a run looks mis-configured."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import NamedTuple

# Why a record passed through unscored (keys of Summary.passed).
NO_ALT = "no ALT allele"
NO_GENE = "no overlapping gene"
NO_CONTIG = "contig not in FASTA"
CHROM_END = "too close to the contig end"
REF_MISMATCH = "REF does not match the FASTA"
REF_TOO_LONG = "REF longer than 2*D"
NO_SCORABLE_ALT = "no scorable ALT (symbolic, *, . or -)"
UNSUPPORTED_VARIANT = "variant format not supported (Pangolin: REF or ALT without A/C/G/T, or both longer than 1 and unequal)"

# What a scored record's scores came from (Outcome.source).
COMPUTED = "computed"
FROM_CACHE = "cache"
FROM_PRECOMPUTED = "precomputed"

# A detail of a pass-through reason that points at a set-up mistake (Outcome.hint).
CONTIG_NOT_ANNOTATED = "contig not in the annotation"


class HaplotypeEntries(NamedTuple):
    """One local haplotype's result (``annotate --haplotypes``): the ALT's entries on it (None: an
    ALT that is not scored) and how many of its cis variants were left out because their REF does
    not match the FASTA."""

    entries: tuple[str, ...] | None
    refmismatch: int = 0


@dataclass
class Outcome:
    """The result for one record: INFO entries, or the reason it was not scored.

    ``source`` says where a scored record's numbers came from: ``computed``
    when any of them was computed, else ``cache`` when any came from the
    score cache, else ``precomputed`` (None: only entries SpliceAI prints as
    dots).  It is left out of comparisons: the same numbers are equal
    outcomes wherever they came from.
    """

    entries: list[str] = field(default_factory=list)
    reason: str | None = None
    # per ALT: (DS_AG, DS_AL, DS_DG, DS_DL, DP_AG, DP_AL, DP_DG, DP_DL): each DS
    # the maximum over genes, each DP that of the gene giving its DS; or None
    per_allele: list[tuple | None] = field(default_factory=list)
    source: str | None = field(default=None, compare=False)  # equal outcomes whatever their origin
    hint: str | None = None
    # INFO fields of other models scored in the same pass (``Pangolin``), key -> value
    fields: dict[str, str | float] = field(default_factory=dict)
    # models of the same pass that did not score the record: INFO key -> reason
    skipped: dict[str, str] = field(default_factory=dict)
    # per CisContext of the record (``annotate --haplotypes``), in the record's order
    haplotypes: list[HaplotypeEntries] = field(default_factory=list)
    # the reference tool's own words for a pass-through (Pangolin's warning), for drop-in commands
    message: str | None = field(default=None, compare=False)


@dataclass
class Summary:
    """Counts for the end-of-run line."""

    read: int = 0
    written: int = 0
    scored: int = 0
    from_cache: int = 0  # scored records whose every score came from the score cache
    from_precomputed: int = 0  # ... from --precomputed files (and the cache)
    passed: Counter = field(default_factory=Counter)
    hints: Counter = field(default_factory=Counter)  # Outcome.hint counts, for setup_warning
    examples: dict = field(default_factory=dict)  # reason or hint -> the first CHROM it was seen on
    seconds: float = 0.0
    lines: int | None = None  # --output-mode per-gene: lines written
    omitted: int | None = None  # --output-mode per-gene: records without scores, left out
    retried: int = 0  # --engine ray: shards sent again after the worker running them died
    # models scored beside the first (INFO key): records they scored, and why they passed others through
    beside: dict = field(default_factory=dict)

    def count(self, record, outcome: Outcome) -> None:
        """Count one record's outcome (``record``: anything with ``chrom``)."""
        self.read += 1
        if outcome.reason is not None:
            self.passed[outcome.reason] += 1
            self.examples.setdefault(outcome.reason, record.chrom)
            if outcome.hint is not None:
                self.hints[outcome.hint] += 1
                self.examples.setdefault(outcome.hint, record.chrom)
        elif outcome.entries or outcome.fields:
            self.scored += 1
            if outcome.source == FROM_CACHE:
                self.from_cache += 1
            elif outcome.source == FROM_PRECOMPUTED:
                self.from_precomputed += 1
        if outcome.entries:  # a SpliceAI pass: other models are counted on their own
            for key in outcome.fields:
                self.beside.setdefault(key, Counter())["scored"] += 1
            for key, reason in outcome.skipped.items():
                self.beside.setdefault(key, Counter())[reason] += 1
        elif outcome.reason is not None and outcome.skipped:
            for key, reason in outcome.skipped.items():
                self.beside.setdefault(key, Counter())[reason] += 1

    def line(self) -> str:
        reasons = ", ".join(f"{reason}: {n}" for reason, n in sorted(self.passed.items()))
        unscored = sum(self.passed.values())
        scored = f"scored {self.scored}"
        sources = [
            f"{n} {what}"
            for n, what in ((self.from_cache, "from the cache"), (self.from_precomputed, "from precomputed files"))
            if n
        ]
        if sources:
            scored += f" ({', '.join(sources)})"
        if self.lines is None:
            text = f"records read {self.read}, written {self.written}, {scored}, passed through {unscored}"
        else:
            text = (
                f"records read {self.read}, {scored}, per-gene lines written {self.lines}, "
                f"records without scores left out {self.omitted}"
            )
        if reasons:
            text += f" ({reasons})"
        for key, counts in self.beside.items():
            others = ", ".join(f"{reason}: {n}" for reason, n in sorted(counts.items()) if reason != "scored")
            text += f"; {key}: scored {counts['scored']}, passed through {sum(counts.values()) - counts['scored']}"
            text += f" ({others})" if others else ""
        if self.retried:
            text += f"; {self.retried} shard(s) scored again after a worker was lost"
        rate = self.read / self.seconds if self.seconds > 0 else 0.0
        return text + f"; {self.seconds:.1f} s, {rate:.2f} records/s"


def setup_warning(summary: Summary, *, reference: str, annotation: str) -> str | None:
    """One line naming the likely set-up mistake when nothing, or mostly nothing, was scored.

    Returns None when the run looks healthy: some records scored and no
    reason that points at a mistake (contigs the FASTA lacks, REF alleles
    that differ from the FASTA, contigs the annotation lacks) covers more
    than half of the records read.
    """
    if summary.read == 0:
        return None
    counts = Counter(summary.passed)
    counts.update(summary.hints)
    nothing = summary.scored == 0
    most = summary.read / 2

    def share(key: str) -> bool:
        return counts[key] > most or nothing and counts[key] > 0 and counts[key] == max(counts.values())

    def example(key: str) -> str:
        return repr(summary.examples.get(key, "?"))

    lead = "no record was scored" if nothing else f"{{n}} of {summary.read} records"
    if share(NO_CONTIG):
        return (
            f"{lead.format(n=counts[NO_CONTIG])}: contigs not in the FASTA {reference} (e.g. {example(NO_CONTIG)}); "
            "do -R and the VCF use the same genome and contig names?"
        )
    if share(REF_MISMATCH):
        return (
            f"{lead.format(n=counts[REF_MISMATCH])}: REF does not match the FASTA {reference}; "
            "is -R the genome build the VCF was called on (GRCh37 vs GRCh38)?"
        )
    if share(CONTIG_NOT_ANNOTATED):
        return (
            f"{lead.format(n=counts[CONTIG_NOT_ANNOTATED])}: contigs not in the annotation {annotation} "
            f"(e.g. {example(CONTIG_NOT_ANNOTATED)}); does -A match the VCF's genome and contig names?"
        )
    if nothing and summary.passed:
        reason = max(summary.passed, key=summary.passed.get)
        return f"no record was scored: {reason} for {summary.passed[reason]} of {summary.read} records"
    return None
