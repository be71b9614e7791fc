"""Transcript rows from the features one pass over a GTF/GFF3 gathered.

Each transcript with exons on its own chromosome and strand becomes a row
named for its gene (the top of its ``Parent`` chain); ``canonical`` keeps
one row per gene, ``all`` every row.  The features come from
:mod:`spliceannot.readers.gtf_features`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from spliceannot.readers.gtf_features import (
    GENE_BIOTYPE_KEYS,
    GENE_NAME_KEYS,
    SKIP_NO_EXONS,
    SKIP_TRANS_SPLICED,
    SKIP_UNSTRANDED,
    TRANSCRIPT_BIOTYPE_KEYS,
    TRANSCRIPT_GENE_NAME_KEYS,
    Collector,
    Feature,
    Key,
    first_value,
    is_transcript_type,
    split_values,
)
from spliceannot.readers.transcript import GeneModels, Transcript

# Tag values (lower case, spaces as underscores) that mark a gene's canonical
# transcript, with their priority.  RefSeq spells MANE_Select "MANE Select".
CANONICAL_TAGS = {"ensembl_canonical": 2, "mane_select": 1}


def build_gene_models(
    collector: Collector, *, transcripts: str, biotype: str | None
) -> tuple[GeneModels, int]:
    """The rows, and how many transcripts with exons there were before the biotype filter."""
    features, skipped = collector.features, collector.skipped
    usable = 0
    # gene key -> [(preference, file order, row)]
    by_gene: dict[Key, list[tuple[tuple[int, ...], int, Transcript]]] = {}
    for key, parts in collector.exons.items():
        transcript = features.get(key) or collector.implied[key]
        if transcript.strand not in ("+", "-"):
            skipped[SKIP_UNSTRANDED] += 1
            continue
        exons = _parts_on(transcript, parts, collector.loci, skipped)
        if not exons:
            skipped[SKIP_NO_EXONS] += 1
            continue
        usable += 1
        gene_key, gene = _gene_of(key, transcript, features)
        if biotype is not None and not _biotype_matches(biotype, transcript, gene):
            continue
        row = Transcript(
            name=_gene_name(gene_key, gene, transcript),
            chrom=transcript.chrom,
            strand=transcript.strand,
            tx_start=exons[0][0],
            tx_end=max(end for _, end in exons),
            exon_starts=tuple(start for start, _ in exons),
            exon_ends=tuple(end for _, end in exons),
        )
        cds = _parts_on(transcript, collector.cds.get(key, ()), collector.loci, None)
        preference = (
            _tag_rank(transcript),
            sum(end - start for start, end in cds),
            sum(end - start for start, end in exons),
            row.tx_end - row.tx_start,
            -transcript.order,
        )
        by_gene.setdefault(gene_key, []).append((preference, transcript.order, row))
    without_exons = {key for key in collector.cds if key not in collector.exons}
    without_exons.update(
        key
        for key, feature in features.items()
        if key not in collector.exons and is_transcript_type(feature.type)
    )
    skipped[SKIP_NO_EXONS] += len(without_exons)

    if transcripts == "canonical":
        chosen = [max(rows, key=lambda item: item[0]) for rows in by_gene.values()]
    else:
        chosen = [item for rows in by_gene.values() for item in rows]
    chosen.sort(key=lambda item: item[1])  # file order breaks the ties of the sort below
    rank = collector.chrom_rank
    rows = sorted((row for *_, row in chosen), key=lambda t: (rank[t.chrom], t.tx_start, t.name))
    models = GeneModels(
        transcripts=rows,
        genes=len(by_gene),
        candidates=sum(len(rows) for rows in by_gene.values()),
        skipped={reason: count for reason, count in skipped.items() if count},
    )
    return models, usable


def _parts_on(
    transcript: Feature,
    parts: Sequence[int],
    loci: dict[tuple[str, str], int],
    skipped: Counter | None,
) -> list[tuple[int, int]]:
    """Distinct sorted ``(start, end)`` of the parts on the transcript's chromosome and strand.

    ``parts`` holds flat ``(locus, start, end)`` triples.  Parts elsewhere
    (trans-splicing) are left out and, if ``skipped`` is given, counted there.
    """
    home = loci.get((transcript.chrom, transcript.strand))
    kept = set()
    for i in range(0, len(parts), 3):
        if parts[i] == home:
            kept.add((parts[i + 1], parts[i + 2]))
        elif skipped is not None:
            skipped[SKIP_TRANS_SPLICED] += 1
    return sorted(kept)


def _gene_of(
    key: Key, transcript: Feature, features: dict[Key, Feature]
) -> tuple[Key, Feature | None]:
    """The top of the transcript's ``Parent`` chain: its key and line.

    The line is the transcript itself when it has no parent, and ``None``
    when the top parent is named but has no line in the file.
    """
    seen = {key}
    current_key, current = key, transcript
    while current is not None and current.parent is not None and current.parent not in seen:
        seen.add(current.parent)
        current_key, current = current.parent, features.get(current.parent)
    return current_key, current


def _gene_name(gene_key: Key, gene: Feature | None, transcript: Feature) -> str:
    """The gene's name, else its gene_id, else its ID (SpliceAI's SYMBOL)."""
    name = None
    if gene is not None and not is_transcript_type(gene.type):
        name = first_value(gene.attributes, GENE_NAME_KEYS)
    return (
        name
        or first_value(transcript.attributes, TRANSCRIPT_GENE_NAME_KEYS)
        or first_value((gene or transcript).attributes, ("gene_id",))
        or gene_key[2]
    )


def _biotype_matches(biotype: str, transcript: Feature, gene: Feature | None) -> bool:
    """Whether the transcript has biotype attributes and all of them equal ``biotype``."""
    gene_keys = GENE_BIOTYPE_KEYS if gene is None else GENE_BIOTYPE_KEYS + ("biotype",)
    found = [value for k in gene_keys for value in split_values((gene or transcript).attributes, k)]
    found += [
        value
        for k in TRANSCRIPT_BIOTYPE_KEYS + ("biotype",)
        for value in split_values(transcript.attributes, k)
    ]
    return bool(found) and all(value == biotype for value in found)


def _tag_rank(transcript: Feature) -> int:
    tags = (tag.replace(" ", "_").lower() for tag in split_values(transcript.attributes, "tag"))
    return max((CANONICAL_TAGS.get(tag, 0) for tag in tags), default=0)
