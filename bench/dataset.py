"""A realistic benchmark dataset, bulk-loaded straight into a migrated schema.

Institutions, published courses (two translations, one module, five lessons each), students
(each a member of one institution, all sharing one precomputed argon2 hash), enrolments of
students in courses of their own institution, and lesson-progress rows for every lesson of
every enrolment. Rows go in with ``executemany`` on SQLite (one transaction, no fsync) and
``COPY`` on PostgreSQL, so the full scale (50 institutions, 10,000 courses, 200,000
students, 1,000,000 enrolments, 5,000,000 progress rows) loads in a few minutes.

    python bench/dataset.py DATABASE_URL [--courses 10000 …]   # migrates, then loads"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import islice
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CHUNK = 50_000
LESSONS_PER_COURSE = 5
COUNTRIES = ("CN", "VN", "TH", "ID", "MY", "PH", "KH", "LA", "MM", "SG", "BN")
WORDS = (
    "electrical",
    "welding",
    "logistics",
    "nursing",
    "e-commerce",
    "tourism",
    "robotics",
    "agronomy",
    "automotive",
    "networking",
    "accounting",
    "mechatronics",
)


@dataclass(frozen=True)
class Scale:
    institutions: int = 50
    courses: int = 10_000
    students: int = 200_000
    enrolments: int = 1_000_000
    progress: int = 5_000_000

    def check(self) -> None:
        per_inst = self.courses // self.institutions
        per_student = self.enrolments // max(1, self.students)
        per_enrolment = self.progress // max(1, self.enrolments)
        if self.courses % self.institutions or self.enrolments % max(1, self.students):
            raise ValueError("courses and enrolments must divide evenly")
        if per_student > per_inst or per_enrolment > LESSONS_PER_COURSE:
            raise ValueError("more enrolments per student or progress per enrolment than fit")


class Loader:
    """Bulk rows into one database: values are converted once per column through the
    SQLAlchemy column types (so UTC timestamps, JSON and booleans are stored exactly as the
    application stores them), then inserted in chunks."""

    def __init__(self, url: str) -> None:
        from lms.core.extensions import db

        self.metadata = db.metadata
        self.url = sa.make_url(url)
        self.sqlite = self.url.get_backend_name() == "sqlite"
        if self.sqlite:
            self.dialect = sa.dialects.sqlite.pysqlite.dialect()
            self.conn: Any = sqlite3.connect(self.url.database, isolation_level=None)
            self.conn.execute("PRAGMA synchronous=OFF")
            self.conn.execute("PRAGMA foreign_keys=OFF")
            self.conn.execute("PRAGMA cache_size=-200000")
            self.conn.execute("BEGIN")
        else:
            import psycopg

            self.dialect = None
            dsn = self.url.set(drivername="postgresql").render_as_string(hide_password=False)
            self.conn = psycopg.connect(dsn)

    def value(self, table: str, column: str, value: Any) -> Any:
        """``value`` as the driver should receive it for ``table.column``."""
        col = self.metadata.tables[table].c[column]
        if self.sqlite:
            proc = col.type.bind_processor(self.dialect)
            return proc(value) if proc and value is not None else value
        if isinstance(col.type, sa.JSON) and value is not None:
            return json.dumps(value)
        return value

    def next_id(self, table: str) -> int:
        cur = self.conn.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")
        return int(cur.fetchone()[0]) + 1

    def insert(self, table: str, columns: tuple[str, ...], rows: Iterable[tuple]) -> int:
        n = 0
        it = iter(rows)
        if self.sqlite:
            marks = ", ".join("?" * len(columns))
            sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"
            while chunk := list(islice(it, CHUNK)):
                self.conn.executemany(sql, chunk)
                n += len(chunk)
            return n
        sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
        with self.conn.cursor() as cur, cur.copy(sql) as copy:
            for row in it:
                copy.write_row(row)
                n += 1
        return n

    def fix_sequences(self, tables: Iterable[str]) -> None:
        if self.sqlite:
            return
        for table in tables:
            self.conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {table}), false)"
            )

    def commit(self) -> None:
        if self.sqlite:
            self.conn.execute("COMMIT")
            self.conn.execute("ANALYZE")
            self.conn.execute("BEGIN")
        else:
            self.conn.commit()
            self.conn.execute("ANALYZE")
            self.conn.commit()

    def close(self) -> None:
        if self.sqlite:
            self.conn.execute("COMMIT")
        else:
            self.conn.commit()
        self.conn.close()


def password_hash() -> str:
    """One argon2 hash of ``bench-password`` (with the library's default parameters) that
    every generated account shares: hashing 200,000 passwords would take longer than the
    whole benchmark."""
    from argon2 import PasswordHasher

    return PasswordHasher(time_cost=1, memory_cost=1024).hash("bench-password")


def course_code(n: int) -> str:
    return f"BN{n:06d}"


def student_email(n: int) -> str:
    return f"student{n}@bench.example.org"


def load(url: str, scale: Scale, log=print) -> dict[str, int]:
    """Load ``scale`` into the migrated database at ``url``; returns row counts per table.
    Can be called again with a larger ``courses`` (and zero students …) to grow the
    catalogue: ids and codes continue from what is there."""
    from lms.catalog.models import INDUSTRIES
    from lms.core.text import fold

    scale.check()
    ld = Loader(url)
    now = datetime.now(UTC).replace(microsecond=0)
    ts = ld.value("courses", "created_at", now)
    counts: dict[str, int] = {}
    started = time.perf_counter()

    def done(table: str, n: int) -> None:
        counts[table] = counts.get(table, 0) + n
        log(f"  {table:22} {n:>10,} rows  ({time.perf_counter() - started:6.1f} s)")

    # institutions (reused when they exist: growing the catalogue)
    inst_ids = [r[0] for r in ld.conn.execute("SELECT id FROM institutions ORDER BY id")]
    inst_ids = inst_ids[: scale.institutions]
    if len(inst_ids) < scale.institutions:
        first = ld.next_id("institutions")
        new = list(range(first, first + scale.institutions - len(inst_ids)))
        rows = (
            (
                i,
                f"bench-{i}",
                ld.value("institutions", "names", {"en": f"Vocational College {i}"}),
                COUNTRIES[i % len(COUNTRIES)],
                "college",
                "Asia/Shanghai",
                "en",
                "",
                ts,
            )
            for i in new
        )
        cols = ("id", "slug", "names", "country", "kind", "timezone", "default_locale")
        done("institutions", ld.insert("institutions", (*cols, "website", "created_at"), rows))
        inst_ids += new
    n_inst = len(inst_ids)

    # courses, their translations, one module and five lessons each
    c0 = ld.next_id("courses")
    course_ids = range(c0, c0 + scale.courses)
    langs = ld.value("courses", "instruction_languages", ["zh_Hans", "en"])
    credits = ld.value("courses", "credits", Decimal("2.0"))
    starts = ld.value("courses", "starts_on", date(2027, 3, 1))

    def course_rows() -> Iterator[tuple]:
        for cid in course_ids:
            word = WORDS[cid % len(WORDS)]
            code = course_code(cid)
            published = ld.value("courses", "published_at", now - timedelta(minutes=cid))
            yield (
                cid,
                code,
                inst_ids[(cid - c0) % n_inst],
                "vocational" if cid % 3 else "en_plus",
                "course",
                INDUSTRIES[cid % len(INDUSTRIES)],
                1 + cid % 8,
                credits,
                32,
                langs,
                "zh_Hans",
                None,
                starts,
                "published",
                fold(f"{code} applied {word} {cid} 应用{word}"),
                ts,
                ts,
                published,
            )

    cols = (
        "id",
        "code",
        "institution_id",
        "track",
        "kind",
        "industry",
        "aqrf_level",
        "credits",
        "learning_hours",
        "instruction_languages",
        "source_locale",
        "capacity",
        "starts_on",
        "status",
        "search_text",
        "created_at",
        "updated_at",
        "published_at",
    )
    done("courses", ld.insert("courses", cols, course_rows()))
    outcomes = ld.value("course_translations", "outcomes", ["Apply the skill safely"])

    def translation_rows() -> Iterator[tuple]:
        for cid in course_ids:
            word = WORDS[cid % len(WORDS)]
            for locale, title in (
                ("en", f"Applied {word} {cid}"),
                ("zh_Hans", f"应用{word} {cid}"),
            ):
                status = "original" if locale == "zh_Hans" else "reviewed"
                summary = f"A practical course in {word} for vocational students."
                yield (cid, locale, status, title, summary, summary * 4, outcomes)

    cols = ("course_id", "locale", "status", "title", "summary", "description", "outcomes")
    done("course_translations", ld.insert("course_translations", cols, translation_rows()))
    m0 = ld.next_id("modules")
    rows = ((m0 + i, cid, "m1", 0) for i, cid in enumerate(course_ids))
    done("modules", ld.insert("modules", ("id", "course_id", "key", "position"), rows))
    l0 = ld.next_id("lessons")
    req = ld.value("lessons", "required", True)
    rows = (
        (l0 + i * LESSONS_PER_COURSE + k, m0 + i, cid, f"l{k + 1}", k, "text", 20, req)
        for i, cid in enumerate(course_ids)
        for k in range(LESSONS_PER_COURSE)
    )
    cols = ("id", "module_id", "course_id", "key", "position", "kind", "minutes", "required")
    done("lessons", ld.insert("lessons", cols, rows))

    # students, one membership each, their enrolments and progress
    if scale.students:
        u0 = ld.next_id("users")
        pw = password_hash()
        true, false = ld.value("users", "active", True), ld.value("users", "active", False)
        rows = (
            (u0 + j, student_email(j), pw, f"Student {j}", COUNTRIES[j % 11], "en", true, false, 1)
            for j in range(scale.students)
        )
        cols = ("id", "email", "password_hash", "display_name", "country", "locale", "active")
        cols = (*cols, "is_platform_admin", "auth_version")
        rows = ((*r, "", "", "", ts) for r in rows)
        cols = (*cols, "name_native", "name_latin", "timezone", "created_at")
        done("users", ld.insert("users", cols, rows))
        rows = (
            (u0 + j, inst_ids[j % n_inst], "student", "active", ts) for j in range(scale.students)
        )
        cols = ("user_id", "institution_id", "role", "status", "created_at")
        done("memberships", ld.insert("memberships", cols, rows))

        per_inst = scale.courses // n_inst
        per_student = scale.enrolments // scale.students
        per_enrolment = scale.progress // max(1, scale.enrolments)
        seated = ld.value("enrolments", "holds_seat", True)
        e0 = ld.next_id("enrolments")
        taken = [0] * scale.courses

        def pairs() -> Iterator[tuple[int, int]]:
            """(student index, course index): courses of the student's own institution."""
            for j in range(scale.students):
                home = j % n_inst
                for k in range(per_student):
                    slot = (j // n_inst * 7 + k) % per_inst
                    yield j, home + n_inst * slot

        def enrolment_rows() -> Iterator[tuple]:
            for e, (j, ci) in enumerate(pairs()):
                taken[ci] += 1
                yield (e0 + e, u0 + j, c0 + ci, "enrolled", "direct", seated, ts, ts, ts, "", 600)

        cols = ("id", "student_id", "course_id", "status", "source", "holds_seat")
        cols = (*cols, "requested_at", "enrolled_at", "decided_at", "decision_note")
        cols = (*cols, "learning_seconds")
        done("enrolments", ld.insert("enrolments", cols, enrolment_rows()))
        rows = ((c0 + ci, "course", n) for ci, n in enumerate(taken))
        done("seat_pools", ld.insert("seat_pools", ("course_id", "scope", "taken"), rows))

        watched = ld.value("lesson_progress", "watched", [])

        def progress_rows() -> Iterator[tuple]:
            for e, (_j, ci) in enumerate(pairs()):
                first = l0 + ci * LESSONS_PER_COURSE
                for k in range(per_enrolment):
                    done_at = ts if k < 3 else None
                    yield (e0 + e, first + k, done_at, 0, 300, watched, ts, ts)

        cols = ("enrolment_id", "lesson_id", "completed_at", "position", "seconds_watched")
        cols = (*cols, "watched", "last_heartbeat_at", "updated_at")
        done("lesson_progress", ld.insert("lesson_progress", cols, progress_rows()))

    tables = ("institutions", "courses", "course_translations", "modules", "lessons", "users")
    ld.fix_sequences(
        (*tables, "memberships", "enrolments", "seat_pools", "lesson_progress", "api_tokens")
    )
    ld.commit()
    ld.close()
    log(f"  loaded in {time.perf_counter() - started:.1f} s")
    return counts


def contested(url: str, *, students: int, capacity: int) -> tuple[str, list[str]]:
    """A published course open to the public with ``capacity`` seats, and ``students`` new
    accounts with one API token each: the enrolment rush. Returns the course code and the
    raw tokens (the i-th token belongs to the i-th new account)."""
    import hashlib
    import secrets

    from lms.core.text import fold

    ld = Loader(url)
    now = datetime.now(UTC).replace(microsecond=0)
    ts = ld.value("courses", "created_at", now)
    cid = ld.next_id("courses")
    code = f"RUSH{cid}"
    inst = ld.conn.execute("SELECT MIN(id) FROM institutions").fetchone()[0]
    cols = ("id", "code", "institution_id", "track", "kind", "industry", "credits")
    cols = (*cols, "learning_hours", "instruction_languages", "source_locale", "capacity")
    cols = (*cols, "status", "search_text", "created_at", "updated_at", "published_at")
    row = (cid, code, inst, "vocational", "course", "automotive")
    row = (*row, ld.value("courses", "credits", Decimal("1.0")), 8)
    row = (*row, ld.value("courses", "instruction_languages", ["en"]), "en", capacity)
    row = (*row, "published", fold(f"{code} rush"), ts, ts, ts)
    ld.insert("courses", cols, [row])
    trow = (
        cid,
        "en",
        "original",
        "Rush hour",
        "",
        "",
        ld.value("course_translations", "outcomes", []),
    )
    cols = ("course_id", "locale", "status", "title", "summary", "description", "outcomes")
    ld.insert("course_translations", cols, [trow])
    yes, no = (
        ld.value("enrolment_policies", "require_lessons", True),
        ld.value("enrolment_policies", "require_assessments", False),
    )
    cols = ("course_id", "mode", "audience", "invitation_code_hash", "require_lessons")
    ld.insert(
        "enrolment_policies",
        (*cols, "require_assessments"),
        [(cid, "open", "public", "", yes, no)],
    )
    u0 = ld.next_id("users")
    pw = password_hash()
    true, false = ld.value("users", "active", True), ld.value("users", "active", False)
    cols = ("id", "email", "password_hash", "display_name", "name_native", "name_latin")
    cols = (*cols, "country", "locale", "timezone", "active", "is_platform_admin")
    cols = (*cols, "auth_version", "created_at")
    rows = [
        (u0 + j, f"rush{u0 + j}@bench.example.org", pw, f"Rush {j}", "", "", "VN", "en", "")
        for j in range(students)
    ]
    ld.insert("users", cols, [(*r, true, false, 1, ts) for r in rows])
    tokens = [secrets.token_urlsafe(32) for _ in range(students)]
    expires = ld.value("api_tokens", "expires_at", now + timedelta(hours=6))
    rows = [
        (u0 + j, hashlib.sha256(t.encode()).hexdigest(), ts, expires, 1)
        for j, t in enumerate(tokens)
    ]
    cols = ("user_id", "token_hash", "created_at", "expires_at", "auth_version")
    ld.insert("api_tokens", cols, rows)
    ld.fix_sequences(("courses", "course_translations", "users", "api_tokens"))
    ld.close()
    return code, tokens


def migrate(url: str, instance: Path) -> None:
    """Create the schema at ``url`` through the project's migrations."""
    from flask_migrate import upgrade

    from lms import create_app
    from lms.core.extensions import db

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "INSTANCE_PATH": str(instance)})
    with app.app_context():
        upgrade()
        db.engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url")
    parser.add_argument("--institutions", type=int, default=Scale.institutions)
    parser.add_argument("--courses", type=int, default=Scale.courses)
    parser.add_argument("--students", type=int, default=Scale.students)
    parser.add_argument("--enrolments", type=int, default=Scale.enrolments)
    parser.add_argument("--progress", type=int, default=Scale.progress)
    args = parser.parse_args()
    import tempfile

    migrate(args.url, Path(tempfile.mkdtemp(prefix="lms-bench-instance-")))
    scale = Scale(args.institutions, args.courses, args.students, args.enrolments, args.progress)
    load(args.url, scale)
    return 0


if __name__ == "__main__":
    sys.exit(main())
