"""``lms questions import --course CODE FILE`` and export."""

from __future__ import annotations

from lms.assessment import services
from tests.assessment.conftest import SAMPLE_GIFT


def test_cli_import_and_export(runner, course, tmp_path):
    result = runner.invoke(
        args=["lms", "questions", "import", "--course", course.code, str(SAMPLE_GIFT)]
    )
    assert result.exit_code == 0, result.output
    assert "imported 12 question(s) into GX-QUIZ" in result.output
    assert len(services.questions(course)) == 12
    out = tmp_path / "bank.xml"
    result = runner.invoke(args=["lms", "questions", "export", "--course", course.code, str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().count(b"<question ") == 12


def test_cli_import_reports_positions(runner, course, tmp_path):
    bad = tmp_path / "bad.gift"
    bad.write_text("::a::Fine {T}\n\n::b::Broken {=x ~y\n", encoding="utf-8")
    result = runner.invoke(args=["lms", "questions", "import", "--course", course.code, str(bad)])
    assert result.exit_code == 1
    assert "bad.gift: line 3: The answer block is not closed with '}'." in result.output
    unknown = runner.invoke(args=["lms", "questions", "import", "--course", "NOPE-1", str(bad)])
    assert unknown.exit_code != 0 and "No course with this code." in unknown.output
