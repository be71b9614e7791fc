"""Genes to ``train``, ``validation`` and ``test``.

By chromosome lists, SpliceAI's human split, or a seeded, length-balanced
random split of chromosomes or genes.
"""

from __future__ import annotations

import logging
import random
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from spliceannot.trainers.genes import Gene, contig_key

log = logging.getLogger(__name__)

SPLIT_CHOICES = ("human", "random")

SPLIT_BY_CHOICES = ("chromosome", "gene")

HUMAN_TEST_CHROMS = ("chr1", "chr3", "chr5", "chr7", "chr9")  # SpliceAI's test chromosomes


@dataclass(frozen=True)
class SplitOptions:
    """How genes are split into train, validation and test.

    Attributes
    ----------
    method
        ``chroms``: genes on ``test_chroms`` are test, on ``val_chroms``
        validation, the rest train; with no ``val_chroms``, validation is a
        seeded ``val_fraction`` of the other genes (by count).  ``human`` is
        ``chroms`` with SpliceAI's test chromosomes 1, 3, 5, 7, 9.
        ``random``: whole chromosomes (``by="chromosome"``) or genes
        (``by="gene"``), shuffled with ``seed`` and given greedily to test
        then validation while that brings their share of gene bases closer
        to ``test_fraction`` and ``val_fraction``.
    """

    method: str = "human"
    test_chroms: tuple[str, ...] = ()
    val_chroms: tuple[str, ...] = ()
    by: str = "chromosome"
    test_fraction: float = 0.1
    val_fraction: float = 0.1
    seed: int = 42

    @classmethod
    def resolve(
        cls,
        split: str | None = None,
        *,
        test_chroms: Iterable[str] = (),
        val_chroms: Iterable[str] = (),
        by: str = "chromosome",
        test_fraction: float = 0.1,
        val_fraction: float = 0.1,
        seed: int = 42,
    ) -> SplitOptions:
        """Check a combination of ``create-data`` split options and fill in the default.

        With no ``split``: ``chroms`` if chromosome lists are given, else
        ``random`` when ``by="gene"``, else ``human``.

        Raises
        ------
        ValueError
            If the options contradict each other.
        """
        test_chroms, val_chroms = tuple(test_chroms), tuple(val_chroms)
        if split is not None and split not in SPLIT_CHOICES:
            raise ValueError(f"--split must be one of {', '.join(SPLIT_CHOICES)}, not {split!r}")
        if by not in SPLIT_BY_CHOICES:
            raise ValueError(f"--split-by must be one of {', '.join(SPLIT_BY_CHOICES)}, not {by!r}")
        for name, value in (("--test-fraction", test_fraction), ("--val-fraction", val_fraction)):
            if not 0 <= value <= 1:
                raise ValueError(f"{name} must be between 0 and 1, not {value}")
        if test_fraction + val_fraction > 1:
            raise ValueError("--test-fraction and --val-fraction add up to more than 1")
        if test_chroms or val_chroms:
            if split is not None:
                raise ValueError("--split cannot be combined with --test-chroms/--val-chroms")
            method = "chroms"
        else:
            method = split or ("random" if by == "gene" else "human")
        if method != "random" and by == "gene":
            raise ValueError("--split-by gene assigns genes at random: use it with --split random")
        if method == "human":
            test_chroms = HUMAN_TEST_CHROMS
        shared = {contig_key(c) for c in test_chroms} & {contig_key(c) for c in val_chroms}
        if shared:
            names = ", ".join(sorted(shared))
            raise ValueError(f"chromosomes {names} are both test and validation")
        return cls(method, test_chroms, val_chroms, by, test_fraction, val_fraction, seed)


def assign_splits(genes: Sequence[Gene], options: SplitOptions) -> list[str]:
    """The split of each gene (aligned with ``genes``); deterministic given the options."""
    if options.method == "random" and options.by == "gene":
        gene_bases = {index: gene.length for index, gene in enumerate(genes)}
        order = sorted(gene_bases, key=lambda index: genes[index].sort_key())
        by_gene = _balanced(order, gene_bases, options)
        return [by_gene[index] for index in range(len(genes))]
    if options.method == "random":
        chrom_bases: Counter = Counter()
        for gene in genes:
            chrom_bases[gene.chrom] += gene.length
        by_chrom = _balanced(sorted(chrom_bases), chrom_bases, options)
        return [by_chrom[gene.chrom] for gene in genes]
    return _by_chromosome_lists(genes, options)


def _balanced(items: list, weights: dict, options: SplitOptions) -> dict:
    """Shuffle ``items`` (given sorted) with the seed; fill test, then validation, greedily."""
    order = list(items)
    random.Random(options.seed).shuffle(order)
    total = sum(weights[item] for item in order)
    targets = {"test": options.test_fraction * total, "validation": options.val_fraction * total}
    filled = {"test": 0, "validation": 0}
    chosen = {}
    for item in order:
        chosen[item] = "train"
        for split in ("test", "validation"):
            target, now = targets[split], filled[split]
            if abs(now + weights[item] - target) < abs(now - target):
                chosen[item] = split
                filled[split] += weights[item]
                break
    return chosen


def _by_chromosome_lists(genes: Sequence[Gene], options: SplitOptions) -> list[str]:
    test = {contig_key(c) for c in options.test_chroms}
    validation = {contig_key(c) for c in options.val_chroms}
    present = {contig_key(gene.chrom) for gene in genes}
    lists = (("--test-chroms", options.test_chroms), ("--val-chroms", options.val_chroms))
    for flag, names in lists:
        unknown = [name for name in names if contig_key(name) not in present]
        if unknown and options.method != "human":
            log.warning("%s: no genes on %s", flag, ", ".join(unknown))
    splits = []
    for gene in genes:
        key = contig_key(gene.chrom)
        splits.append("test" if key in test else "validation" if key in validation else "train")
    if not options.val_chroms:
        rest = [i for i, split in enumerate(splits) if split == "train"]
        rest.sort(key=lambda i: genes[i].sort_key())
        count = round(options.val_fraction * len(rest))
        for index in random.Random(options.seed).sample(rest, count):
            splits[index] = "validation"
    return splits
