"""Database engine behaviour shared by every domain: SQLite pragmas and explicit
transactions (so ``BEGIN IMMEDIATE`` can be asked for), the UTC clock, a health ping."""

from __future__ import annotations

from collections.abc import Iterable
from contextvars import ContextVar
from datetime import UTC, datetime

from sqlalchemy import DateTime, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.types import TypeDecorator

from lms.core.extensions import db


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC (the only kind of time the platform stores)."""
    return datetime.now(UTC)


def configure_engine(engine: Engine) -> None:
    """Make SQLite behave: WAL, foreign keys, a busy timeout and real transactions.

    pysqlite's own transaction handling does not emit BEGIN before SELECTs and breaks
    SAVEPOINT; we switch it off and emit BEGIN ourselves (SQLAlchemy's documented recipe),
    or ``BEGIN IMMEDIATE`` inside ``serialise_writes``."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):  # pragma: no cover - exercised on every connect
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        if engine.url.database not in (None, "", ":memory:"):
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE" if _IMMEDIATE.get() else "BEGIN")


_IMMEDIATE: ContextVar[bool] = ContextVar("lms_sqlite_immediate", default=False)


def serialise_writes() -> None:
    """Make the rest of this unit of work exclusive before it reads what it will change.

    On SQLite the session's read-only transaction (if any) is ended and a new one is begun
    with ``BEGIN IMMEDIATE``, so two writers never both read-then-write ("database is
    locked" cannot happen; the second waits for the first). On PostgreSQL nothing is needed:
    callers use conditional updates or row locks. Call it before writing anything."""
    session = db.session()
    if session.get_bind().dialect.name != "sqlite":
        return
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("serialise_writes() must come before any change")
    txn = session.get_transaction()
    if txn is not None and txn.nested:
        return  # inside a test's outer transaction: the connection is already exclusive
    if session.in_nested_transaction():
        return  # inside a savepoint: the enclosing unit of work began the transaction
    session.commit()
    token = _IMMEDIATE.set(True)
    try:
        session.connection()  # begins now, with BEGIN IMMEDIATE
    finally:
        _IMMEDIATE.reset(token)


def ping() -> bool:
    """True when the database answers a trivial query."""
    try:
        db.session.execute(text("SELECT 1"))
        return True
    except Exception:
        db.session.rollback()
        return False


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC and always read back timezone-aware.

    SQLite keeps no zone; PostgreSQL's ``timestamptz`` does. Both come back as aware UTC
    datetimes, and a naive datetime is refused rather than guessed."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; the platform stores UTC-aware times only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def one_of(column: str, values: Iterable[str]) -> str:
    """SQL for a CHECK constraint keeping ``column`` to known values."""
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"
