"""The audit log: append-only in the database itself, searchable by registrars (their
institutions' objects) and administrators (everything), exportable as CSV and JSON."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import text

from lms.core.audit import record
from lms.core.db import utcnow
from lms.core.models import AuditEvent
from tests.conftest import bearer, login


def test_the_database_refuses_to_change_or_delete_audit_events(app, db_session):
    """On SQLite and PostgreSQL alike, whatever the ORM does: a trigger refuses."""
    event = record(None, "test.event", "thing", 1, after={"x": 1})
    db_session.flush()
    for sql in (
        "UPDATE audit_events SET action = 'forged' WHERE id = :id",
        "DELETE FROM audit_events WHERE id = :id",
    ):
        with pytest.raises(Exception, match="append-only"), db_session.begin_nested():
            db_session.execute(text(sql), {"id": event.id})
    assert (
        db_session.scalar(text("SELECT action FROM audit_events WHERE id = :id"), {"id": event.id})
        == "test.event"
    )


def test_the_orm_offers_no_update_path(app, db_session):
    event = record(None, "test.event", "thing", 2)
    event.action = "forged"
    with pytest.raises(RuntimeError, match="append-only"), db_session.begin_nested():
        db_session.flush()


@pytest.fixture
def two_colleges(make):
    nanning = make.institution("gx-nanning")
    manila = make.institution("ph-manila", country="PH")
    registrar = make.user("registrar", nanning, email="registrar@nanning.test")
    student = make.user("student", nanning, email="lan@nanning.test")
    other = make.user("student", manila, email="jose@manila.test")
    admin = make.user("admin", email="root@platform.test")
    return nanning, manila, registrar, student, other, admin


def test_registrar_searches_only_their_institutions_objects(client, two_colleges, db_session):
    nanning, _manila, registrar, _student, _other, _admin = two_colleges
    login(client, registrar)
    page = client.get("/admin/audit?object_type=membership")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "lan@nanning.test" in html  # the membership granted at Nanning
    assert "jose@manila.test" not in html  # Manila's membership is not theirs to see
    # the same through the API, filtered by object
    headers = bearer(client, registrar)
    body = client.get("/api/v1/audit-events?object_type=institution", headers=headers).json
    assert {e["object_id"] for e in body["items"]} == {str(nanning.id)}
    assert body["total"] == 1


def test_admin_sees_all_and_filters_narrow(client, two_colleges, db_session):
    _nanning, _manila, registrar, _student, _other, admin = two_colleges
    headers = bearer(client, admin)
    everything = client.get("/api/v1/audit-events?per_page=100", headers=headers).json
    assert {"gx-nanning", "ph-manila"} <= {
        (e["after"] or {}).get("institution") for e in everything["items"]
    }
    by_action = client.get("/api/v1/audit-events?action=institution.", headers=headers).json
    assert {e["action"] for e in by_action["items"]} == {"institution.created"}
    assert by_action["total"] == 2
    record(registrar, "grade.change", "manual_grade", 7, before={"p": 1}, after={"p": 2})
    db_session.commit()
    by_actor = client.get("/api/v1/audit-events?actor=registrar@nanning", headers=headers).json
    assert [e["action"] for e in by_actor["items"]] == ["grade.change"]
    by_id = client.get(f"/api/v1/audit-events?actor={registrar.id}", headers=headers).json
    assert by_id["total"] == 1
    today = utcnow().date()
    tomorrow = (today + timedelta(days=1)).isoformat()
    yesterday = (today - timedelta(days=1)).isoformat()
    assert client.get(f"/api/v1/audit-events?since={tomorrow}", headers=headers).json["total"] == 0
    assert (
        client.get(
            f"/api/v1/audit-events?since={yesterday}&until={today.isoformat()}", headers=headers
        ).json["total"]
        == everything["total"] + 1
    )
    bad = client.get(f"/api/v1/audit-events?since={tomorrow}&until={yesterday}", headers=headers)
    assert bad.status_code == 422 and bad.mimetype == "application/problem+json"
    # pagination: pages do not overlap and cover everything
    first = client.get("/api/v1/audit-events?per_page=2&page=1", headers=headers).json
    second = client.get("/api/v1/audit-events?per_page=2&page=2", headers=headers).json
    assert len(first["items"]) == 2 and not {e["id"] for e in first["items"]} & {
        e["id"] for e in second["items"]
    }
    assert first["items"][0]["id"] > first["items"][1]["id"]  # newest first


def test_html_page_paginates_with_filters_and_exports_csv(client, two_colleges, db_session):
    *_rest, admin = two_colleges
    for n in range(55):
        record(admin, "test.bulk", "course", n, reason='=HYPERLINK("x")' if n == 0 else "")
    db_session.commit()
    login(client, admin)
    first = client.get("/admin/audit?action=test.bulk").get_data(as_text=True)
    assert "55 events" in first
    assert "action=test.bulk" in first and "page=2" in first  # the pager keeps the filter
    second = client.get("/admin/audit?action=test.bulk&page=2").get_data(as_text=True)
    assert second.count("<code>test.bulk</code>") == 5
    resp = client.get("/admin/audit.csv?action=test.bulk")
    assert resp.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(resp.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:5] == ["id", "at_utc", "actor_id", "actor", "action"]
    assert len(rows) == 56
    assert rows[-1][7] == '\'=HYPERLINK("x")'  # a formula is neutralised
    bad = client.get("/admin/audit?since=yesterday")
    assert bad.status_code == 422


def test_students_and_anonymous_cannot_search(client, two_colleges, db_session):
    _n, _m, _r, student, _o, _a = two_colleges
    assert client.get("/admin/audit").status_code == 302  # to the sign-in page
    assert client.get("/api/v1/audit-events").status_code == 401
    login(client, student)
    assert client.get("/admin/audit").status_code == 403
    assert client.get("/admin/audit.csv").status_code == 403
    headers = bearer(client, student)
    assert client.get("/api/v1/audit-events", headers=headers).status_code == 403
    assert db_session.query(AuditEvent).count() > 0
