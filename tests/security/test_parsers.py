"""Parsers under attack (issue #12, item 1.3): XML entity bombs and external entities, YAML
object tags and alias bombs, JSON nested to exhaust the stack or too large, and text that
is not UTF-8 or holds lone surrogates — each a clean 4xx (or a located problem) with a
translated message, never a 500, nothing written and nothing fetched or read."""

from __future__ import annotations

import ast
import io
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from lms.accounts.models import User
from lms.assessment import moodlexml
from lms.assessment.models import Question
from lms.catalog import packages
from lms.catalog.models import Course
from lms.core import inputs
from tests.catalog.conftest import course_factory, gx, write_package  # noqa: F401
from tests.conftest import bearer, login
from tests.security.inputs import http_sentinel, problem_of

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def teacher(make, gx):  # noqa: F811
    return make.user("teacher", gx, email="teacher.parsers@example.org", locale="en")


@pytest.fixture
def course(course_factory, teacher):  # noqa: F811
    return course_factory("GX-PARSE", teachers=[teacher.email])


def _import_xml(client, headers, code: str, body: bytes):
    return client.post(
        f"/api/v1/courses/{code}/questions/import",
        data={"file": (io.BytesIO(body), "bank.xml"), "format": "moodlexml"},
        content_type="multipart/form-data",
        headers=headers,
    )


def _questions(db_session) -> int:
    return db_session.scalar(select(func.count()).select_from(Question))


# ---------------------------------------------------------------------------- XML


def test_xml_external_entities_read_no_file_and_fetch_nothing(
    client, teacher, course, db_session, tmp_path
):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-VALUE")
    headers = bearer(client, teacher)
    with http_sentinel() as (url, hits):
        for target in (f"file://{secret}", f"{url}/xxe", f"{url}/dtd"):
            for doc in (
                f'<?xml version="1.0"?><!DOCTYPE quiz [<!ENTITY x SYSTEM "{target}">]>'
                '<quiz><question type="shortanswer"><name><text>&x;</text></name>'
                "<questiontext><text>&x;</text></questiontext>"
                '<answer fraction="100"><text>a</text></answer></question></quiz>',
                f'<?xml version="1.0"?><!DOCTYPE quiz SYSTEM "{target}"><quiz/>',
                f'<?xml version="1.0"?><!DOCTYPE quiz [<!ENTITY % p SYSTEM "{target}"> %p;]>'
                "<quiz/>",
            ):
                resp = _import_xml(client, headers, course.code, doc.encode())
                assert resp.status_code == 200, resp.text
                assert resp.json["imported"] == 0
                assert "refused for safety" in resp.json["errors"][0]["message"]
                assert "TOP-SECRET" not in resp.text
        assert hits == []
    assert _questions(db_session) == 0


def test_xml_billion_laughs_is_refused_quickly(client, teacher, course, db_session):
    entities = '<!ENTITY l0 "ha">' + "".join(
        f'<!ENTITY l{i} "{("&l" + str(i - 1) + ";") * 10}">' for i in range(1, 10)
    )
    doc = (
        f'<?xml version="1.0"?><!DOCTYPE quiz [{entities}]><quiz><question type="essay">'
        "<name><text>&l9;</text></name><questiontext><text>&l9;</text></questiontext>"
        "</question></quiz>"
    )
    resp = _import_xml(client, bearer(client, teacher), course.code, doc.encode())
    assert resp.status_code == 200 and resp.json["imported"] == 0
    assert "refused for safety" in resp.json["errors"][0]["message"]
    assert _questions(db_session) == 0


def test_quadratic_blowup_and_junk_xml_are_clean_problems():
    big = "A" * 100_000
    doc = f'<!DOCTYPE q [<!ENTITY a "{big}">]><quiz>{"&a;" * 1000}</quiz>'
    assert moodlexml.parse(doc.encode()).questions == []
    for junk in (b"", b"<", b"<quiz>", b"\xff\xfe<quiz/>", b"<quiz>&#xD800;</quiz>", b"\x00" * 50):
        result = moodlexml.parse(junk)
        assert result.questions == [] and result.errors


_PARSE = {"fromstring", "parse", "XML", "iterparse", "XMLParser", "parseString", "XMLPullParser"}


def _unsafe_xml_uses(source: str) -> list[int]:
    """Lines that parse XML with the standard library (which expands entities) or lxml."""
    tree = ast.parse(source)
    stdlib_names: set[str] = set()
    bad: list[int] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith(("lxml", "xml.sax", "xml.parsers", "pyexpat")):
                    bad.append(node.lineno)
                elif alias.name.startswith("xml."):
                    stdlib_names.add(alias.asname or alias.name)
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module.startswith(("lxml", "xml.sax", "xml.parsers", "pyexpat")):
                bad.append(node.lineno)
            elif node.module.startswith("xml"):
                for alias in node.names:
                    if alias.name in _PARSE:
                        bad.append(node.lineno)
                    stdlib_names.add(alias.asname or alias.name)
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and node.attr in _PARSE
            and isinstance(node.value, ast.Name)
            and node.value.id in stdlib_names
        ):
            bad.append(node.lineno)
    return bad


def test_every_xml_parser_in_the_code_is_defused():
    """No module parses XML with the standard library's (entity-expanding) parsers: the
    standard ElementTree may only build documents; parsing goes through defusedxml."""
    offenders = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in (ROOT / "lms").rglob("*.py")
        for line in _unsafe_xml_uses(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
    assert _unsafe_xml_uses("import xml.etree.ElementTree as ET\nET.fromstring(b'')") == [2]


# ---------------------------------------------------------------------------- YAML


def test_yaml_object_tags_never_run(tmp_path, gx, db_session):  # noqa: F811
    canary = tmp_path / "ran"
    for tag in (
        f"!!python/object/apply:os.system ['touch {canary}']",
        f"!!python/object/new:subprocess.Popen [['touch', '{canary}']]",
        "!!python/name:os.system",
        '!!python/object:builtins.dict {"a": 1}',
    ):
        pkg = write_package(tmp_path / "pkgs", code="YAML-TAG", extra=f"prerequisites: {tag}\n")
        with pytest.raises(packages.PackageError) as err:
            packages.import_packages([pkg])
        assert "not valid YAML" in str(err.value.problems[0])
    assert not canary.exists()
    assert db_session.scalar(select(func.count()).select_from(Course)) == 0


def test_yaml_alias_bomb_is_refused_without_expanding(tmp_path, gx, db_session):  # noqa: F811
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 12)]
    pkg = tmp_path / "BOMB-101"
    pkg.mkdir()
    (pkg / "course.yaml").write_text("\n".join(lines) + "\n")
    (pkg / "glossary.yaml").write_text("- &t {term: 词}\n- *t\n")
    with pytest.raises(packages.PackageError) as err:
        packages.import_packages([pkg])
    found = {str(p) for p in err.value.problems}
    assert any("course.yaml" in p and "Anchors and aliases" in p for p in found)
    assert db_session.scalar(select(func.count()).select_from(Course)) == 0


def test_every_yaml_load_in_the_code_is_safe():
    unsafe = re.compile(
        r"yaml\.(unsafe_load|full_load|load_all)\b|Loader=yaml\.(Loader|Full|Unsafe)"
    )
    loads = re.compile(r"yaml\.load\((?![^)]*Loader=_Loader)")
    offenders = [
        f"{path.relative_to(ROOT)}:{n}"
        for path in (ROOT / "lms").rglob("*.py")
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if unsafe.search(line) or loads.search(line)
    ]
    assert offenders == []
    assert issubclass(packages._Loader, __import__("yaml").SafeLoader)


# ---------------------------------------------------------------------------- JSON


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000 + b"]" * 100_000,
        b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
        b'{"display_name": ' + b"[" * 65 + b"]" * 65 + b"}",
    ],
    ids=["arrays-100k", "objects-50k", "just-over-the-limit"],
)
def test_deeply_nested_json_is_a_400_not_a_recursion_error(client, teacher, body):
    headers = bearer(client, teacher)
    for path, method in (("/api/v1/me", "patch"), ("/api/v1/courses", "post")):
        resp = getattr(client, method)(
            path, data=body, content_type="application/json", headers=headers
        )
        detail = problem_of(resp, 400)["detail"]
        assert "nested too deeply" in detail
    assert client.get("/api/v1/me", headers=headers).json["display_name"] == teacher.display_name


def test_json_nested_within_the_limit_still_reaches_validation(client, teacher):
    body = b'{"display_name": ' + b"[" * 60 + b"]" * 60 + b"}"
    resp = client.patch(
        "/api/v1/me", data=body, content_type="application/json", headers=bearer(client, teacher)
    )
    assert problem_of(resp, 422)["errors"][0]["field"] == "display_name"


def test_huge_json_is_a_413_before_parsing(client, teacher):
    headers = bearer(client, teacher)
    body = b'{"display_name": "' + b"x" * (inputs.MAX_JSON_BYTES + 10) + b'"}'
    resp = client.patch("/api/v1/me", data=body, content_type="application/json", headers=headers)
    assert problem_of(resp, 413)["type"].endswith("/payload-too-large")


@pytest.mark.parametrize(
    "body, words",
    [
        (b'{"display_name": "a\\ud800b"}', "not valid Unicode"),
        (b'{"display_name": "\\udfff"}', "not valid Unicode"),
        (b'{"display_name": "ok", "\\ud83d": 1}', "not valid Unicode"),
        (b'{"display_name": "a\xff\xfeb"}', "not valid UTF-8"),
        (b'{"display_name": "\xed\xa0\x80"}', "not valid UTF-8"),  # a surrogate, UTF-8-encoded
    ],
)
def test_bad_text_in_json_is_a_400(client, teacher, body, words):
    headers = bearer(client, teacher)
    resp = client.patch("/api/v1/me", data=body, content_type="application/json", headers=headers)
    assert words in problem_of(resp, 400)["detail"]
    assert client.get("/api/v1/me", headers=headers).json["display_name"] == teacher.display_name


def test_a_lone_surrogate_password_is_a_400_not_a_hashing_crash(client, teacher):
    resp = client.post(
        "/api/v1/auth/token",
        data=b'{"email": "teacher.parsers@example.org", "password": "\\ud800"}',
        content_type="application/json",
    )
    assert "not valid Unicode" in problem_of(resp, 400)["detail"]


def test_a_surrogate_pair_is_a_real_character(client, teacher):
    headers = bearer(client, teacher)
    resp = client.patch(
        "/api/v1/me",
        data=b'{"display_name": "Lan \\ud83c\\udf38"}',
        content_type="application/json",
        headers=headers,
    )
    assert resp.status_code == 200 and resp.json["display_name"] == "Lan 🌸"


# ---------------------------------------------------------------------------- forms, queries


@pytest.mark.parametrize("raw", ["%ff%fe", "%ed%a0%80", "%c0%af", "%e4%b8"])
def test_bad_utf8_in_query_strings_is_a_400(client, teacher, raw):
    headers = bearer(client, teacher)
    resp = client.get("/api/v1/courses", query_string="q=" + raw, headers=headers)
    assert "not valid UTF-8" in problem_of(resp, 400)["detail"]
    page = client.get("/courses", query_string="q=" + raw)
    assert page.status_code == 400 and page.mimetype == "text/html"
    assert "not valid UTF-8" in page.text


def test_good_utf8_in_query_strings_passes(client):
    resp = client.get("/api/v1/courses", query_string="q=汽车 điện ยานยนต์")
    assert resp.status_code == 200


@pytest.mark.parametrize(
    "encoded, raw", [(b"%ff", b"\xff"), (b"%ed%a0%80", b"\xed\xa0\x80"), (b"abc%c3", b"abc\xc3")]
)
def test_bad_utf8_in_form_fields_is_a_400_and_changes_nothing(
    client, teacher, db_session, encoded, raw
):
    login(client, teacher)
    resp = client.post(
        "/profile",
        data=b"display_name=Bad" + encoded + b"&locale=en&timezone=Asia%2FShanghai",
        content_type="application/x-www-form-urlencoded",
    )
    assert resp.status_code == 400 and "not valid UTF-8" in resp.text
    db_session.expire_all()
    assert db_session.get(User, teacher.id).display_name == teacher.display_name
    multipart = (
        b'--XX\r\nContent-Disposition: form-data; name="display_name"\r\n\r\nBad'
        + raw
        + b"\r\n--XX--\r\n"
    )
    resp = client.post("/profile", data=multipart, content_type="multipart/form-data; boundary=XX")
    assert resp.status_code == 400 and "not valid UTF-8" in resp.text
    db_session.expire_all()
    assert db_session.get(User, teacher.id).display_name == teacher.display_name


def test_login_form_with_bad_bytes_is_a_400(client, teacher):
    resp = client.post(
        "/login",
        data=b"email=%ed%a0%80%40example.org&password=%ff",
        content_type="application/x-www-form-urlencoded",
    )
    assert resp.status_code == 400 and "not valid UTF-8" in resp.text


def test_huge_integer_ids_are_404_not_overflow(client, teacher):
    headers = bearer(client, teacher)
    for path in (
        "/api/v1/attempts/99999999999999999999999",
        "/api/v1/modules/9223372036854775808",
        "/api/v1/credit-records/2147483648",  # one past a 32-bit INTEGER id
        "/api/v1/attempts/2147483648/submit",
    ):
        resp = client.get(path, headers=headers)
        assert resp.status_code in (404, 405), (path, resp.status_code)
        assert client.post(path, json={}, headers=headers).status_code in (404, 405)
    resp = client.get("/api/v1/courses", query_string={"page": 10**20}, headers=headers)
    assert problem_of(resp, 422)["errors"][0]["field"] == "page"


@pytest.mark.parametrize("number", [b"9007199254740992", b"-99999999999999999999", b"1" * 400])
def test_json_integers_beyond_ijson_range_are_a_400(client, teacher, number):
    resp = client.patch(
        "/api/v1/me",
        data=b'{"display_name": "x", "extra": [' + number + b"]}",
        content_type="application/json",
        headers=bearer(client, teacher),
    )
    assert "too large" in problem_of(resp, 400)["detail"]


def test_a_big_id_in_a_body_is_a_4xx_on_every_database(client, make, gx):  # noqa: F811
    """2**40 passes the I-JSON range but not a 32-bit id column: PostgreSQL refuses it
    (DataError), which is the request's fault, so a 422, never a 500."""
    student = make.user("student", gx)
    resp = client.post(
        "/api/v1/recognition-requests",
        json={"source_record_id": 2**40, "institution": "gx", "reason": "x"},
        headers=bearer(client, student),
    )
    assert 400 <= resp.status_code < 500, resp.text


# ---------------------------------------------------------------------------- uploaded text


@pytest.mark.parametrize(
    "fmt, body, message",
    [
        ("gift", b"::Q:: caf\xe9 {=a ~b}", "must be UTF-8"),
        ("gift", b"::Q:: \xed\xa0\x80 {=a ~b}", "must be UTF-8"),
        (
            "moodlexml",
            b'<?xml version="1.0" encoding="utf-8"?><quiz>\xff</quiz>',
            "not well formed",
        ),
    ],
)
def test_uploaded_question_files_with_bad_bytes(
    client, teacher, course, db_session, fmt, body, message
):
    resp = client.post(
        f"/api/v1/courses/{course.code}/questions/import",
        data={"file": (io.BytesIO(body), "bank.txt"), "format": fmt},
        content_type="multipart/form-data",
        headers=bearer(client, teacher),
    )
    text = resp.get_data(as_text=True)
    assert resp.status_code in (200, 422), text
    assert message in text
    assert _questions(db_session) == 0


def test_uploaded_lesson_file_with_bad_bytes_is_located(tmp_path, gx, db_session):  # noqa: F811
    pkg = write_package(tmp_path, code="BAD-UTF8")
    (pkg / "lessons" / "hello.en.md").write_bytes(b"## Hi\n\nline two \xed\xa0\x80\n")
    with pytest.raises(packages.PackageError) as err:
        packages.import_packages([pkg])
    assert [str(p) for p in err.value.problems] == [
        "BAD-UTF8/lessons/hello.en.md:3: The file is not valid UTF-8 text."
    ]
    assert db_session.scalar(select(func.count()).select_from(Course)) == 0


# ---------------------------------------------------------------------------- NUL

NUL_REQUESTS = [
    ("get", "/api/v1/courses?q=a%00b", None),
    ("get", "/courses?q=a%00b", None),
    ("get", "/api/v1/courses/AB%00C", None),
    ("get", "/api/v1/grade-scales/a%00b", None),
    ("get", "/courses/AB%00C", None),
    ("patch", "/api/v1/me", b'{"display_name": "a\\u0000b"}'),
    ("post", "/api/v1/courses", b'{"code": "NUL\\u0000-1", "institution": "gx"}'),
]


@pytest.mark.parametrize("method, path, body", NUL_REQUESTS)
def test_nul_characters_are_a_400_on_every_database(client, teacher, method, path, body):
    """PostgreSQL refuses NUL in text: without the guard, the first query using it fails
    with a 500. It is refused at the door on every backend alike."""
    kwargs = {"headers": bearer(client, teacher)}
    if body is not None:
        kwargs |= {"data": body, "content_type": "application/json"}
    resp = getattr(client, method)(path, **kwargs)
    assert resp.status_code == 400, (path, resp.status_code)
    assert "NUL character" in resp.get_data(as_text=True)


def test_nul_in_form_fields_is_a_400(client, teacher, db_session):
    login(client, teacher)
    resp = client.post(
        "/profile",
        data=b"display_name=a%00b&locale=en",
        content_type="application/x-www-form-urlencoded",
    )
    assert resp.status_code == 400 and "NUL character" in resp.text
    resp = client.post("/profile", data={"display_name": "a\x00b", "locale": "en"})
    assert resp.status_code == 400 and "NUL character" in resp.text
    db_session.expire_all()
    assert db_session.get(User, teacher.id).display_name == teacher.display_name


def test_a_credential_with_nul_is_a_4xx_on_every_database(client):
    doc = (
        b'{"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"],'
        b' "issuer": "did:web:lms.example:institutions:a\\u0000b", "credentialSubject": {},'
        b' "proof": {"type": "DataIntegrityProof", "verificationMethod":'
        b' "did:web:lms.example:institutions:a\\u0000b#key-1"}}'
    )
    resp = client.post("/api/v1/credentials/verify", data=doc, content_type="application/json")
    assert 400 <= resp.status_code < 500 or resp.json["status"] in ("unknown_issuer", "tampered")
