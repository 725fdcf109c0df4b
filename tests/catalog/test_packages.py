from pathlib import Path

import pytest
from sqlalchemy import func, select

from lms.catalog import packages
from lms.catalog.models import Course, Lesson
from tests.catalog.conftest import write_package

COURSES = Path(__file__).resolve().parents[2] / "courses"


def test_import_is_idempotent_and_updates_by_code(tmp_path, gx, db_session):
    pkg = write_package(tmp_path)
    [course] = packages.import_packages([pkg])
    lesson_ids = {lesson.key: lesson.id for m in course.modules for lesson in m.lessons}
    assert course.status == "published" and course.title("th") == ("ภาษาไทยสำหรับมัคคุเทศก์", "th")
    assert [t.term for t in course.glossary] == ["导游", "游客"]
    assert course.glossary[1].pinyin == "yóukè"  # generated when the package leaves it out
    # change a title and import again: same rows, new text
    text = (pkg / "course.yaml").read_text().replace("Thai for Tour Guides", "Thai for Guides")
    (pkg / "course.yaml").write_text(text)
    [again] = packages.import_packages([pkg])
    assert again.id == course.id and again.title("en")[0] == "Thai for Guides"
    assert {lesson.key: lesson.id for m in again.modules for lesson in m.lessons} == lesson_ids
    assert db_session.scalar(select(func.count()).select_from(Course)) == 1


def test_export_then_import_round_trips_exactly(tmp_path, gx, db_session):
    pkg = write_package(tmp_path / "src")
    [course] = packages.import_packages([pkg])
    first = packages.export_package(course, tmp_path / "out1")
    packages.import_packages([first])
    second = packages.export_package(course, tmp_path / "out2")
    assert _tree(first) == _tree(second)
    assert (first / "lessons" / "hello.th.md").read_text() == "## การทักทาย\n\nสวัสดีครับ\n"


def _tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_three_deliberate_errors_are_located_and_nothing_is_written(tmp_path, gx, db_session):
    pkg = write_package(tmp_path)
    text = (pkg / "course.yaml").read_text()
    text = text.replace("industry: culture_tourism", "industry: space_travel")  # 1
    text = text.replace("aqrf_level: 3", "aqrf_level: 11")  # 2
    text = text.replace("body: lessons/thanks", "body: ../../etc/passwd")  # 3
    (pkg / "course.yaml").write_text(text)
    with pytest.raises(packages.PackageError) as err:
        packages.import_packages([pkg])
    problems = err.value.problems
    assert len(problems) == 3, [str(p) for p in problems]
    lines = text.splitlines()
    located = {(p.file, p.line) for p in problems}
    assert ("TEST-101/course.yaml", lines.index("industry: space_travel") + 1) in located
    assert ("TEST-101/course.yaml", lines.index("aqrf_level: 11") + 1) in located
    assert any("inside the package" in p.message for p in problems)
    assert db_session.scalar(select(func.count()).select_from(Course)) == 0


def test_one_bad_package_stops_the_whole_batch(tmp_path, gx, db_session):
    write_package(tmp_path, "GOOD-101")
    bad = write_package(tmp_path, "BAD-101")
    (bad / "lessons" / "hello.en.md").unlink()
    (bad / "lessons" / "hello.th.md").unlink()
    (bad / "lessons" / "hello.zh_Hans.md").unlink()
    with pytest.raises(packages.PackageError) as err:
        packages.import_packages([tmp_path])
    assert [p.file for p in err.value.problems] == ["BAD-101/course.yaml"]
    assert db_session.scalar(select(func.count()).select_from(Course)) == 0


@pytest.mark.parametrize(
    "content, reason",
    [
        ("code: X\n  bad: [", "not valid YAML"),
        ("a: &x [1]\nb: *x\n", "Anchors and aliases"),
        ("!!python/object/apply:os.system ['true']\n", "not valid YAML"),
    ],
)
def test_hostile_yaml_is_refused(tmp_path, gx, db_session, content, reason):
    pkg = tmp_path / "EVIL-101"
    pkg.mkdir()
    (pkg / "course.yaml").write_text(content)
    with pytest.raises(packages.PackageError) as err:
        packages.import_packages([pkg])
    assert reason in str(err.value.problems[0])


def test_links_and_oversized_files_are_refused(tmp_path, gx, db_session):
    pkg = write_package(tmp_path)
    (pkg / "lessons" / "thanks.en.md").unlink()
    (pkg / "lessons" / "thanks.en.md").symlink_to("/etc/hostname")
    (pkg / "lessons" / "hello.en.md").write_bytes(b"x" * (packages.MAX_FILE_BYTES + 1))
    with pytest.raises(packages.PackageError) as err:
        packages.import_packages([pkg])
    messages = " ".join(p.message for p in err.value.problems)
    assert "Links are not allowed" in messages and "larger than 1 MB" in messages


def test_removed_lessons_are_removed_and_moved_ones_keep_their_id(tmp_path, gx, db_session):
    pkg = write_package(tmp_path)
    packages.import_packages([pkg])
    hello_id = db_session.scalar(select(Lesson.id).filter_by(key="hello"))
    text = (pkg / "course.yaml").read_text()
    start = text.index("  - key: thanks")
    (pkg / "course.yaml").write_text(text[:start])
    packages.import_packages([pkg])
    assert db_session.scalars(select(Lesson.key)).all() == ["hello"]
    assert db_session.scalar(select(Lesson.id).filter_by(key="hello")) == hello_id


def test_the_shipped_packages_import_and_cover_the_catalogue(app, runner, db_session, client):
    result = runner.invoke(args=["lms", "demo"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["lms", "courses", "import", str(COURSES)])
    assert result.exit_code == 0, result.output
    body = client.get("/api/v1/courses?per_page=100").json
    assert body["total"] >= 8
    assert {c["track"] for c in body["items"]} >= {"zh_plus", "en_plus", "asean_plus"}
    assert len({c["industry"] for c in body["items"]}) >= 6
    for code in (c["code"] for c in body["items"]):
        course = db_session.scalar(select(Course).filter_by(code=code))
        assert len(course.modules) >= 2 and sum(len(m.lessons) for m in course.modules) >= 4
        assert len(course.glossary) >= 10
        assert {"zh_Hans", "en"} <= set(course.locales) and len(course.locales) >= 3


def test_every_shipped_package_round_trips(app, runner, db_session, tmp_path):
    runner.invoke(args=["lms", "demo"])
    result = runner.invoke(args=["lms", "courses", "import", str(COURSES)])
    assert result.exit_code == 0, result.output
    for pkg in packages.find_packages([COURSES]):
        course = db_session.scalar(select(Course).filter_by(code=pkg.name))
        exported = packages.export_package(course, tmp_path)
        assert _tree(exported) == _tree(pkg), f"{pkg.name} does not round-trip"


def test_cli_reports_problems_with_file_and_line(tmp_path, runner, gx):
    pkg = write_package(tmp_path)
    (pkg / "course.yaml").write_text(
        (pkg / "course.yaml").read_text().replace("track: asean_plus", "track: nonsense")
    )
    result = runner.invoke(args=["lms", "courses", "import", str(pkg)])
    assert result.exit_code != 0
    assert "TEST-101/course.yaml:3: track must be one of" in result.output


def test_a_lesson_moved_to_another_module_keeps_its_id(tmp_path, gx, db_session):
    pkg = write_package(tmp_path)
    packages.import_packages([pkg])
    thanks_id = db_session.scalar(select(Lesson.id).filter_by(key="thanks"))
    text = (pkg / "course.yaml").read_text()
    start = text.index("  - key: thanks")
    moved = text[start:].replace("  - key: thanks", "  - key: thanks", 1)
    text = text[:start] + "- key: more\n  title:\n    en: More\n  lessons:\n" + moved
    (pkg / "course.yaml").write_text(text)
    [course] = packages.import_packages([pkg])
    assert [m.key for m in course.modules] == ["greetings", "more"]
    assert [lesson.key for lesson in course.modules[1].lessons] == ["thanks"]
    assert course.modules[1].lessons[0].id == thanks_id
