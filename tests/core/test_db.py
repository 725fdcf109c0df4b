"""The database helpers every domain leans on: SQLite writers handed over in turn (never
"database is locked", never a polling sleep), one-row inserts that survive a concurrent
duplicate, and memos that end with their transaction."""

from __future__ import annotations

import multiprocessing
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import event, select, text

from lms import create_app
from lms.accounts.models import User
from lms.analytics.models import XapiActor
from lms.core import audit
from lms.core import db as core_db
from lms.core.db import (
    add_new,
    finish_writes,
    insert_new,
    serialise_writes,
    transaction_memo,
    utcnow,
)
from lms.core.extensions import db
from lms.core.models import AuditEvent

PROCESSES = 2
THREADS = 3
ROUNDS = 40


def _file_app(path: Path):
    app = create_app(
        {
            "DATABASE_URL": f"sqlite:///{path}",
            "SECRET_KEY": "db-test",
            "INSTANCE_PATH": str(path.parent / "instance"),
        }
    )
    with app.app_context():

        @event.listens_for(db.engine, "connect")
        def _no_waiting(dbapi_conn, _record):
            # SQLite's own busy wait off: a writer that finds the file locked fails at once,
            # so only the hand-over can keep these writers apart
            dbapi_conn.execute("PRAGMA busy_timeout=0")

    return app


def _hammer(path: str, threads: int, rounds: int) -> list[str]:
    """``threads`` threads each add 1 to the counter ``rounds`` times, each time in its own
    read-then-write transaction; returns the errors met."""
    app = _file_app(Path(path))
    errors: list[str] = []

    def work() -> None:
        with app.app_context():
            for _ in range(rounds):
                try:
                    serialise_writes()
                    n = db.session.execute(text("SELECT n FROM counter")).scalar_one()
                    db.session.execute(text("UPDATE counter SET n = :n"), {"n": n + 1})
                    db.session.commit()
                except Exception as exc:  # reported, not raised: the test counts them
                    db.session.rollback()
                    errors.append(repr(exc))

    pool = [threading.Thread(target=work) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    with app.app_context():
        db.engine.dispose()
    return errors


def test_sqlite_writers_in_several_processes_and_threads_take_turns(tmp_path):
    path = tmp_path / "turns.sqlite3"
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.exec_driver_sql("PRAGMA journal_mode=WAL")
        conn.exec_driver_sql("CREATE TABLE counter (n INTEGER NOT NULL)")
        conn.exec_driver_sql("INSERT INTO counter VALUES (0)")
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(PROCESSES) as pool:
        results = pool.starmap(_hammer, [(str(path), THREADS, ROUNDS)] * PROCESSES)
    with engine.connect() as conn:
        total = conn.exec_driver_sql("SELECT n FROM counter").scalar_one()
    engine.dispose()
    assert [e for errors in results for e in errors] == []
    # read-then-write under the turn: no increment lost between processes or threads
    assert total == PROCESSES * THREADS * ROUNDS


def test_the_turn_is_given_back_at_commit_rollback_and_failure(tmp_path):
    path = tmp_path / "giveback.sqlite3"
    app = _file_app(path)
    with app.app_context():
        db.session.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY)"))
        db.session.commit()
        turn = core_db._writer_turn(str(path))

        serialise_writes()
        assert turn._thread.locked()  # held from BEGIN IMMEDIATE …
        db.session.execute(text("INSERT INTO t VALUES (1)"))
        db.session.commit()
        assert not turn._thread.locked()  # … to the end of the COMMIT

        serialise_writes()
        db.session.rollback()
        assert not turn._thread.locked()

        serialise_writes()
        with pytest.raises(sa.exc.IntegrityError):
            db.session.execute(text("INSERT INTO t VALUES (1)"))
        db.session.rollback()
        assert not turn._thread.locked()
        assert db.session.execute(text("SELECT COUNT(*) FROM t")).scalar_one() == 1
        db.engine.dispose()


def test_insert_new_inserts_once_and_leaves_the_first_row(db_session, make):
    user = make.user("student", make.institution())
    assert insert_new(XapiActor, {"user_id": user.id, "name": "first-pseudonym"}) is True
    assert insert_new(XapiActor, {"user_id": user.id, "name": "second-pseudonym"}) is False
    names = db.session.scalars(select(XapiActor.name).where(XapiActor.user_id == user.id))
    assert names.all() == ["first-pseudonym"]


def test_a_transaction_memo_is_forgotten_at_commit_and_rollback(app):
    with app.app_context():
        db.session.execute(text("SELECT 1"))
        transaction_memo("test")["k"] = 1
        assert transaction_memo("test") == {"k": 1}
        db.session.commit()
        assert transaction_memo("test") == {}
        db.session.execute(text("SELECT 1"))
        transaction_memo("test")["k"] = 2
        db.session.rollback()
        assert transaction_memo("test") == {}
        db.session.remove()


def _statements(engine) -> list[str]:
    seen: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *a: seen.append(a[2]))
    return seen


def test_add_new_gives_the_new_row_as_an_object_without_reading_it_back(db_session, make):
    user = make.user("student", make.institution())
    seen = _statements(db.engine)
    actor = add_new(XapiActor, {"user_id": user.id, "name": "pseudonym-1", "created_at": utcnow()})
    assert actor is not None and actor in db.session and actor.name == "pseudonym-1"
    assert not db.session.new and not db.session.dirty  # already stored: nothing to flush
    assert len(seen) == 1 and seen[0].startswith("INSERT")  # the key came back with it
    again = add_new(XapiActor, {"user_id": user.id, "name": "pseudonym-2"})
    assert again is None
    stored = db.session.scalars(select(XapiActor.name).where(XapiActor.user_id == user.id))
    assert stored.all() == ["pseudonym-1"]


def test_append_stores_an_event_at_once_and_keeps_the_unit_of_work_as_it_was(db_session, make):
    user = make.user("student", make.institution())
    user.display_name = "Pending change"  # not flushed by the append
    seen = _statements(db.engine)
    event = audit.record(user, "test.appended", "thing", 7, after={"n": 1})
    assert [s.split()[0] for s in seen] == ["INSERT"] and user in db.session.dirty
    assert event.id and event in db.session and event.after == {"n": 1}
    stored = db.session.scalar(select(AuditEvent.action).where(AuditEvent.id == event.id))
    assert stored == "test.appended"


def _counter_app(path: Path):
    app = _file_app(path)
    with app.app_context():
        db.session.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER)"))
        db.session.execute(text("INSERT INTO t VALUES (1, 0)"))
        db.session.commit()
    return app


@pytest.mark.parametrize("keep", [True, False])
def test_serialise_writes_keeps_what_was_read_only_when_asked(tmp_path, keep, make_user_row):
    app = _counter_app(tmp_path / "keep.sqlite3")
    with app.app_context():
        user = make_user_row()
        seen = _statements(db.engine)
        serialise_writes(keep_reads=keep)
        assert user.email == "kept@example.org"
        reads = [s for s in seen if s.startswith("SELECT")]
        assert len(reads) == (0 if keep else 1)  # expired objects are read again under the lock
        db.session.rollback()
        db.engine.dispose()


def test_finish_writes_commits_now_gives_the_turn_back_and_keeps_the_objects(
    tmp_path, make_user_row
):
    path = tmp_path / "finish.sqlite3"
    app = _counter_app(path)
    with app.app_context():
        user = make_user_row()
        serialise_writes()
        turn = core_db._writer_turn(str(path))
        assert turn._thread.locked()
        user.display_name = "Changed"
        db.session.flush()
        finish_writes()
        assert not turn._thread.locked() and not db.session().in_transaction()
        seen = _statements(db.engine)
        assert user.display_name == "Changed" and seen == []  # the response needs no reread
        other = sa.create_engine(f"sqlite:///{path}")
        with other.connect() as conn:
            # committed: another connection sees it
            query = text("SELECT display_name FROM users WHERE id = :i")
            assert conn.execute(query, {"i": user.id}).scalar_one() == "Changed"
        other.dispose()
        db.engine.dispose()


@pytest.fixture
def make_user_row():
    """A user row in a file database made by ``create_all`` (the app's own tables)."""

    def make():
        db.create_all()
        user = User(
            email="kept@example.org",
            password_hash="x",
            display_name="Kept",
            country="VN",
            locale="vi",
            timezone="Asia/Ho_Chi_Minh",
        )
        db.session.add(user)
        db.session.commit()
        return db.session.get(User, user.id)

    return make
