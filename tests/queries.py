"""Counting the SQL statements a request runs (N+1 detection)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.engine import Engine


class Statements(list):
    """The statements executed inside ``counting()`` (their SQL text, in order)."""

    def __str__(self) -> str:
        return "\n".join(f"{n + 1:3}. {sql[:160]}" for n, sql in enumerate(self))


@contextmanager
def counting() -> Iterator[Statements]:
    """Record every statement any engine executes, e.g. around one test-client request."""
    seen = Statements()

    def record(_conn, _cursor, statement, _params, _context, _many):
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK TO")):
            seen.append(" ".join(statement.split()))

    event.listen(Engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", record)


def statements_of(client, url: str, **kwargs) -> Statements:
    """The statements one GET runs (after a first, warming GET), asserting it answers 200."""
    assert client.get(url, **kwargs).status_code == 200
    with counting() as seen:
        resp = client.get(url, **kwargs)
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    return seen
