"""search indexes: FTS5 trigram (SQLite) / pg_trgm GIN (PostgreSQL) for courses and questions

The courses' folded search text is rebuilt (titles now come first, for ranking); the
question bank gains its own folded search text.

Revision ID: 0011_search_index
Revises: 0010_catalogue_index
Create Date: 2026-11-30

"""

import sqlalchemy as sa
from alembic import op

from lms.core.search import create_index, drop_index, search_text

revision = "0011_search_index"
down_revision = "0010_catalogue_index"
branch_labels = None
depends_on = None


def _fill(bind, table, key, texts_of):
    for row_id, titles, rest in texts_of(bind):
        bind.execute(
            sa.text(f"UPDATE {table} SET search_text = :t WHERE {key} = :id"),
            {"t": search_text(titles, rest), "id": row_id},
        )


def _courses(bind):
    courses = bind.execute(sa.text("SELECT id, code FROM courses")).all()
    tr = bind.execute(
        sa.text(
            "SELECT course_id, title, summary, description, outcomes FROM course_translations "
            "ORDER BY course_id, locale"
        )
    ).all()
    by_course = {}
    for course_id, title, summary, description, outcomes in tr:
        by_course.setdefault(course_id, []).append((title, summary, description, outcomes))
    for course_id, code in courses:
        rows = by_course.get(course_id, [])
        rest = []
        for _t, summary, description, outcomes in rows:
            rest += [summary, description, *_json_list(outcomes)]
        yield course_id, [code, *(r[0] for r in rows)], rest


def _questions(bind):
    questions = bind.execute(sa.text("SELECT id, name, tags FROM questions")).all()
    stems = {}
    for qid, stem in bind.execute(
        sa.text("SELECT question_id, stem FROM question_translations ORDER BY question_id, locale")
    ):
        stems.setdefault(qid, []).append(stem)
    for qid, name, tags in questions:
        yield qid, [name or ""], [*_json_list(tags), *stems.get(qid, [])]


def _json_list(value):
    import json

    if value is None:
        return []
    if isinstance(value, str):
        value = json.loads(value or "[]")
    return [str(v) for v in value or []]


def upgrade():
    with op.batch_alter_table("questions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("search_text", sa.Text(), nullable=False, server_default=""))
    bind = op.get_bind()
    _fill(bind, "courses", "id", _courses)
    _fill(bind, "questions", "id", _questions)
    create_index(op, "courses")
    create_index(op, "questions")


def downgrade():
    drop_index(op, "questions")
    drop_index(op, "courses")
    with op.batch_alter_table("questions", schema=None) as batch_op:
        batch_op.drop_column("search_text")
