"""``lms transcripts issue`` and ``revoke`` for registrars, end to end through files."""

import json
from decimal import Decimal

from pypdf import PdfReader

from tests.credits.conftest import (  # noqa: F401  (fixtures)
    complete_course,
    make_course,
    percent_source,
    seeded,
    world,
)


def test_issue_verify_revoke(runner, make, world, percent_source, public_host, tmp_path):  # noqa: F811
    student = make.user(
        "student", world["gx"], name_native="ສົມພອນ ວົງສາ", name_latin="Somphone Vongsa"
    )
    course = make_course(world["gx"], "GX-ELEC-1")
    complete_course(make, course, student, percent_source, percent=Decimal("77"))
    out, printable = tmp_path / "t.json", tmp_path / "t.pdf"
    args = ["lms", "transcripts", "issue", "--student", student.email.upper()]
    result = runner.invoke(args=[*args, "--out", str(out), "--pdf", str(printable)])
    assert result.exit_code == 0, result.output
    public_id = result.output.split()[0]
    document = json.loads(out.read_text("utf-8"))
    assert document["type"] == ["VerifiableCredential", "ClrCredential"]
    assert "ສົມພອນ ວົງສາ" in PdfReader(printable).pages[0].extract_text()
    check = runner.invoke(args=["lms", "transcripts", "verify", str(out)])
    assert check.exit_code == 0 and check.output.startswith("valid"), check.output
    revoked = runner.invoke(args=["lms", "transcripts", "revoke", public_id, "--reason", "error"])
    assert revoked.exit_code == 0, revoked.output
    check = runner.invoke(args=["lms", "transcripts", "verify", str(out)])
    assert check.exit_code == 1 and check.output.startswith("revoked")
    again = runner.invoke(args=["lms", "transcripts", "revoke", public_id, "--reason", "x"])
    assert again.exit_code != 0 and "already revoked" in again.output


def test_issue_refuses_unknown_students_and_empty_records(runner, make, world, tmp_path):  # noqa: F811
    out = str(tmp_path / "t.json")
    result = runner.invoke(
        args=["lms", "transcripts", "issue", "--student", "nobody@example.org", "--out", out]
    )
    assert result.exit_code != 0 and "nobody@example.org" in result.output
    student = make.user("student", world["gx"])
    result = runner.invoke(
        args=["lms", "transcripts", "issue", "--student", student.email, "--out", out]
    )
    assert result.exit_code != 0 and "no credit" in result.output
