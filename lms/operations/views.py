"""Pages of operations: the audit log, a person's data export and its erasure."""

from __future__ import annotations

import json

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from lms.accounts import services as accounts
from lms.core.errors import ValidationError
from lms.core.export import csv_response
from lms.core.pagination import paginate
from lms.core.security import require
from lms.operations import audit_log, privacy

bp = Blueprint("operations", __name__, template_folder="templates")


@bp.get("/admin/audit")
@login_required
def audit():
    require(current_user, "audit.view")
    try:
        filters = audit_log.Filters.parse(request.args)
    except ValidationError as exc:
        return render_template(
            "operations/audit.html",
            page=None,
            filters=audit_log.Filters(),
            args=request.args,
            errors=exc.errors,
            object_types=audit_log.object_types(),
        ), 422
    page = paginate(audit_log.search(current_user, filters), request.args.get("page", 1), 50)
    return render_template(
        "operations/audit.html",
        page=page,
        filters=filters,
        args=filters.as_args(),
        errors=[],
        object_types=audit_log.object_types(),
    )


@bp.get("/admin/audit.csv")
@login_required
def audit_csv():
    require(current_user, "audit.view")
    filters = audit_log.Filters.parse(request.args)
    stmt = audit_log.search(current_user, filters)
    return csv_response(audit_log.CSV_HEADER, audit_log.csv_rows(stmt), "audit-log.csv")


def _json_download(data: dict, filename: str) -> Response:
    body = json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True)
    return Response(
        body,
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.get("/profile/data")
@login_required
def my_data():
    return render_template("operations/my_data.html", user=current_user)


@bp.get("/users/<int:user_id>/data.json")
@login_required
def export_user(user_id: int):
    user = accounts.get_user(user_id)
    data = privacy.export_personal_data(current_user, user)
    return _json_download(data, f"personal-data-{user.id}.json")


@bp.route("/admin/users/<int:user_id>/erase", methods=["GET", "POST"])
@login_required
def erase_user(user_id: int):
    user = accounts.get_user(user_id)
    require(current_user, "privacy.erase", user)
    if request.method == "POST":
        try:
            privacy.erase_personal_data(
                current_user, user, confirm_email=request.form.get("confirm_email", "")
            )
        except ValidationError as exc:
            return render_template("operations/erase.html", user=user, errors=exc.errors), 422
        flash(_("The person's personal data was erased."), "success")
        return redirect(url_for("accounts.user_page", user_id=user.id))
    return render_template("operations/erase.html", user=user, errors=[])
