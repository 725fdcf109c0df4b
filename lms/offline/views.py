"""Pages and browser endpoints of offline study: the Offline page, a course's manifest for
the service worker, the sync endpoint for the page's queue (session + CSRF header), the
service worker script itself (root scope) and the downloadable pack."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    current_app,
    jsonify,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup

from lms.catalog import services as catalog
from lms.core.db import utcnow
from lms.core.i18n import current_locale
from lms.core.security import can
from lms.core.web import json_endpoint
from lms.enrolment import services as enrolment
from lms.offline import pack, services, sync

bp = Blueprint("offline", __name__, template_folder="templates")


def _no_store(resp: Response) -> Response:
    resp.headers["Cache-Control"] = "no-store"
    return resp


# ------------------------------------------------------------------------------- panels


def course_panel(course, user) -> Markup:
    """A link to save the course for offline study, for those who may read its lessons."""
    if not user.is_authenticated or not can(user, "lesson.view", course):
        return Markup("")
    return Markup(render_template("offline/_course_panel.html", course=course))


# -------------------------------------------------------------------------------- pages


@bp.get("/offline")
@login_required
def index():
    """Courses the student can save, with the size estimated from the stored objects; the
    page's script adds what is saved on this device (and the remove buttons)."""
    rows = []
    now = utcnow()
    for row in enrolment.my_enrolments(current_user):
        if row.status not in enrolment.ACTIVE:
            continue
        manifest = services.course_manifest(
            current_user, row.course, locale=current_locale(), now=now
        )
        rows.append({"course": row.course, "manifest": manifest})
    return render_template("offline/index.html", rows=rows)


@bp.get("/offline/courses/<code>/manifest.json")
@json_endpoint
def manifest(code: str):
    course = catalog.get_visible_course(current_user, code)
    result = services.course_manifest(current_user, course, locale=current_locale(), now=utcnow())
    body = result.as_dict()
    body["offline_page"] = url_for("offline.index")
    return _no_store(jsonify(body))


@bp.get("/offline/courses/<code>/pack.zip")
@login_required
def download_pack(code: str):
    """A zip of static pages and media to open without a connection (for phones whose
    browser keeps no service worker)."""
    course = catalog.get_visible_course(current_user, code)
    data, filename = pack.build_pack(current_user, course, locale=current_locale(), now=utcnow())
    resp = Response(data, mimetype="application/zip")
    resp.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return _no_store(resp)


@bp.get("/offline/session")
@json_endpoint
def session_info():
    """A fresh CSRF token and the signed-in user's id: the queue is flushed only under the
    account that made the operations, with a token valid for this session."""
    return _no_store(
        jsonify(
            {
                "user_id": current_user.id,
                "csrf_token": generate_csrf(),
                "messages": {
                    "synced": _("Your offline work was sent to the server."),
                    "rejected": _("Some of your offline work was not accepted:"),
                },
            }
        )
    )


@bp.post("/offline/sync")
@json_endpoint
def sync_batch():
    """The page's queue: the same batch format and answers as ``POST /api/v1/sync``; the
    session cookie authenticates and the X-CSRFToken header protects it."""
    operations = sync.parse_batch(request.get_json(silent=True))
    results = sync.apply_batch(current_user, operations, now=utcnow())
    return _no_store(jsonify({"results": [r.as_dict() for r in results]}))


@bp.get("/sw.js")
def service_worker():
    """The service worker, served from the root so its scope can be the whole site."""
    resp = send_from_directory(
        current_app.static_folder, "js/sw.js", mimetype="text/javascript", max_age=0
    )
    resp.headers["Service-Worker-Allowed"] = "/"
    resp.headers["Cache-Control"] = "no-cache"
    return resp
