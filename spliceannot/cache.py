"""A persistent score cache: a variant is never scored twice.

Scores live in one SQLite file (WAL journal, so many readers and one writer
at a time work concurrently, across processes).  An entry is the four delta
scores and positions of one (variant, ALT, transcript row) under one
*context*: the digest of everything else a score depends on (the model's
weights, the annotation, ``-D``, ``-M``, the encoding of IUPAC codes and the
cache format).  A changed model or annotation is a different context, so it
can never be served a stale score.  Rounding happens when entries are
formatted, so one cached score serves every ``--precision``.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from spliceannot.errors import InputError
from spliceannot.scoring import DeltaScores

FORMAT_VERSION = "1"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS scores (
    context TEXT NOT NULL,
    variant TEXT NOT NULL,
    transcript TEXT NOT NULL,
    wide INTEGER NOT NULL,
    ag REAL NOT NULL, al REAL NOT NULL, dg REAL NOT NULL, dl REAL NOT NULL,
    pag INTEGER NOT NULL, pal INTEGER NOT NULL, pdg INTEGER NOT NULL, pdl INTEGER NOT NULL,
    PRIMARY KEY (context, variant, transcript)
) WITHOUT ROWID
"""
_BATCH = 500  # keys per SELECT (SQLite's parameter limit is 32766)

Key = tuple[str, str]  # (variant "chrom:pos:ref:alt", transcript row digest)


def default_cache_path() -> Path:
    """``$SPLICEANNOT_CACHE/scores.sqlite`` (default ``~/.cache/spliceannot``)."""
    root = os.environ.get("SPLICEANNOT_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "spliceannot")
    return Path(root) / "scores.sqlite"


def context_digest(*, model: str, annotation: str, distance: int, mask: bool, encoding: str) -> str:
    """The digest of everything besides the variant and transcript that a score depends on."""
    text = "\n".join([FORMAT_VERSION, model, annotation, str(distance), str(int(mask)), encoding])
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def variant_key(contig: str, pos: int, ref: str, alt: str) -> str:
    return f"{contig}:{pos}:{ref}:{alt}"


def transcript_key(table_line: str) -> str:
    """A short digest of a transcript's table row (name, strand, extent, exons)."""
    return hashlib.sha256(table_line.encode()).hexdigest()[:24]


class ScoreCache:
    """Delta scores by (variant, transcript) in one context.

    Parameters
    ----------
    path
        The SQLite file (created with its directory if missing).
    context
        From :func:`context_digest`.

    Raises
    ------
    InputError
        If the file cannot be opened or is not a score cache.
    """

    def __init__(self, path: str | os.PathLike, context: str) -> None:
        self.path = Path(path)
        self.context = context
        self.hits = 0
        self.misses = 0
        self._db = _connect(self.path, _SCHEMA)

    def close(self) -> None:
        self._db.close()

    def get(self, keys: Sequence[Key]) -> dict[Key, DeltaScores]:
        """The cached scores of those ``keys`` that are present."""
        found: dict[Key, DeltaScores] = {}
        unique = list(dict.fromkeys(keys))
        for first in range(0, len(unique), _BATCH):
            batch = unique[first : first + _BATCH]
            variants = sorted({variant for variant, _ in batch})
            marks = ",".join("?" * len(variants))
            rows = self._db.execute(
                f"SELECT variant, transcript, wide, ag, al, dg, dl, pag, pal, pdg, pdl FROM scores "
                f"WHERE context = ? AND variant IN ({marks})",
                [self.context, *variants],
            ).fetchall()
            wanted = set(batch)
            for variant, transcript, wide, *values in rows:
                if (variant, transcript) in wanted:
                    found[(variant, transcript)] = _scores(wide, values)
        self.hits += len(found)
        self.misses += len(unique) - len(found)
        return found

    def put(self, items: Iterable[tuple[Key, DeltaScores]]) -> None:
        """Store scores (existing entries are kept: a score never changes in its context)."""
        rows = [(self.context, variant, transcript, *_row(scores)) for (variant, transcript), scores in items]
        if not rows:
            return
        try:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany("INSERT OR IGNORE INTO scores VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", rows)
            self._db.execute("COMMIT")
        except sqlite3.Error:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise

    def __len__(self) -> int:
        return self._db.execute("SELECT count(*) FROM scores WHERE context = ?", (self.context,)).fetchone()[0]


def _connect(path: Path, schema: str) -> sqlite3.Connection:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(path, timeout=60.0, isolation_level=None)
        db.execute("PRAGMA busy_timeout = 60000")
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = NORMAL")
        db.execute(schema)
    except (sqlite3.Error, OSError) as error:
        raise InputError(f"{path}: cannot use as a score cache ({error})") from None
    return db


_ENTRY_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    context TEXT NOT NULL,
    variant TEXT NOT NULL,
    genes TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (context, variant, genes)
) WITHOUT ROWID
"""


def entry_context(*parts: object) -> str:
    """The context digest of whole INFO values: the cache format and everything they depend on."""
    text = "\n".join([FORMAT_VERSION, "entries", *(str(part) for part in parts)])
    return hashlib.sha256(text.encode()).hexdigest()[:32]


class EntryCache:
    """Whole INFO values (Pangolin's, per record) by (variant, genes) in one context, in the
    same SQLite file as :class:`ScoreCache` (its own table)."""

    def __init__(self, path: str | os.PathLike, context: str) -> None:
        self.path = Path(path)
        self.context = context
        self.hits = 0
        self.misses = 0
        self._db = _connect(self.path, _ENTRY_SCHEMA)

    def close(self) -> None:
        self._db.close()

    def get(self, keys: Sequence[Key]) -> dict[Key, str]:
        found: dict[Key, str] = {}
        unique = list(dict.fromkeys(keys))
        for first in range(0, len(unique), _BATCH):
            batch = unique[first : first + _BATCH]
            variants = sorted({variant for variant, _ in batch})
            marks = ",".join("?" * len(variants))
            rows = self._db.execute(
                f"SELECT variant, genes, value FROM entries WHERE context = ? AND variant IN ({marks})",
                [self.context, *variants],
            ).fetchall()
            wanted = set(batch)
            for variant, genes, value in rows:
                if (variant, genes) in wanted:
                    found[(variant, genes)] = value
        self.hits += len(found)
        self.misses += len(unique) - len(found)
        return found

    def put(self, items: Iterable[tuple[Key, str]]) -> None:
        rows = [(self.context, variant, genes, value) for (variant, genes), value in items]
        if not rows:
            return
        try:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany("INSERT OR IGNORE INTO entries VALUES (?,?,?,?)", rows)
            self._db.execute("COMMIT")
        except sqlite3.Error:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise

    def __len__(self) -> int:
        return self._db.execute("SELECT count(*) FROM entries WHERE context = ?", (self.context,)).fetchone()[0]


def _row(scores: DeltaScores) -> tuple:
    # bit i: score i is float64 (SpliceAI's deletions), else float32; formatting rounds
    # the value in its own type, so the type is part of the score
    wide = sum(1 << i for i, v in enumerate(scores.scores) if np.asarray(v).dtype == np.float64)
    return (wide, *(float(v) for v in scores.scores), *(int(p) for p in scores.positions))


def _scores(wide: int, values: list) -> DeltaScores:
    kinds = [np.float64 if wide >> i & 1 else np.float32 for i in range(4)]
    return DeltaScores(*(kind(v) for kind, v in zip(kinds, values[:4])), *(int(p) for p in values[4:]))
