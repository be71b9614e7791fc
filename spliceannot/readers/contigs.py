"""Matching contig names between a VCF, a FASTA and an annotation.

``chr1`` and ``1`` name the same contig, and so do ``chrM``, ``chrMT``, ``M``
and ``MT``.  An exact name always wins over an alias.
"""

from __future__ import annotations

from collections.abc import Iterable

_MITO = ("chrM", "chrMT", "M", "MT")


def aliases(name: str) -> list[str]:
    """Other spellings of ``name``, most likely first (``name`` itself excluded)."""
    if name in _MITO:
        return [other for other in _MITO if other != name]
    if name.startswith("chr"):
        return [name[3:]]
    return ["chr" + name]


class ContigMatcher:
    """Resolve a contig name against the names a file actually has.

    Parameters
    ----------
    names
        The contig names of the target (FASTA index, annotation table).
    """

    def __init__(self, names: Iterable[str]) -> None:
        self._names = set(names)
        self._cache: dict[str, str | None] = {}

    def __contains__(self, name: str) -> bool:
        return self.resolve(name) is not None

    def resolve(self, name: str) -> str | None:
        """The target's name for contig ``name``, or None when it has none."""
        if name in self._cache:
            return self._cache[name]
        found: str | None = None
        if name in self._names:
            found = name
        else:
            for other in aliases(name):
                if other in self._names:
                    found = other
                    break
        self._cache[name] = found
        return found
