"""Find the worked example of docs/haplotypes.md: two SNVs in cis on real sequence whose haplotype
score differs from both single scores by more than 0.2.

Candidates: pairs of SNVs 1-3 bp apart within 40 bp of an exon boundary of the example region's
genes (examples/chr16_region.fa.gz, SpliceAI's grch38 table), whose two new bases together make a
splice dinucleotide (AG or GT on the gene's strand) that neither makes alone.  Each pair is scored
with SpliceAI's weights as ``annotate --haplotypes combined`` scores it (and singly, as INFO);
the pairs are ranked by how far the haplotype's largest delta score lies from both singles'.

    .venv/bin/python benchmarks/haplotype_example.py [--limit N] > benchmarks/out/haplotype_example.tsv
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FASTA = ROOT / "examples" / "chr16_region.fa.gz"
COMPLEMENT = {"A": "T", "C": "G", "G": "C", "T": "A"}


def candidates(reference, annotation, limit: int):
    """(gene, strand, v1, v2): adjacent-ish SNV pairs that together make a new AG/GT."""
    from spliceannot.values import Variant

    seen = set()
    found = []
    for transcript in annotation.transcripts:
        if transcript.chrom not in ("16", "chr16"):
            continue
        boundaries = [*transcript.exon_starts[1:], *transcript.exon_ends[:-1]]
        for boundary in boundaries:
            for pos in range(boundary - 40, boundary + 40):  # 1-based first base of the dinucleotide
                if pos < 6000 or pos > 390_000:
                    continue
                text = reference.fetch("chr16", pos - 1, pos + 1).upper()
                for motif in ("AG", "GT"):
                    forward = motif if transcript.strand == "+" else "".join(COMPLEMENT[b] for b in reversed(motif))
                    if text[0] == forward[0] or text[1] == forward[1] or "N" in text:
                        continue
                    key = (pos, forward)
                    if key in seen:
                        continue
                    seen.add(key)
                    v1 = Variant("chr16", pos, text[0], forward[0])
                    v2 = Variant("chr16", pos + 1, text[1], forward[1])
                    found.append((transcript.name, transcript.strand, motif, v1, v2))
    return found[:limit] if limit else found


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--limit", type=int, default=0)
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    from spliceannot.entry import EntryScores
    from spliceannot.factory import ScorerSpec, build_scorer
    from spliceannot.values import CisContext, Record

    scorer = build_scorer(ScorerSpec(reference=str(FASTA), annotation="grch38", haplotypes="combined"))
    pairs = candidates(scorer.reference, scorer.annotation, args.limit)
    print(f"{len(pairs)} candidate pairs", file=sys.stderr)
    print("gene\tstrand\tmotif\tv1\tv2\tsingle_v1\tsingle_v2\thaplotype\tmargin")
    for index in range(0, len(pairs), 16):
        chunk = pairs[index : index + 16]
        records = []
        for _, _, _, v1, v2 in chunk:
            records.append(Record("chr16", v1.pos, v1.ref, (v1.alt,), contexts=(CisContext(v1.alt, (v2,)),)))
            records.append(Record("chr16", v2.pos, v2.ref, (v2.alt,)))
        outcomes = scorer.score(records)
        for (gene, strand, motif, v1, v2), first, second in zip(chunk, outcomes[::2], outcomes[1::2]):
            if first.reason is not None or second.reason is not None or not first.haplotypes:
                continue

            def best(entries, gene=gene):
                values = [EntryScores.parse(e) for e in entries if e.split("|")[1] == gene]
                return max((max(float(s) for s in v.scores) for v in values if v.scores), default=0.0)

            one, two = best(first.entries), best(second.entries)
            both = best(first.haplotypes[0][0] or ())
            margin = min(abs(both - one), abs(both - two))
            label = lambda v: f"{v.chrom}:{v.pos}:{v.ref}:{v.alt}"
            print(f"{gene}\t{strand}\t{motif}\t{label(v1)}\t{label(v2)}\t{one:.2f}\t{two:.2f}\t{both:.2f}\t{margin:.2f}",
                  flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
