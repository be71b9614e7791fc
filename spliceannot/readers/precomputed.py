"""Precomputed SpliceAI scores: tabix-indexed VCFs consulted before computing.

Illumina's precomputed files (``spliceai_scores.raw.snv.hg38.vcf.gz`` ...)
and our own output (normal or ``--output-mode per-gene``) hold ``SpliceAI``
INFO entries ``ALLELE|SYMBOL|DS_AG|...``.  For a record, the entries of each
ALT are looked up by contig (with or without ``chr``), position, REF and
ALT; an ALT found in the files is not computed.
"""

from __future__ import annotations

import os
from pathlib import Path

from spliceannot.errors import InputError
from spliceannot.readers.contigs import ContigMatcher


class PrecomputedScores:
    """Look up SpliceAI entries in one or more tabix-indexed VCFs.

    Parameters
    ----------
    paths
        bgzipped VCFs with a ``.tbi`` or ``.csi`` index.

    Raises
    ------
    InputError
        If a file or its index is missing or unreadable.
    """

    def __init__(self, paths: list[str | os.PathLike]) -> None:
        import pysam

        self.files = []
        self.hits = 0
        for path in paths:
            path = str(path)
            if not Path(path).is_file():
                raise InputError(f"{path}: precomputed score file not found")
            if not (Path(path + ".tbi").is_file() or Path(path + ".csi").is_file()):
                raise InputError(f"{path}: precomputed scores need a tabix index ({path}.tbi); run `tabix -p vcf {path}`")
            try:
                handle = pysam.TabixFile(path)
            except (OSError, ValueError) as error:
                raise InputError(f"{path}: cannot open as a tabix-indexed VCF ({error})") from None
            self.files.append((path, handle, ContigMatcher(handle.contigs)))

    def lookup(self, chrom: str, pos: int, ref: str, alt: str) -> list[str] | None:
        """The SpliceAI entries for ``alt`` at 1-based ``pos``, or None if no file has it."""
        found: list[str] = []
        for path, handle, contigs in self.files:
            name = contigs.resolve(chrom)
            if name is None:
                continue
            try:
                rows = handle.fetch(name, pos - 1, pos)
            except ValueError:
                continue
            for row in rows:
                fields = row.split("\t", 8)
                if len(fields) < 8 or int(fields[1]) != pos or fields[3].upper() != ref.upper():
                    continue
                if alt not in fields[4].split(","):
                    continue
                for item in fields[7].split(";"):
                    if item.startswith("SpliceAI="):
                        found += [e for e in item[len("SpliceAI="):].split(",") if e.split("|", 1)[0] == alt]
            if found:
                break
        if found:
            self.hits += 1
            return list(dict.fromkeys(found))
        return None

    def close(self) -> None:
        for _, handle, _ in self.files:
            handle.close()
