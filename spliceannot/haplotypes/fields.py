"""The FORMAT fields of ``annotate --haplotypes``: their header lines and per-sample values.

- ``SpliceAI_H1``, ``SpliceAI_H2``: the record's ALT on haplotype 1 (GT's
  first allele) / 2, scored in that haplotype: SpliceAI's entries
  ``ALLELE|SYMBOL|DS_AG|DS_AL|DS_DG|DS_DL|DP_AG|DP_AL|DP_DG|DP_DL``, one
  per gene; ``.`` where the haplotype carries no ALT of the record.
- ``SpliceAI_H1_CIS``, ``SpliceAI_H2_CIS``: the other variants in that
  haplotype's sequence, ``POS-REF-ALT`` (FORMAT values cannot hold ``:``); ``.`` when none.
- ``SpliceAI_HFLAG``: ALTs in reach left out of the sample's haplotypes,
  ``unphased=N``, ``overlap=N``, ``symbolic=N``, ``refmismatch=N``; ``.`` when none.
"""

from __future__ import annotations

from spliceannot.haplotypes.contexts import HaplotypeItem
from spliceannot.outcome import Outcome

KEYS = ("SpliceAI_H1", "SpliceAI_H2", "SpliceAI_H1_CIS", "SpliceAI_H2_CIS", "SpliceAI_HFLAG")
_ENTRY = "ALLELE|SYMBOL|DS_AG|DS_AL|DS_DG|DS_DL|DP_AG|DP_AL|DP_DG|DP_DL"
_MODE_TEXT = {
    "background": "with the haplotype's other variants in both the reference and the alternate sequence",
    "combined": "as the whole local haplotype (all its variants) against the reference genome",
}


def header_lines(mode: str) -> list[str]:
    """The FORMAT header lines (``mode``: background or combined)."""
    lines = []
    for number in (1, 2):
        lines.append(
            f'##FORMAT=<ID=SpliceAI_H{number},Number=.,Type=String,Description="SpliceAIv1.3.1 variant '
            f"annotation of the ALT on haplotype {number} (GT allele {number}), scored {_MODE_TEXT[mode]} "
            f'(--haplotypes {mode}); . = no ALT of this record on it. Format: {_ENTRY}">'
        )
    for number in (1, 2):
        lines.append(
            f'##FORMAT=<ID=SpliceAI_H{number}_CIS,Number=.,Type=String,Description="Other variants in the '
            f'sequence of haplotype {number} when SpliceAI_H{number} was scored. Format: POS-REF-ALT">'
        )
    lines.append(
        '##FORMAT=<ID=SpliceAI_HFLAG,Number=.,Type=String,Description="ALTs within reach left out of this '
        "sample's haplotypes: unphased (phase with this record unknown), overlap (overlapping this record or "
        'another cis ALT), symbolic (not sequence), refmismatch (REF not in the FASTA). Format: REASON=COUNT">'
    )
    return lines


def sample_values(item: HaplotypeItem, outcome: Outcome) -> list[list[str]] | None:
    """Per sample, the values of :data:`KEYS`; None when the record was not scored."""
    if outcome.reason is not None or item.assignment is None or not outcome.entries:
        return None
    results = outcome.haplotypes
    values = []
    for sample, pair in enumerate(item.assignment):
        entries, cis, refmismatch = [], [], 0
        for index in pair:
            if index < 0 or index >= len(results) or results[index].entries is None:
                entries.append(".")
                cis.append(".")
                continue
            texts, mismatched = results[index].entries, results[index].refmismatch
            entries.append(",".join(texts) if texts else ".")
            variants = item.contexts[index].cis
            cis.append(",".join(f"{v.pos}-{v.ref}-{v.alt}" for v in variants) if variants else ".")
            refmismatch += mismatched
        flags = dict(item.flags[sample]) if item.flags else {}
        if refmismatch:
            flags["refmismatch"] = refmismatch
        flag = ",".join(f"{name}={count}" for name, count in sorted(flags.items())) or "."
        values.append([entries[0], entries[1], cis[0], cis[1], flag])
    return values
