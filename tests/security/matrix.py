"""The access-control matrix: every endpoint of ``app.url_map`` × every role.

Each entry names who may use an endpoint, per HTTP method, and how to build its URL from the
seeded world (``tests.security.roles``): an argument value is a key of ``World.ids``, or a
literal when it starts with ``=``. ``test_access_matrix`` checks the table against
``app.url_map`` (a route without an entry fails the suite), then sends every method of every
route as every role and compares the outcome class with the table.

Platform administrators pass every permission rule (``lms.core.security.can``); they are
therefore in every set that a rule decides, and only out of sets decided by ownership (your
own attempt, upload, session or token)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tests.security.roles import (
    ANON,
    INST_ADMIN,
    OTHER_REGISTRAR,
    OTHER_TEACHER,
    PLATFORM,
    REGISTRAR,
    ROLES,
    STUDENT,
    TEACHER,
)

ALL = frozenset(ROLES)
SIGNED_IN = ALL - {ANON}
NOBODY: frozenset[str] = frozenset()
PA = frozenset({PLATFORM})
GX_ADMINS = frozenset({INST_ADMIN, PLATFORM})
GX_REGISTRARS = frozenset({REGISTRAR, INST_ADMIN, PLATFORM})
ANY_REGISTRARS = GX_REGISTRARS | {OTHER_REGISTRAR}
COURSE_STAFF = frozenset({TEACHER, INST_ADMIN, PLATFORM})
COURSE_STAFF_REG = COURSE_STAFF | {REGISTRAR}
TEACHERS = frozenset({OTHER_TEACHER, TEACHER, INST_ADMIN, PLATFORM})
GX_STAFF = frozenset({OTHER_TEACHER, TEACHER, REGISTRAR, INST_ADMIN, PLATFORM})
LEARNERS = COURSE_STAFF | {STUDENT}  # the course's enrolled student and its staff
LESSON_READERS = COURSE_STAFF_REG | {STUDENT}
STUDENT_ONLY = frozenset({STUDENT})
#: staff somewhere (a teacher, registrar or administrator of any institution)
STAFF_ANYWHERE = SIGNED_IN - {STUDENT}
#: a transcript of gx: its student, gx's registrars and administrators
TRANSCRIPT_READERS = GX_REGISTRARS | {STUDENT}


@dataclass(frozen=True)
class Case:
    """One way of calling an endpoint: URL arguments, and who may use each method."""

    args: dict[str, str]
    allowed: dict[str, frozenset[str]]
    bodies: dict[str, Any] = field(default_factory=dict)
    #: allowed roles may get 404 here (e.g. removing subtitles that do not exist)
    missing_ok: bool = False
    query: str = ""
    note: str = ""
    #: a machine-to-machine endpoint: anonymous callers get 403 (bad signature), not a
    #: sign-in page
    anon_forbidden: bool = False


@dataclass(frozen=True)
class Entry:
    endpoint: str
    cases: tuple[Case, ...]


def E(endpoint: str, args: dict[str, str] | None = None, **kw: Any) -> Entry:
    """One case. Keyword arguments named after methods (``get``, ``post``, …) give the
    allowed roles; ``any=`` gives them for every method of the route."""
    return Entry(endpoint, (C(args, **kw),))


def C(
    args: dict[str, str] | None = None,
    *,
    any: frozenset[str] | None = None,
    bodies: dict[str, Any] | None = None,
    missing_ok: bool = False,
    query: str = "",
    note: str = "",
    anon_forbidden: bool = False,
    **methods: frozenset[str],
) -> Case:
    allowed = {m.upper(): roles for m, roles in methods.items()}
    if any is not None:
        allowed["*"] = any
    return Case(args or {}, allowed, bodies or {}, missing_ok, query, note, anon_forbidden)


COURSE = {"code": "course"}
GX = {"slug": "gx"}
ATTEMPT = {"attempt_id": "attempt"}
ASSET = {"asset_id": "asset"}
UPLOAD = {"upload_id": "upload"}
LIVE = {"session_id": "live"}
TRANSCRIPT = {"transcript_id": "transcript"}
TRANSCRIPT_PAGE = {"public_id": "transcript"}

#: an offline operation on a lesson that does not exist (``offline_api.sync_batch``)
SYNC_UNKNOWN_LESSON = {
    "id": "0b7e1b8a-5c1e-4f55-9a52-3d0c4c1f0a01",
    "type": "lesson.complete",
    "lesson_id": 987654321,
}

ENTRIES: tuple[Entry, ...] = (
    # ------------------------------------------------------------------ analytics
    E("analytics.index", get=STAFF_ANYWHERE, note="whoever teaches, administers or registers"),
    Entry(
        "analytics.course",
        (
            C(COURSE, get=COURSE_STAFF, note="who manages its enrolments; not the registrar"),
            C({"code": "ph_course"}, get=PA, note="another institution's course"),
        ),
    ),
    Entry(
        "analytics.course_export",
        (
            C({"code": "course", "key": "=enrolments", "fmt": "=csv"}, get=COURSE_STAFF),
            C({"code": "course", "key": "=items", "fmt": "=xlsx"}, get=COURSE_STAFF),
            C(
                {"code": "course", "key": "=nothing", "fmt": "=csv"},
                get=COURSE_STAFF,
                missing_ok=True,
                note="an unknown table: 404 after the permission check",
            ),
        ),
    ),
    Entry(
        "analytics.institution",
        (C(GX, get=GX_REGISTRARS), C({"slug": "ph"}, get=frozenset({OTHER_REGISTRAR, PLATFORM}))),
    ),
    E(
        "analytics.institution_export",
        {"slug": "gx", "key": "=countries", "fmt": "=xlsx"},
        get=GX_REGISTRARS,
    ),
    E("analytics.platform", get=PA),
    E("analytics.platform_export", {"key": "=credits", "fmt": "=csv"}, get=PA),
    Entry(
        "analytics_api.course_analytics",
        (C(COURSE, get=COURSE_STAFF), C({"code": "ph_course"}, get=PA)),
    ),
    Entry(
        "analytics_api.institution_statistics",
        (C(GX, get=GX_REGISTRARS), C({"slug": "ph"}, get=frozenset({OTHER_REGISTRAR, PLATFORM}))),
    ),
    E("analytics_api.platform_statistics", get=PA),
    Entry(
        "xapi_api.statements",
        (
            C(get=STAFF_ANYWHERE, note="each sees the statements of the courses in reach"),
            C(
                get=COURSE_STAFF_REG,
                query="course=GX-SEC-101",
                note="the course's teachers, its institution's registrars and administrators",
            ),
        ),
    ),
    # ------------------------------------------------------------------ accounts
    E("accounts.admin_home", get=ANY_REGISTRARS),
    E("accounts.institution_edit", GX, any=GX_ADMINS),
    E("accounts.institution_members", GX, get=GX_REGISTRARS, post=GX_ADMINS),
    E("accounts.institution_new", any=PA),
    E("accounts.login", any=ALL),
    E("accounts.logout", post=ALL),
    E("accounts.membership_approve", {"membership_id": "pending_membership"}, post=GX_REGISTRARS),
    E("accounts.membership_revoke", {"membership_id": "student_membership"}, post=GX_ADMINS),
    E("accounts.password", any=SIGNED_IN),
    E("accounts.profile", any=SIGNED_IN),
    E("accounts.register", any=ALL),
    E("accounts.set_language", post=ALL),
    E("accounts.user_active", {"user_id": "student_id"}, post=GX_ADMINS),
    E("accounts.user_page", {"user_id": "student_id"}, get=GX_REGISTRARS | {STUDENT}),
    E("accounts.forgot_password", any=ALL),
    E("accounts.reset_password", {"token": "reset_token"}, any=ALL, note="a capability"),
    E("accounts.security", get=SIGNED_IN),
    E("accounts.end_session", {"session_id": "student_session"}, post=STUDENT_ONLY),
    E("accounts.end_other_sessions", post=SIGNED_IN),
    E("accounts.revoke_token", {"token_id": "student_token"}, post=STUDENT_ONLY),
    E("accounts.revoke_all_tokens", post=SIGNED_IN),
    E("accounts_api.create_institution", post=PA),
    E("accounts_api.create_token", post=ALL),
    E("accounts_api.get_institution", GX, get=ALL),
    E(
        "accounts_api.grant_membership",
        GX,
        post=GX_ADMINS,
        bodies={"POST": {"email": "=newcomer@example.org", "role": "=teacher"}},
    ),
    E("accounts_api.list_institutions", get=ALL),
    E("accounts_api.list_memberships", GX, get=GX_REGISTRARS),
    E("accounts_api.me", get=SIGNED_IN),
    E("accounts_api.update_me", patch=SIGNED_IN),
    E("accounts_api.revoke_membership", {"membership_id": "student_membership"}, delete=GX_ADMINS),
    E("accounts_api.revoke_token", delete=SIGNED_IN),
    E("accounts_api.list_tokens", get=SIGNED_IN),
    E("accounts_api.revoke_token_by_id", {"token_id": "student_token"}, delete=STUDENT_ONLY),
    E("api-docs.openapi_json", get=ALL),
    E("health", get=ALL),
    E("static", {"filename": "=css/app.css"}, get=ALL),
    # ------------------------------------------------------------------ assessment
    E("assessment.answer", ATTEMPT, post=STUDENT_ONLY | PA),
    E("assessment.attempt", ATTEMPT, get=LEARNERS),
    E("assessment.bank", COURSE, any=COURSE_STAFF),
    E("assessment.course_gradebook", COURSE, get=COURSE_STAFF_REG),
    E("assessment.create_assessment", COURSE, post=COURSE_STAFF),
    E("assessment.grade", {"response_id": "victim_response"}, post=COURSE_STAFF),
    E("assessment.gradebook_settings", COURSE, post=COURSE_STAFF),
    E("assessment.my_grades", COURSE, get=STUDENT_ONLY, note="staff have no grades: 404"),
    E("assessment.overview", {"assessment_id": "quiz"}, get=LEARNERS),
    E("assessment.queue", COURSE, get=COURSE_STAFF),
    Entry(
        "assessment.question",
        (
            C(
                {"code": "course", "question_id": "question"},
                any=COURSE_STAFF,
                bodies={"POST": {"locale": "=en", "stem": "=Upload the wiring diagram"}},
            ),
            C(
                {"code": "other_course", "question_id": "question"},
                any=NOBODY,
                note="a question of another course, even for that course's teacher: 404",
            ),
        ),
    ),
    E("assessment.response_file", {"response_id": "victim_response", "n": "=0"}, get=COURSE_STAFF),
    E("assessment.start", {"assessment_id": "quiz"}, post=STUDENT_ONLY),
    E("assessment_api.attempt_result", ATTEMPT, get=LEARNERS),
    E("assessment_api.course_gradebook", COURSE, get=COURSE_STAFF_REG),
    E("assessment_api.create_assessment", COURSE, post=COURSE_STAFF),
    E("assessment_api.create_question", COURSE, post=COURSE_STAFF),
    E("assessment_api.export_questions", COURSE, get=COURSE_STAFF, query="format=moodlexml"),
    E("assessment_api.get_attempt", ATTEMPT, get=LEARNERS),
    E("assessment_api.grade_response", {"response_id": "victim_response"}, post=COURSE_STAFF),
    E("assessment_api.grading_queue", COURSE, get=COURSE_STAFF),
    E("assessment_api.import_questions", COURSE, post=COURSE_STAFF),
    E("assessment_api.list_assessments", COURSE, get=LEARNERS),
    E("assessment_api.list_questions", COURSE, get=COURSE_STAFF),
    E("assessment_api.my_grades", COURSE, get=STUDENT_ONLY),
    E(
        "assessment_api.record_grade",
        COURSE,
        post=COURSE_STAFF,
        bodies={
            "POST": {
                "student_id": "victim_id",
                "category": "=quizzes",
                "title": "=Lab",
                "score": "=10",
                "max_score": "=10",
            }
        },
    ),
    E("assessment_api.save_answers", ATTEMPT, put=STUDENT_ONLY | PA),
    E(
        "assessment_api.set_category",
        {"code": "course", "key": "=quizzes"},
        put=COURSE_STAFF,
        bodies={"PUT": {"weight": "=1"}},
    ),
    E(
        "assessment_api.set_pass_mark",
        COURSE,
        put=COURSE_STAFF,
        bodies={"PUT": {"pass_mark": "=60"}},
    ),
    E("assessment_api.start_attempt", {"assessment_id": "quiz"}, post=STUDENT_ONLY),
    E("assessment_api.submit_attempt", ATTEMPT, post=STUDENT_ONLY | PA),
    E(
        "assessment_api.translate_question",
        {"code": "course", "question_id": "question", "locale": "=en"},
        put=COURSE_STAFF,
    ),
    # ------------------------------------------------------------------ catalogue
    E("catalog.catalogue", get=ALL),
    Entry(
        "catalog.course",
        (
            C(COURSE, get=ALL),
            C({"code": "draft"}, get=COURSE_STAFF_REG, note="a draft is for its staff"),
        ),
    ),
    E("catalog.course_edit", COURSE, any=COURSE_STAFF),
    E("catalog.course_new", GX, any=frozenset({OTHER_TEACHER, TEACHER, INST_ADMIN, PLATFORM})),
    E("catalog.course_texts", COURSE, any=COURSE_STAFF),
    E("catalog.glossary", COURSE, get=ALL),
    E("catalog.glossary_delete", {"code": "course", "term_id": "term"}, post=COURSE_STAFF),
    E("catalog.glossary_edit", COURSE, any=COURSE_STAFF),
    E("catalog.home", get=ALL),
    E("catalog.lesson", {"code": "course", "key": "lesson_key"}, get=LESSON_READERS),
    E("catalog.lesson_add", {"module_id": "module"}, post=COURSE_STAFF),
    E("catalog.lesson_delete", {"lesson_id": "lesson"}, post=COURSE_STAFF),
    E("catalog.lesson_media", {"lesson_id": "lesson"}, post=COURSE_STAFF),
    E("catalog.lesson_move", {"lesson_id": "lesson"}, post=COURSE_STAFF),
    E("catalog.lesson_texts", {"lesson_id": "lesson"}, any=COURSE_STAFF),
    E("catalog.module_add", COURSE, post=COURSE_STAFF),
    E("catalog.module_delete", {"module_id": "module"}, post=COURSE_STAFF),
    E("catalog.module_move", {"module_id": "module"}, post=COURSE_STAFF),
    E("catalog.module_texts", {"module_id": "module"}, any=COURSE_STAFF),
    E("catalog.outline", COURSE, get=COURSE_STAFF),
    E("catalog.review", COURSE, post=GX_ADMINS, bodies={"POST": {"decision": "=archive"}}),
    E("catalog.review_queue", get=TEACHERS, note="lists only what the user may review"),
    E("catalog.submit", COURSE, post=COURSE_STAFF),
    E("catalog.teach_home", get=TEACHERS),
    E("catalog_api.create_course", post=TEACHERS, bodies={"POST": {"institution": "=gx"}}),
    E("catalog_api.create_lesson", {"module_id": "module"}, post=COURSE_STAFF),
    E("catalog_api.create_module", COURSE, post=COURSE_STAFF),
    E("catalog_api.get_course", COURSE, get=ALL),
    E("catalog_api.get_lesson", {"lesson_id": "lesson"}, get=LESSON_READERS),
    E("catalog_api.list_courses", get=ALL),
    E(
        "catalog_api.review_course",
        COURSE,
        post=GX_ADMINS,
        bodies={"POST": {"decision": "=archive"}},
    ),
    E("catalog_api.submit_course", COURSE, post=COURSE_STAFF),
    E("catalog_api.update_course", COURSE, patch=COURSE_STAFF),
    E("catalog_api.update_lesson", {"lesson_id": "lesson"}, patch=COURSE_STAFF),
    E("catalog_api.update_module", {"module_id": "module"}, patch=COURSE_STAFF),
    # ------------------------------------------------------------------ credits
    E(
        "credits.agreement",
        {"code": "agreement"},
        get=ANY_REGISTRARS,
        post=GX_REGISTRARS,
        bodies={
            "POST": {
                "valid_from": "=2020-01-01",
                "valid_to": "=2099-12-31",
                "conversion": "=grade",
                "notes": "=changed",
                "equivalences": "=PH-SEC-101; GX-EQ-1; Engine basics",
            }
        },
        note="both parties read it; a POST by the source (ph) re-renders it and changes "
        "nothing (test_destructive_routes.py), the receiving side (gx) edits it",
    ),
    Entry(
        "credits.institution_agreements",
        (
            C(
                GX,
                any=GX_REGISTRARS,
                bodies={
                    "POST": {
                        "partner": "=ph",
                        "code": "=PH-GX-9",
                        "valid_from": "=2027-01-01",
                        "valid_to": "=2028-12-31",
                        "conversion": "=percent",
                        "equivalences": "=PH-SEC-101; GX-EQ-2; Engine basics",
                    }
                },
            ),
            C({"slug": "ph"}, any=frozenset({OTHER_REGISTRAR, PLATFORM})),
        ),
    ),
    E("credits.my_ledger", any=SIGNED_IN),
    E("credits.recognition_queue", GX, get=GX_REGISTRARS),
    E("credits.recognition_review", {"request_id": "request"}, any=GX_REGISTRARS),
    E("credits.scale", {"ref": "scale"}, get=ALL),
    E("credits.scale_edit", {"ref": "scale"}, any=GX_REGISTRARS),
    E("credits.scale_new", any=GX_REGISTRARS, query="institution=gx"),
    E("credits.scales", get=ALL),
    E("credits.settings", GX, any=GX_REGISTRARS),
    E("credits.system_edit", {"ref": "system"}, any=GX_REGISTRARS),
    E("credits.system_new", any=GX_REGISTRARS, query="institution=gx"),
    E("credits.systems", get=ALL),
    E("credits_api.convert_credits", post=ALL),
    E("credits_api.convert_grade", post=ALL),
    E("credits_api.create_credit_system", post=ANY_REGISTRARS),
    E("credits_api.create_grade_scale", post=ANY_REGISTRARS),
    E("credits_api.get_credit_system", {"ref": "system"}, get=ALL),
    E("credits_api.get_grade_scale", {"ref": "scale"}, get=ALL),
    E("credits_api.list_credit_systems", get=ALL),
    E("credits_api.list_grade_scales", get=ALL),
    E("credits_api.update_credit_system", {"ref": "system"}, patch=GX_REGISTRARS),
    E("credits_api.update_grade_scale", {"ref": "scale"}, patch=GX_REGISTRARS),
    E(
        "recognition_api.award_qualification",
        {"code": "qualification"},
        post=GX_REGISTRARS,
        bodies={
            "POST": {
                "student": "=victim@gx.example",
                "institution": "=gx",
                "awarded_on": "=2027-01-15",
                "certificate_number": "=1X-0001",
            }
        },
    ),
    E(
        "recognition_api.correct_record",
        {"record_id": "record"},
        post=frozenset({OTHER_REGISTRAR, PLATFORM}),
        bodies={"POST": {"credits": "=1", "reason": "=typo"}},
        note="the record was earned at ph: its registrars correct it",
    ),
    E(
        "recognition_api.create_agreement",
        post=GX_REGISTRARS,
        bodies={
            "POST": {
                "code": "=PH-GX-2",
                "source": "=ph",
                "target": "=gx",
                "valid_from": "=2027-01-01",
                "valid_to": "=2028-12-31",
            }
        },
        note="the receiving institution's registrars",
    ),
    E("recognition_api.create_qualification", post=PA),
    E(
        "recognition_api.decide_request",
        {"request_id": "request"},
        post=GX_REGISTRARS,
        bodies={"POST": {"reject": [], "approve": []}},
    ),
    E("recognition_api.get_record", {"record_id": "record"}, get=GX_REGISTRARS | {STUDENT}),
    E("recognition_api.list_agreements", get=SIGNED_IN),
    E("recognition_api.list_qualifications", get=ALL),
    E("recognition_api.list_records", get=SIGNED_IN),
    E("recognition_api.review_request", {"request_id": "request"}, get=GX_REGISTRARS | {STUDENT}),
    E("recognition_api.submit_request", post=SIGNED_IN),
    E("recognition_api.update_agreement", {"code": "agreement"}, patch=GX_REGISTRARS),
    # ------------------------------------------------------------------ enrolment
    E("enrolment.complete", {"code": "course", "key": "lesson_key"}, post=STUDENT_ONLY),
    E("enrolment.dashboard", get=SIGNED_IN),
    E("enrolment.decide", {"enrolment_id": "victim_enrolment"}, post=COURSE_STAFF),
    E("enrolment.enrol", COURSE, post=STUDENT_ONLY, note="staff do not enrol"),
    E("enrolment.finalize", COURSE, post=COURSE_STAFF),
    E("enrolment.roster", COURSE, get=COURSE_STAFF_REG),
    E("enrolment.selection", GX, any=GX_REGISTRARS),
    E("enrolment.settings", COURSE, any=COURSE_STAFF),
    E("enrolment.withdraw", COURSE, post=SIGNED_IN),
    E("enrolment.withdraw_student", {"enrolment_id": "victim_enrolment"}, post=COURSE_STAFF),
    E("enrolment_api.enrol", COURSE, post=STUDENT_ONLY),
    E("enrolment_api.withdraw", COURSE, delete=SIGNED_IN),
    E("enrolment_api.lesson_progress", {"lesson_id": "lesson"}, post=STUDENT_ONLY),
    E("enrolment_api.my_enrolments", get=SIGNED_IN),
    # ------------------------------------------------------------------ live
    E("live.add_recording", LIVE, post=COURSE_STAFF),
    E("live.attendance", LIVE, get=COURSE_STAFF_REG),
    E(
        "live.bbb_events",
        GX,
        post=NOBODY,
        anon_forbidden=True,
        note="a webhook: only BigBlueButton, with its checksum",
    ),
    E("live.cancel", LIVE, post=COURSE_STAFF),
    E("live.course_sessions", COURSE, get=LEARNERS, post=COURSE_STAFF),
    E("live.feed", {"token": "feed"}, get=ALL, note="a capability URL"),
    E("live.fetch_recordings", LIVE, post=COURSE_STAFF),
    E("live.join", LIVE, post=LEARNERS),
    E("live.leave", LIVE, post=LEARNERS),
    E("live.my_calendar", any=SIGNED_IN),
    E("live.roll_call", LIVE, post=COURSE_STAFF),
    E("live.session", LIVE, get=LEARNERS),
    E("live.session_ics", LIVE, get=LEARNERS),
    E("live.settings", GX, any=GX_ADMINS),
    E("live_api.create_session", COURSE, post=COURSE_STAFF),
    E("live_api.join", LIVE, get=LEARNERS),
    E("live_api.list_sessions", COURSE, get=LEARNERS),
    E("live_api.my_calendar", get=SIGNED_IN),
    # ------------------------------------------------------------------ media
    E("media.add_subtitles", ASSET, post=COURSE_STAFF),
    E("media.asset", ASSET, get=GX_STAFF),
    E(
        "media.file",
        {"asset_id": "asset", "token": "asset_token", "name": "=document.pdf"},
        get=ALL,
        note="a signed, expiring URL handed out after the permission check",
    ),
    E("media.my_media", get=TEACHERS),
    E("media.preferences", post=SIGNED_IN),
    E(
        "media.remove_subtitles",
        {"asset_id": "asset", "lang": "=en"},
        post=COURSE_STAFF,
        missing_ok=True,
    ),
    E("media.retry", ASSET, post=COURSE_STAFF),
    E("media.save_position", ASSET, post=GX_STAFF),
    E("media.start_upload", post=TEACHERS),
    E("media.status", ASSET, get=GX_STAFF),
    E("media.upload", any=TEACHERS),
    E("media.upload_abort", UPLOAD, delete=frozenset({TEACHER})),
    E("media.upload_chunk", UPLOAD, put=frozenset({TEACHER})),
    E("media.upload_complete", UPLOAD, post=frozenset({TEACHER})),
    E("media.upload_parts", UPLOAD, post=frozenset({TEACHER})),
    E("media.upload_state", UPLOAD, get=frozenset({TEACHER})),
    E("media_api.abort_upload", UPLOAD, delete=frozenset({TEACHER})),
    E("media_api.add_subtitles", ASSET, post=COURSE_STAFF),
    E("media_api.complete_upload", UPLOAD, post=frozenset({TEACHER})),
    E("media_api.create_media", post=TEACHERS),
    E("media_api.get_media", ASSET, get=GX_STAFF),
    E("media_api.get_preferences", get=SIGNED_IN),
    E("media_api.list_media", get=SIGNED_IN, note="your own media"),
    E("media_api.retry_media", ASSET, post=COURSE_STAFF),
    E("media_api.save_position", ASSET, put=GX_STAFF),
    E("media_api.set_preferences", put=SIGNED_IN),
    E("media_api.start_upload", post=TEACHERS),
    E("media_api.upload_chunk", UPLOAD, put=frozenset({TEACHER})),
    E("media_api.upload_parts", UPLOAD, post=frozenset({TEACHER})),
    E("media_api.upload_state", UPLOAD, get=frozenset({TEACHER})),
    # ------------------------------------------------------------------ offline
    E("offline.index", get=SIGNED_IN, note="lists only the user's own enrolments"),
    Entry(
        "offline.manifest",
        (
            C(COURSE, get=LESSON_READERS, note="who may read the lessons"),
            C({"code": "draft"}, get=COURSE_STAFF_REG, note="a draft is for its staff"),
        ),
    ),
    Entry(
        "offline.download_pack",
        (
            C(COURSE, get=LESSON_READERS),
            C({"code": "draft"}, get=COURSE_STAFF_REG),
        ),
    ),
    E("offline.session_info", get=SIGNED_IN),
    E(
        "offline.sync_batch",
        post=SIGNED_IN,
        note="each operation is checked as its user (test_destructive_routes.py)",
    ),
    E("offline.service_worker", get=ALL),
    Entry(
        "offline_api.manifest",
        (
            C(COURSE, get=LESSON_READERS),
            C({"code": "draft"}, get=COURSE_STAFF_REG),
        ),
    ),
    E(
        "offline_api.sync_batch",
        post=SIGNED_IN,
        bodies={"POST": {"operations": [SYNC_UNKNOWN_LESSON]}},
        note="each operation is checked as its user; an unknown lesson is rejected",
    ),
    # ------------------------------------------------------------------ operations
    E("operations.audit", get=ANY_REGISTRARS, note="each sees their institutions' events"),
    E("operations.audit_csv", get=ANY_REGISTRARS),
    E("operations.my_data", get=SIGNED_IN),
    Entry(
        "operations.export_user",
        (
            C({"user_id": "student_id"}, get=GX_ADMINS | {STUDENT}, note="oneself, or gx's admins"),
            C({"user_id": "victim_id"}, get=GX_ADMINS),
            C({"user_id": "ph_student_id"}, get=PA, note="gx's admin is not ph's"),
        ),
    ),
    Entry(
        "operations.erase_user",
        (
            C(
                {"user_id": "victim_id"},
                any=GX_ADMINS,
                bodies={"POST": {"confirm_email": "victim"}},
            ),
            C(
                {"user_id": "student_id"},
                any=GX_ADMINS,
                bodies={"POST": {"confirm_email": "=student@gx.example"}},
                note="never oneself",
            ),
            C(
                {"user_id": "inst_admin_id"},
                any=PA,
                bodies={"POST": {"confirm_email": "=admin@gx.example"}},
                note="an administrator cannot erase themselves",
            ),
            C(
                {"user_id": "ph_student_id"},
                any=PA,
                bodies={"POST": {"confirm_email": "=student@ph.example"}},
            ),
        ),
    ),
    Entry(
        "operations_api.erase_user",
        (
            C(
                {"user_id": "victim_id"},
                post=GX_ADMINS,
                bodies={"POST": {"confirm_email": "victim"}},
            ),
            C(
                {"user_id": "ph_student_id"},
                post=PA,
                bodies={"POST": {"confirm_email": "=student@ph.example"}},
            ),
        ),
    ),
    E("operations_api.list_audit_events", get=ANY_REGISTRARS),
    E("operations_api.my_personal_data", get=SIGNED_IN),
    Entry(
        "operations_api.user_personal_data",
        (
            C({"user_id": "student_id"}, get=GX_ADMINS | {STUDENT}),
            C({"user_id": "victim_id"}, get=GX_ADMINS),
            C({"user_id": "ph_student_id"}, get=PA),
        ),
    ),
    # ------------------------------------------------------------------ transcripts
    E("transcripts.my_transcripts", get=SIGNED_IN),
    Entry(
        "transcripts.transcript",
        (
            C(TRANSCRIPT_PAGE, get=TRANSCRIPT_READERS),
            C({"public_id": "victim_transcript"}, get=GX_REGISTRARS),
        ),
    ),
    E("transcripts.transcript_pdf", TRANSCRIPT_PAGE, get=TRANSCRIPT_READERS),
    E("transcripts.transcript_credential", TRANSCRIPT_PAGE, get=TRANSCRIPT_READERS),
    Entry(
        "transcripts.institution_transcripts",
        (
            C(GX, any=GX_REGISTRARS, bodies={"POST": {"student": "victim"}}),
            C({"slug": "ph"}, any=frozenset({OTHER_REGISTRAR, PLATFORM})),
        ),
    ),
    E("transcripts.reissue", TRANSCRIPT_PAGE, post=GX_REGISTRARS),
    E(
        "transcripts.revoke",
        TRANSCRIPT_PAGE,
        post=GX_REGISTRARS,
        bodies={"POST": {"reason": "=issued in error"}},
    ),
    E("transcripts.did_document", GX, get=ALL),
    E("transcripts.signing_keys", GX, any=GX_REGISTRARS),
    E("transcripts.status_list", {"slug": "gx", "list_id": "status_list"}, get=ALL),
    E("transcripts.verify_code", {"code": "code"}, get=ALL),
    E("transcripts.verify_page", any=ALL),
    E("transcripts_api.verify_credential", post=ALL),
    E("transcripts_issuance_api.get_credential", TRANSCRIPT, get=GX_REGISTRARS | {STUDENT}),
    E("transcripts_issuance_api.get_pdf", TRANSCRIPT, get=GX_REGISTRARS | {STUDENT}),
    E("transcripts_issuance_api.get_transcript", TRANSCRIPT, get=GX_REGISTRARS | {STUDENT}),
    E(
        "transcripts_issuance_api.issue_transcript",
        post=GX_REGISTRARS,
        bodies={"POST": {"student": "=victim@gx.example", "institution": "=gx"}},
    ),
    E("transcripts_issuance_api.my_transcripts", get=SIGNED_IN),
    E(
        "transcripts_issuance_api.revoke_transcript",
        TRANSCRIPT,
        post=GX_REGISTRARS,
        bodies={"POST": {"reason": "=issued in error"}},
    ),
)

BY_ENDPOINT = {e.endpoint: e for e in ENTRIES}
assert len(BY_ENDPOINT) == len(ENTRIES), "an endpoint is listed twice"
