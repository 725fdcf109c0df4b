"""Substring search over folded text, in every script, backed by an index on each database.

A searchable model keeps one ``search_text`` column: its texts in every language, folded
by :func:`lms.core.text.fold` (``Điện`` → ``dien``), titles first and the rest after
:data:`SECTION`. Thai, Lao, Khmer, Burmese and Chinese are written without spaces between
words, so a query word must match anywhere inside the text, not only at word starts:

- on SQLite an FTS5 table with the ``trigram`` tokenizer shadows the column (kept in step
  by triggers, so every insert, update and delete — ORM or not — reindexes);
- on PostgreSQL a GIN ``pg_trgm`` index on the column serves ``LIKE '%word%'``.

Words of one or two characters (a two-character Chinese word) are below a trigram and
are matched by a scan of the rows the other conditions leave. The column is refreshed
before every flush from the function registered with :func:`searchable`, so no service
has to remember to do it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, case, column, event, func, select, table
from sqlalchemy.orm import Session

from lms.core.extensions import db
from lms.core.text import fold

#: Separates the title part of ``search_text`` from the rest (a match before it ranks higher).
SECTION = "\n\x1e\n"
#: Trigrams: shorter words cannot use the index.
MIN_INDEXED = 3
#: Query words beyond this many are ignored (each is one more condition).
MAX_WORDS = 8


@dataclass(frozen=True)
class Index:
    """The search index of one table's ``search_text`` column."""

    table: str

    @property
    def fts(self) -> str:
        return f"{self.table}_fts"

    @property
    def trigram_index(self) -> str:
        return f"ix_{self.table}_search_trgm"

    def names(self) -> set[str]:
        """Database objects outside the models (skipped when models and schema are compared)."""
        fts = self.fts
        shadow = {f"{fts}_{s}" for s in ("data", "idx", "content", "docsize", "config")}
        return {fts, self.trigram_index} | shadow


_indexes: dict[str, Index] = {}
_texts: dict[type, Callable[[Any], tuple[Iterable[str], Iterable[str]]]] = {}
_owners: dict[type, Callable[[Any], Any]] = {}


def searchable(model: type, texts: Callable[[Any], tuple[Iterable[str], Iterable[str]]]) -> None:
    """Keep ``model.search_text`` equal to the folded ``texts(obj)`` = (titles, other texts)."""
    _indexes[model.__tablename__] = Index(model.__tablename__)
    _texts[model] = texts


def part_of(model: type, owner: Callable[[Any], Any]) -> None:
    """A change to a ``model`` row (a translation) reindexes ``owner(row)``."""
    _owners[model] = owner


def search_text(titles: Iterable[str], rest: Iterable[str]) -> str:
    """The folded text stored for a row: the titles, :data:`SECTION`, the rest."""
    head = " \n".join(t for t in titles if t)
    tail = " \n".join(t for t in rest if t)
    return fold(head) + SECTION + fold(tail)


def words(query: str | None) -> list[str]:
    """The folded words of a query, at most :data:`MAX_WORDS`."""
    return [w for w in fold(query or "").split() if w][:MAX_WORDS]


def matches(model: type, query_words: list[str]) -> ColumnElement[bool]:
    """Rows whose text contains every word as a substring (through the index where one is)."""
    col = model.search_text
    conds: list[ColumnElement[bool]] = []
    long = [w for w in query_words if len(w) >= MIN_INDEXED]
    if long and _dialect() == "sqlite":
        fts = table(_indexes[model.__tablename__].fts, column("rowid"))
        phrase = " AND ".join('"' + w.replace('"', '""') + '"' for w in long)
        match = column(fts.name).op("MATCH")(bindparam(None, phrase, unique=True))
        conds.append(model.id.in_(select(fts.c.rowid).where(match)))
        short = [w for w in query_words if len(w) < MIN_INDEXED]
    else:
        short = query_words
    conds += [col.contains(w, autoescape=True) for w in short]
    return and_(*conds)


def rank(model: type, query_words: list[str]) -> ColumnElement[int]:
    """0 when every word occurs in a title, else 1 (sort ascending: title matches first)."""
    col = model.search_text
    section = _position(col, SECTION)
    in_title = and_(*(_position(col, w).between(1, section) for w in query_words))
    return case((in_title, 0), else_=1)


def _position(col: ColumnElement[str], needle: str) -> ColumnElement[int]:
    arg = bindparam(None, needle, unique=True)
    if _dialect() == "sqlite":
        return func.instr(col, arg)
    return func.strpos(col, arg)


def _dialect() -> str:
    return db.session.get_bind().dialect.name


@event.listens_for(Session, "before_flush")
def _refresh(session: Session, _context, _instances) -> None:
    """Recompute ``search_text`` of every new or changed searchable row before it is written."""
    due: dict[int, Any] = {}
    for obj in (*session.new, *session.dirty, *session.deleted):
        kind = type(obj)
        if kind in _texts:
            due[id(obj)] = obj
        elif kind in _owners:
            owner = _owners[kind](obj)
            if owner is not None:
                due[id(owner)] = owner
    for obj in due.values():
        if obj in session.deleted or type(obj) not in _texts:
            continue
        value = search_text(*_texts[type(obj)](obj))
        if obj.search_text != value:
            obj.search_text = value


# --- migrations ---------------------------------------------------------------------------


def create_index(op, name: str) -> None:
    """Build the index of table ``name``'s ``search_text`` (an Alembic migration step).

    SQLite: an external-content FTS5 trigram table and the triggers that keep it in step.
    A later migration that rebuilds the table (batch mode) drops the triggers with it and
    must call this again."""
    index = Index(name)
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        fts = index.fts
        op.execute(
            f"CREATE VIRTUAL TABLE IF NOT EXISTS {fts} USING fts5(search_text, "
            f"content='{name}', content_rowid='id', tokenize='trigram')"
        )
        new = f"INSERT INTO {fts}(rowid, search_text) VALUES (new.id, new.search_text);"
        old = (
            f"INSERT INTO {fts}({fts}, rowid, search_text) "
            f"VALUES ('delete', old.id, old.search_text);"
        )
        op.execute(f"CREATE TRIGGER IF NOT EXISTS {fts}_ai AFTER INSERT ON {name} BEGIN {new} END")
        op.execute(f"CREATE TRIGGER IF NOT EXISTS {fts}_ad AFTER DELETE ON {name} BEGIN {old} END")
        op.execute(
            f"CREATE TRIGGER IF NOT EXISTS {fts}_au AFTER UPDATE OF search_text ON {name} "
            f"BEGIN {old} {new} END"
        )
        op.execute(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")
    elif bind.dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute(
            f"CREATE INDEX IF NOT EXISTS {index.trigram_index} ON {name} "
            f"USING gin (search_text gin_trgm_ops)"
        )


def drop_index(op, name: str) -> None:
    """Undo :func:`create_index`."""
    index = Index(name)
    if op.get_bind().dialect.name == "sqlite":
        for suffix in ("ai", "ad", "au"):
            op.execute(f"DROP TRIGGER IF EXISTS {index.fts}_{suffix}")
        op.execute(f"DROP TABLE IF EXISTS {index.fts}")
    else:
        op.execute(f"DROP INDEX IF EXISTS {index.trigram_index}")


def outside_models(name: str | None) -> bool:
    """Whether a schema object is a search index (not described by the models)."""
    return any(name in index.names() for index in _indexes.values())
