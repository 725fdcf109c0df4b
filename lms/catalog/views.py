"""Pages of the catalogue: browse and search, course and lesson pages, and the teaching
area where courses are authored in several languages and sent for review."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup

from lms.accounts import services as accounts
from lms.catalog import forms, services, signals
from lms.catalog.models import (
    ASEAN_LANGUAGES,
    CN_LEVELS,
    INDUSTRIES,
    KINDS,
    LESSON_KINDS,
    TRACKS,
    TRANSLATION_STATUSES,
)
from lms.catalog.ruby import annotate, gloss
from lms.core.db import serialise_writes
from lms.core.errors import ValidationError
from lms.core.extensions import db
from lms.core.forms import options, show_errors
from lms.core.i18n import LANGUAGES, current_locale
from lms.core.pagination import paginate
from lms.core.richtext import render
from lms.core.security import Role, can, require
from lms.core.web import asset_url
from lms.media import services as media_services
from lms.media import urls as media_urls

bp = Blueprint("catalog", __name__, template_folder="templates")


@bp.app_context_processor
def _labels() -> dict:
    return {
        "track_labels": forms.TRACK_LABELS,
        "kind_labels": forms.KIND_LABELS,
        "industry_labels": forms.INDUSTRY_LABELS,
        "cn_level_labels": forms.CN_LEVEL_LABELS,
        "lesson_kind_labels": forms.LESSON_KIND_LABELS,
        "course_status_labels": forms.STATUS_LABELS,
        "translation_status_labels": forms.TRANSLATION_STATUS_LABELS,
        "review_action_labels": forms.REVIEW_ACTION_LABELS,
    }


def _decimal(value: str | None) -> Decimal | None:
    try:
        return Decimal(value) if value else None
    except InvalidOperation:
        return None


# ---------------------------------------------------------------------------- public


@bp.get("/")
def home():
    institutions = db.session.scalars(accounts.list_institutions().limit(50)).all()
    latest = db.session.scalars(services.catalogue(services.CatalogueFilter()).limit(6)).all()
    return render_template("catalog/home.html", institutions=institutions, latest=latest)


#: the catalogue page counts matches up to this many ("10,000+ courses found")
CATALOGUE_COUNT_CAP = 10_000


@bp.get("/courses")
def catalogue():
    args = request.args
    level = args.get("level", "")
    filters = services.CatalogueFilter(
        q=args.get("q", "")[:200],
        track=args.get("track", ""),
        kind=args.get("kind", ""),
        industry=args.get("industry", ""),
        lang=args.get("language", ""),
        institution=args.get("institution", ""),
        country=args.get("country", "")[:2],
        level=int(level) if level.isdigit() else None,
        min_credits=_decimal(args.get("min_credits")),
        max_credits=_decimal(args.get("max_credits")),
    )

    def render_body() -> str:
        page = paginate(
            services.catalogue(filters), args.get("page", 1), 20, count_up_to=CATALOGUE_COUNT_CAP
        )
        institutions = db.session.scalars(accounts.list_institutions()).all()
        return render_template(
            "catalog/_catalogue_body.html",
            page=page,
            filters=filters,
            institutions=institutions,
            tracks=TRACKS,
            kinds=KINDS,
            industries=INDUSTRIES,
            query_args=_query_args(),
        )

    # the list is the same for every reader of this locale and query: rendered once, reused
    parts = ("page", current_locale(), sorted(args.items(multi=True)))

    def render_page() -> str:
        body = services.cached_catalogue(parts, render_body)
        return render_template("catalog/catalogue.html", body=Markup(body))

    if current_user.is_authenticated or session:
        return render_page()  # the reader's own menu, messages and token around the list
    # a visitor without a session sees what every such visitor sees: the whole page reused
    # (keyed by the stylesheet's fingerprint too, so a deploy never serves an old layout)
    whole = ("visitor", *parts, request.path, asset_url("css/app.css"))
    return services.cached_catalogue(whole, render_page)


def _query_args() -> dict:
    return {k: v for k, v in request.args.items() if k != "page" and v}


@bp.get("/courses/<code>")
def course(code: str):
    course = services.get_visible_course(current_user, code, outline=True)
    return render_template(
        "catalog/course.html",
        course=course,
        can_edit=can(current_user, "course.edit", course),
        lesson_count=services.lesson_count(course),
        panels=signals.panels(signals.course_panels, course, current_user),
    )


@bp.get("/courses/<code>/lessons/<key>")
def lesson(code: str, key: str):
    course = services.get_visible_course(current_user, code, outline=True)
    require(current_user, "lesson.view", course)
    lesson = services.get_lesson(course, key)
    if current_user.is_authenticated:
        # the receivers record activity: on SQLite take the write lock before they read,
        # so a student's pages opened in parallel wait instead of failing "locked"
        serialise_writes()
        signals.lesson_viewed.send(lesson, user=current_user._get_current_object())
    locale = current_locale()
    body, body_locale = lesson.text("body", locale)
    html = render(body)
    pinyin = request.args.get("pinyin") == "1" and course.track == "zh_plus"
    if pinyin:
        html = annotate(html, {t.term: t.pinyin for t in course.glossary})
    else:
        html = gloss(html, {t.term: (t.pinyin, t.meaning(locale)[0]) for t in course.glossary})
    side_locale = request.args.get("side", "")
    side = None
    if side_locale in LANGUAGES and side_locale != body_locale:
        row = lesson.translation(side_locale)
        if row is not None and row.body:
            side = (render(row.body), side_locale)
    media = _lesson_media(lesson)
    ordered = [item for m in course.modules for item in m.lessons]
    index = ordered.index(lesson)
    return render_template(
        "catalog/lesson.html",
        course=course,
        lesson=lesson,
        body=html,
        body_locale=body_locale,
        pinyin=pinyin,
        side=side,
        side_locale=side_locale,
        prev_lesson=ordered[index - 1] if index else None,
        next_lesson=ordered[index + 1] if index + 1 < len(ordered) else None,
        terms=[t for t in course.glossary if t.term in body],
        panels=signals.panels(signals.lesson_panels, lesson, current_user),
        media=media,
        actions=signals.panels(signals.lesson_actions, lesson, current_user),
    )


def _lesson_media(lesson) -> dict | None:
    """The lesson's video (for the player) or document (links to read or download)."""
    if not lesson.media_asset_id:
        return None
    asset = media_services.get_asset(lesson.media_asset_id)
    if asset.kind == "document":
        file_urls = media_urls.Urls(asset, current_user)
        return {
            "asset": asset,
            "document_url": file_urls.document(),
            "download_url": file_urls.document(download=True),
        }
    return {"asset": asset}


@bp.get("/courses/<code>/glossary")
def glossary(code: str):
    course = services.get_visible_course(current_user, code)
    return render_template("catalog/glossary.html", course=course)


# ---------------------------------------------------------------------------- teaching


@bp.get("/teach/")
@login_required
def teach_home():
    require(current_user, "course.teach")
    page = paginate(services.teaching(current_user), request.args.get("page", 1), 50)
    institutions = [
        m.institution
        for m in current_user.active_memberships()
        if m.role in (Role.TEACHER, Role.ADMIN)
    ]
    return render_template("catalog/teach_home.html", page=page, institutions=institutions)


def _fill_course_choices(form: forms.CourseForm, course=None) -> None:
    form.track.choices = options([(t, forms.TRACK_LABELS[t]) for t in TRACKS])
    form.asean_language.choices = options(
        [("", "—")] + [(c, LANGUAGES[c][0]) for c in ASEAN_LANGUAGES]
    )
    form.kind.choices = options([(k, forms.KIND_LABELS[k]) for k in KINDS])
    form.industry.choices = options([(i, forms.INDUSTRY_LABELS[i]) for i in INDUSTRIES])
    form.aqrf_level.choices = options([("", "—")] + [(str(n), str(n)) for n in range(1, 9)])
    form.cn_level.choices = options(
        [("", "—")] + [(c, forms.CN_LEVEL_LABELS[c]) for c in CN_LEVELS]
    )
    form.instruction_languages.choices = options([(c, n) for c, (n, _t) in LANGUAGES.items()])
    form.source_locale.choices = options([(c, n) for c, (n, _t) in LANGUAGES.items()])


def _course_data(form: forms.CourseForm) -> services.CourseData:
    return services.CourseData(
        code=form.code.data,
        track=form.track.data,
        asean_language=form.asean_language.data,
        kind=form.kind.data,
        industry=form.industry.data,
        aqrf_level=int(form.aqrf_level.data) if form.aqrf_level.data else None,
        cn_level=form.cn_level.data or None,
        credits=form.credits.data if form.credits.data is not None else 0,
        learning_hours=form.learning_hours.data or 0,
        instruction_languages=form.instruction_languages.data or [],
        source_locale=form.source_locale.data,
        capacity=form.capacity.data,
        starts_on=form.starts_on.data,
        ends_on=form.ends_on.data,
        prerequisites=(form.prerequisites.data or "").split(),
        teachers=(form.teachers.data or "").split() or None,
        given={"asean_language", "aqrf_level", "cn_level", "capacity", "starts_on", "ends_on"},
    )


@bp.route("/teach/institutions/<slug>/courses/new", methods=["GET", "POST"])
@login_required
def course_new(slug: str):
    institution = accounts.get_institution(slug)
    require(current_user, "course.create", institution)
    form = forms.CourseForm()
    _fill_course_choices(form)
    if request.method == "GET":
        form.source_locale.data = institution.default_locale
        form.instruction_languages.data = [institution.default_locale]
    if form.validate_on_submit():
        data = _course_data(form)
        try:
            course = services.create_course(
                current_user, institution, data, {data.source_locale: {"title": form.title.data}}
            )
        except ValidationError as exc:
            db.session.rollback()
            show_errors(form, exc)
            return render_template(
                "catalog/course_form.html", form=form, course=None, institution=institution
            ), 422
        flash(_("The course is created as a draft."), "success")
        return redirect(url_for("catalog.outline", code=course.code))
    return render_template(
        "catalog/course_form.html", form=form, course=None, institution=institution
    )


@bp.route("/teach/courses/<code>/edit", methods=["GET", "POST"])
@login_required
def course_edit(code: str):
    course = services.get_course(code)
    require(current_user, "course.edit", course)
    # On POST the submitted form is the only source: a field left out must not be filled
    # from the model (the teachers relationship then reached ``str.split``: a 500).
    form = forms.CourseForm(obj=course if request.method == "GET" else None)
    _fill_course_choices(form, course)
    if request.method == "GET":
        form.aqrf_level.data = str(course.aqrf_level or "")
        form.asean_language.data = course.asean_language or ""
        form.prerequisites.data = " ".join(p.code for p in course.prerequisites)
        form.teachers.data = " ".join(t.email for t in course.teachers)
    form.code.data = course.code
    if form.validate_on_submit():
        try:
            services.update_course(current_user, course, _course_data(form))
        except ValidationError as exc:
            db.session.rollback()
            show_errors(form, exc)
            return render_template(
                "catalog/course_form.html", form=form, course=course, institution=course.institution
            ), 422
        flash(_("Saved."), "success")
        return redirect(url_for("catalog.outline", code=course.code))
    return render_template(
        "catalog/course_form.html", form=form, course=course, institution=course.institution
    )


@bp.get("/teach/courses/<code>")
@login_required
def outline(code: str):
    course = services.get_course(code)
    require(current_user, "course.edit", course)
    module_form = forms.ModuleForm()
    lesson_form = forms.LessonForm()
    lesson_form.kind.choices = options([(k, forms.LESSON_KIND_LABELS[k]) for k in LESSON_KINDS])
    return render_template(
        "catalog/outline.html",
        course=course,
        module_form=module_form,
        lesson_form=lesson_form,
        can_review=can(current_user, "course.review", course),
        review_form=forms.ReviewForm(),
    )


def _translation_matrix(course) -> list[dict]:
    """For the authoring page: which locale has which texts."""
    rows = []
    for locale in LANGUAGES:
        ct = course.translation(locale)
        lessons_done = sum(
            1
            for m in course.modules
            for lesson in m.lessons
            if (t := lesson.translation(locale)) and t.title and t.body
        )
        rows.append(
            {
                "locale": locale,
                "status": ct.status if ct else None,
                "title": bool(ct and ct.title),
                "summary": bool(ct and ct.summary),
                "description": bool(ct and ct.description),
                "outcomes": bool(ct and ct.outcomes),
                "lessons": lessons_done,
            }
        )
    return rows


@bp.route("/teach/courses/<code>/texts", methods=["GET", "POST"])
@login_required
def course_texts(code: str):
    """Side-by-side editing of the course texts: a reference language beside the one
    being written."""
    course = services.get_course(code)
    require(current_user, "course.edit", course)
    locale = request.args.get("locale") or course.source_locale
    reference = request.args.get("reference") or course.source_locale
    if locale not in LANGUAGES or reference not in LANGUAGES:
        abort(404)
    form = forms.TextsForm()
    form.status.choices = options(
        [(s, forms.TRANSLATION_STATUS_LABELS[s]) for s in TRANSLATION_STATUSES]
    )
    row = course.translation(locale)
    if request.method == "GET" and row is not None:
        form.title.data, form.summary.data = row.title, row.summary
        form.description.data, form.outcomes.data = row.description, "\n".join(row.outcomes)
        form.status.data = row.status
    if form.validate_on_submit():
        try:
            services.set_course_texts(
                current_user,
                course,
                locale,
                {
                    "title": form.title.data,
                    "summary": form.summary.data,
                    "description": form.description.data,
                    "outcomes": form.outcomes.data,
                },
                form.status.data,
            )
        except ValidationError as exc:
            db.session.rollback()
            show_errors(form, exc)
        else:
            flash(_("Saved."), "success")
            return redirect(
                url_for("catalog.course_texts", code=code, locale=locale, reference=reference)
            )
    return render_template(
        "catalog/course_texts.html",
        course=course,
        form=form,
        locale=locale,
        reference=reference,
        ref=course.translation(reference),
        matrix=_translation_matrix(course),
        total_lessons=services.lesson_count(course),
    ), 422 if form.errors else 200


@bp.post("/teach/courses/<code>/modules")
@login_required
def module_add(code: str):
    course = services.get_course(code)
    form = forms.ModuleForm()
    services.add_module(
        current_user,
        course,
        form.key.data or "",
        {course.source_locale: {"title": form.title.data or ""}},
    )
    flash(_("The module is added."), "success")
    return redirect(url_for("catalog.outline", code=code))


@bp.post("/teach/modules/<int:module_id>/lessons")
@login_required
def lesson_add(module_id: int):
    module = services.get_module(module_id)
    form = forms.LessonForm()
    course = module.course
    services.add_lesson(
        current_user,
        module,
        form.key.data or "",
        form.kind.data or "text",
        {course.source_locale: {"title": form.title.data or ""}},
        minutes=form.minutes.data or 0,
        required=bool(form.required.data),
    )
    flash(_("The lesson is added."), "success")
    return redirect(url_for("catalog.outline", code=course.code))


@bp.post("/teach/modules/<int:module_id>/move")
@login_required
def module_move(module_id: int):
    module = services.get_module(module_id)
    services.move(current_user, module, request.form.get("direction", ""))
    return redirect(url_for("catalog.outline", code=module.course.code) + f"#module-{module.id}")


@bp.post("/teach/lessons/<int:lesson_id>/move")
@login_required
def lesson_move(lesson_id: int):
    lesson = services.get_lesson_by_id(lesson_id)
    services.move(current_user, lesson, request.form.get("direction", ""))
    return redirect(
        url_for("catalog.outline", code=lesson.module.course.code) + f"#lesson-{lesson.id}"
    )


@bp.post("/teach/modules/<int:module_id>/delete")
@login_required
def module_delete(module_id: int):
    module = services.get_module(module_id)
    code = module.course.code
    services.delete_module(current_user, module)
    flash(_("The module is removed."), "success")
    return redirect(url_for("catalog.outline", code=code))


@bp.post("/teach/lessons/<int:lesson_id>/delete")
@login_required
def lesson_delete(lesson_id: int):
    lesson = services.get_lesson_by_id(lesson_id)
    code = lesson.module.course.code
    services.delete_lesson(current_user, lesson)
    flash(_("The lesson is removed."), "success")
    return redirect(url_for("catalog.outline", code=code))


@bp.route("/teach/modules/<int:module_id>/texts", methods=["GET", "POST"])
@login_required
def module_texts(module_id: int):
    module = services.get_module(module_id)
    return _item_texts(
        module,
        module.course,
        ("title", "summary"),
        services.set_module_texts,
        url_for("catalog.module_texts", module_id=module_id),
    )


@bp.route("/teach/lessons/<int:lesson_id>/texts", methods=["GET", "POST"])
@login_required
def lesson_texts(lesson_id: int):
    lesson = services.get_lesson_by_id(lesson_id)
    return _item_texts(
        lesson,
        lesson.module.course,
        ("title", "body"),
        services.set_lesson_texts,
        url_for("catalog.lesson_texts", lesson_id=lesson_id),
    )


def _item_texts(item, course, fields: tuple[str, ...], setter, action: str):
    require(current_user, "course.edit", course)
    locale = request.args.get("locale") or course.source_locale
    reference = request.args.get("reference") or course.source_locale
    if locale not in LANGUAGES or reference not in LANGUAGES:
        abort(404)
    form = forms.TextsForm()
    form.status.choices = options(
        [(s, forms.TRANSLATION_STATUS_LABELS[s]) for s in TRANSLATION_STATUSES]
    )
    row = item.translation(locale)
    if request.method == "GET" and row is not None:
        for name in fields:
            getattr(form, name).data = getattr(row, name)
        form.status.data = row.status
    if form.validate_on_submit():
        try:
            setter(
                current_user,
                item,
                locale,
                {n: getattr(form, n).data for n in fields},
                form.status.data,
            )
        except ValidationError as exc:
            db.session.rollback()
            show_errors(form, exc)
        else:
            flash(_("Saved."), "success")
            return redirect(f"{action}?locale={locale}&reference={reference}")
    assets = []
    if getattr(item, "kind", None) in ("video", "document"):
        assets = [
            a
            for a in db.session.scalars(media_services.owned_by(current_user))
            if a.kind == item.kind
        ]
    return render_template(
        "catalog/item_texts.html",
        assets=assets,
        course=course,
        item=item,
        form=form,
        fields=fields,
        locale=locale,
        reference=reference,
        ref=item.translation(reference),
        action=action,
    ), (422 if form.errors else 200)


@bp.post("/teach/lessons/<int:lesson_id>/media")
@login_required
def lesson_media(lesson_id: int):
    """Attach one of the author's videos or documents to a video or document lesson."""
    lesson = services.get_lesson_by_id(lesson_id)
    services.update_lesson(
        current_user, lesson, media_asset_id=request.form.get("media_asset_id", "")
    )
    flash(_("Saved."), "success")
    return redirect(url_for("catalog.lesson_texts", lesson_id=lesson_id))


@bp.route("/teach/courses/<code>/glossary", methods=["GET", "POST"])
@login_required
def glossary_edit(code: str):
    course = services.get_course(code)
    require(current_user, "course.edit", course)
    form = forms.GlossaryForm()
    form.translation_locale.choices = options([(c, n) for c, (n, _t) in LANGUAGES.items()])
    if request.method == "GET":
        form.translation_locale.data = current_locale()
    status = 200
    if form.validate_on_submit():
        existing = next(
            (t for t in course.glossary if t.term == (form.term.data or "").strip()), None
        )
        translations = dict(existing.translations) if existing else {}
        if form.translation.data:
            translations[form.translation_locale.data] = form.translation.data
        try:
            services.set_glossary_term(
                current_user,
                course,
                form.term.data or "",
                pinyin=form.pinyin.data or "",
                translations=translations,
            )
        except ValidationError as exc:
            db.session.rollback()
            show_errors(form, exc)
            status = 422
        else:
            flash(_("Saved."), "success")
            return redirect(url_for("catalog.glossary_edit", code=code))
    return render_template("catalog/glossary_edit.html", course=course, form=form), status


@bp.post("/teach/courses/<code>/glossary/<int:term_id>/delete")
@login_required
def glossary_delete(code: str, term_id: int):
    course = services.get_course(code)
    term = next((t for t in course.glossary if t.id == term_id), None)
    if term is None:
        abort(404)
    services.delete_glossary_term(current_user, term)
    return redirect(url_for("catalog.glossary_edit", code=code))


@bp.post("/teach/courses/<code>/submit")
@login_required
def submit(code: str):
    course = services.get_course(code)
    services.submit_for_review(current_user, course)
    flash(_("The course is sent for review."), "success")
    return redirect(url_for("catalog.outline", code=code))


@bp.post("/teach/courses/<code>/review")
@login_required
def review(code: str):
    course = services.get_course(code)
    decision = request.form.get("decision")
    comment = request.form.get("comment", "")
    if decision == "approve":
        services.approve(current_user, course, comment)
        flash(_("The course is published."), "success")
    elif decision == "return":
        services.return_for_changes(current_user, course, comment)
        flash(_("The course is returned to its authors."), "success")
    elif decision == "archive":
        services.archive(current_user, course, comment)
        flash(_("The course is archived."), "success")
    elif decision == "reopen":
        services.reopen(current_user, course)
        flash(_("The course is a draft again."), "success")
    else:
        abort(400)
    return redirect(url_for("catalog.outline", code=code))


@bp.get("/review/courses")
@login_required
def review_queue():
    require(current_user, "course.teach")
    page = paginate(services.review_queue(current_user), request.args.get("page", 1), 50)
    return render_template("catalog/review_queue.html", page=page)
