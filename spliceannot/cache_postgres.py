"""The score cache in PostgreSQL: one cache shared by several servers (``--cache postgresql://...``).

The same tables, keys and contexts as the SQLite cache
(:mod:`spliceannot.cache`): an entry is found under the digest of the
model, the annotation, ``-D``, ``-M`` and the encoding, so a server never
reads another setting's scores, and a score stored by one server is read
by every other with the same model and annotation.  One connection per
:class:`PostgresStore`, used by the thread that scores (psycopg 3).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from spliceannot.cache import _row, _scores
from spliceannot.errors import InputError
from spliceannot.scoring import DeltaScores

URL_PREFIXES = ("postgresql://", "postgres://")
_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS scores (
        context TEXT NOT NULL, variant TEXT NOT NULL, transcript TEXT NOT NULL, wide INTEGER NOT NULL,
        ag DOUBLE PRECISION NOT NULL, al DOUBLE PRECISION NOT NULL,
        dg DOUBLE PRECISION NOT NULL, dl DOUBLE PRECISION NOT NULL,
        pag INTEGER NOT NULL, pal INTEGER NOT NULL, pdg INTEGER NOT NULL, pdl INTEGER NOT NULL,
        PRIMARY KEY (context, variant, transcript))""",
    """CREATE TABLE IF NOT EXISTS entries (
        context TEXT NOT NULL, variant TEXT NOT NULL, genes TEXT NOT NULL, value TEXT NOT NULL,
        PRIMARY KEY (context, variant, genes))""",
)

Key = tuple[str, str]


def is_postgres_url(text: str | None) -> bool:
    return bool(text) and text.startswith(URL_PREFIXES)


class PostgresStore:
    """A connection to the cache database; the tables are made if missing.

    Raises
    ------
    InputError
        psycopg missing, or the database cannot be reached or used.
    """

    def __init__(self, url: str) -> None:
        try:
            import psycopg
        except ImportError:
            raise InputError("--cache postgresql://: psycopg is not installed (pip install 'psycopg[binary]')") from None
        self.url = url
        self._errors = psycopg.Error
        try:
            self.connection = psycopg.connect(url, autocommit=True, connect_timeout=10)
            for statement in _SCHEMA:
                try:
                    self.connection.execute(statement)
                except psycopg.errors.UniqueViolation:  # another server made it at the same moment
                    pass
        except psycopg.Error as error:
            raise InputError(f"--cache {_shown(url)}: cannot use as a score cache ({_first_line(error)})") from None

    def scores(self, context: str) -> PostgresScoreCache:
        return PostgresScoreCache(self, context)

    def entries(self, context: str) -> PostgresEntryCache:
        return PostgresEntryCache(self, context)

    def close(self) -> None:
        self.connection.close()


def _shown(url: str) -> str:
    """The URL without its password."""
    head, at, tail = url.rpartition("@")
    if not at or ":" not in head.split("//", 1)[-1]:
        return url
    scheme, _, user = head.partition("//")
    return f"{scheme}//{user.split(':', 1)[0]}:***@{tail}"


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


class _Cache:
    def __init__(self, store: PostgresStore, context: str) -> None:
        self.store = store
        self.path = store.url  # what a scorer set hands on when it makes a cache for another -D/-M
        self.context = context
        self.hits = 0
        self.misses = 0

    def close(self) -> None:
        """Nothing to close: the store's connection serves every context."""

    def _select(self, columns: str, table: str, keys: Sequence[Key]) -> tuple[list, list[Key]]:
        unique = list(dict.fromkeys(keys))
        if not unique:
            return [], unique
        variants = sorted({variant for variant, _ in unique})
        rows = self.store.connection.execute(
            f"SELECT {columns} FROM {table} WHERE context = %s AND variant = ANY(%s)", (self.context, variants)
        ).fetchall()
        return rows, unique

    def _insert(self, table: str, rows: list[tuple]) -> None:
        if not rows:
            return
        marks = ",".join(["%s"] * len(rows[0]))
        connection = self.store.connection
        with connection.transaction(), connection.cursor() as cursor:
            cursor.executemany(f"INSERT INTO {table} VALUES ({marks}) ON CONFLICT DO NOTHING", rows)

    def _count(self, table: str) -> int:
        query = f"SELECT count(*) FROM {table} WHERE context = %s"
        return self.store.connection.execute(query, (self.context,)).fetchone()[0]


class PostgresScoreCache(_Cache):
    """:class:`spliceannot.cache.ScoreCache` in PostgreSQL: delta scores by (variant, transcript)."""

    def get(self, keys: Sequence[Key]) -> dict[Key, DeltaScores]:
        rows, unique = self._select(
            "variant, transcript, wide, ag, al, dg, dl, pag, pal, pdg, pdl", "scores", keys
        )
        wanted = set(unique)
        found = {(v, t): _scores(wide, list(values)) for v, t, wide, *values in rows if (v, t) in wanted}
        self.hits += len(found)
        self.misses += len(unique) - len(found)
        return found

    def put(self, items: Iterable[tuple[Key, DeltaScores]]) -> None:
        self._insert("scores", [(self.context, v, t, *_row(scores)) for (v, t), scores in items])

    def __len__(self) -> int:
        return self._count("scores")


class PostgresEntryCache(_Cache):
    """:class:`spliceannot.cache.EntryCache` in PostgreSQL: whole INFO values by (variant, genes)."""

    def get(self, keys: Sequence[Key]) -> dict[Key, str]:
        rows, unique = self._select("variant, genes, value", "entries", keys)
        wanted = set(unique)
        found = {(v, g): value for v, g, value in rows if (v, g) in wanted}
        self.hits += len(found)
        self.misses += len(unique) - len(found)
        return found

    def put(self, items: Iterable[tuple[Key, str]]) -> None:
        self._insert("entries", [(self.context, v, g, value) for (v, g), value in items])

    def __len__(self) -> int:
        return self._count("entries")
