"""Pages of the media domain: my media, upload (plain form, enhanced by a resumable
uploader), an asset's page with its player, subtitles and retry, the uploader's JSON
endpoints (session and CSRF token, errors as problem+json) and file delivery by signed URL."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from lms.core.errors import NotFound, ValidationError
from lms.core.extensions import db
from lms.core.forms import options, show_errors
from lms.core.pagination import paginate
from lms.core.security import can, require
from lms.core.storage import get_storage
from lms.core.web import json_endpoint
from lms.media import delivery, services, uploads, urls
from lms.media.forms import DataSaverForm, SubtitleForm, UploadForm

bp = Blueprint("media", __name__, url_prefix="/media", template_folder="templates")


def _safe_next(target: str | None, fallback: str) -> str:
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return fallback
    return target


def _upload_choices(form: UploadForm) -> None:
    form.kind.choices = options([(k, str(label)) for k, label in services.KIND_LABELS.items()])


# ---------------------------------------------------------------------------- pages


@bp.get("/")
@login_required
def my_media():
    require(current_user, "media.upload")
    page = paginate(services.owned_by(current_user), request.args.get("page", 1), 25)
    return render_template(
        "media/list.html",
        page=page,
        error_message=services.error_message,
        interrupted=services.is_interrupted,
        status_labels=services.STATUS_LABELS,
        kind_labels=services.KIND_LABELS,
    )


@bp.route("/upload", methods=["GET", "POST"])
@login_required
def upload():
    require(current_user, "media.upload")
    form = UploadForm()
    _upload_choices(form)
    if request.method == "POST":
        file = request.files.get("file")
        if file is None or not file.filename:
            form.file.errors = [_("Please choose a file.")]
            return render_template("media/upload.html", form=form), 422
        try:
            asset, duplicate = services.upload_stream(
                current_user,
                file.stream,
                kind=form.kind.data or "video",
                filename=file.filename,
                title=form.title.data or "",
            )
        except ValidationError as exc:
            db.session.rollback()
            show_errors(form, exc)
            return render_template("media/upload.html", form=form), 422
        if duplicate:
            flash(_("You uploaded this file before; here it is."), "info")
        else:
            flash(_("The file is uploaded and is being processed."), "success")
        return redirect(url_for("media.asset", asset_id=asset.id))
    return render_template("media/upload.html", form=form)


@bp.get("/<asset_id>")
def asset(asset_id: str):
    item = services.get_asset_for_viewer(current_user, asset_id)
    manage = can(current_user, "media.manage", item)
    sub_form = SubtitleForm()
    sub_form.lang.choices = options(services.subtitle_languages())
    saver_form = DataSaverForm(data_saver=services.data_saver(current_user), next=request.path)
    saver_form.data_saver.choices = options(
        [(k, str(v)) for k, v in services.DATA_SAVER_LABELS.items()]
    )
    file_urls = urls.Urls(item, current_user)
    return render_template(
        "media/asset.html",
        asset=item,
        manage=manage,
        sub_form=sub_form,
        saver_form=saver_form,
        document_url=file_urls.document(),
        download_url=file_urls.document(download=True),
        error=services.describe(item, current_user)["error"],
        status_labels=services.STATUS_LABELS,
        subtitle_names=dict(services.subtitle_languages()),
    )


@bp.get("/<asset_id>/status")
@json_endpoint
def status(asset_id: str):
    item = services.get_asset_for_viewer(current_user, asset_id)
    body = services.describe(item, current_user)
    body["created_at"] = body["created_at"].isoformat().replace("+00:00", "Z")
    body["status_label"] = str(services.STATUS_LABELS[item.status])
    return jsonify(body)


@bp.post("/<asset_id>/retry")
@login_required
def retry(asset_id: str):
    item = services.get_asset(asset_id)
    services.retry(current_user, item)
    flash(_("Processing started again."), "success")
    return redirect(_safe_next(request.form.get("next"), url_for("media.asset", asset_id=item.id)))


@bp.post("/<asset_id>/subtitles")
@login_required
def add_subtitles(asset_id: str):
    item = services.get_asset(asset_id)
    require(current_user, "media.manage", item)
    file = request.files.get("file")
    data = file.read(services.subtitle_limit() + 1) if file else b""
    try:
        services.add_subtitle(current_user, item, lang=request.form.get("lang", ""), data=data)
    except ValidationError as exc:
        db.session.rollback()
        for err in exc.errors or [{"message": exc.message}]:
            flash(err["message"], "error")
        return redirect(url_for("media.asset", asset_id=item.id) + "#subtitles")
    flash(_("The subtitles are added."), "success")
    return redirect(url_for("media.asset", asset_id=item.id) + "#subtitles")


@bp.post("/<asset_id>/subtitles/<lang>/delete")
@login_required
def remove_subtitles(asset_id: str, lang: str):
    item = services.get_asset(asset_id)
    services.remove_subtitle(current_user, item, lang)
    flash(_("The subtitles are removed."), "success")
    return redirect(url_for("media.asset", asset_id=item.id) + "#subtitles")


@bp.post("/<asset_id>/position")
@json_endpoint
def save_position(asset_id: str):
    item = services.get_asset(asset_id)
    seconds = services.save_position(current_user, item, request.form.get("seconds", ""))
    return jsonify({"seconds": seconds})


@bp.post("/preferences")
@login_required
def preferences():
    value = services.set_data_saver(current_user, request.form.get("data_saver", ""))
    if request.headers.get("Accept", "").startswith("application/json"):
        return jsonify({"data_saver": value})
    flash(_("Saved."), "success")
    return redirect(_safe_next(request.form.get("next"), url_for("media.my_media")))


# ---------------------------------------------------------------------------- uploader


@bp.post("/uploads")
@json_endpoint
def start_upload():
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ValidationError(_("The request body is not valid JSON."))
    size = body.get("size")
    upload = uploads.start_upload(
        current_user,
        kind=str(body.get("kind") or ""),
        filename=str(body.get("filename") or ""),
        size=size if isinstance(size, int) and not isinstance(size, bool) else -1,
        title=str(body.get("title") or ""),
    )
    return jsonify(uploads.upload_state(upload)), 201


@bp.get("/uploads/<upload_id>")
@json_endpoint
def upload_state(upload_id: str):
    return jsonify(uploads.upload_state(uploads.get_upload(current_user, upload_id)))


@bp.put("/uploads/<upload_id>/chunk")
@json_endpoint
def upload_chunk(upload_id: str):
    upload = uploads.get_upload(current_user, upload_id)
    offset = request.args.get("offset", type=int)
    if offset is None:
        raise ValidationError(_("This chunk does not fit the upload."))
    new = uploads.receive_chunk(
        current_user,
        upload,
        offset=offset,
        stream=request.stream,
        length=request.content_length or 0,
    )
    return jsonify({"offset": new})


@bp.post("/uploads/<upload_id>/parts")
@json_endpoint
def upload_parts(upload_id: str):
    upload = uploads.get_upload(current_user, upload_id)
    body = request.get_json(silent=True) or {}
    numbers = body.get("part_numbers") if isinstance(body, dict) else None
    if not isinstance(numbers, list) or not all(isinstance(n, int) for n in numbers):
        raise ValidationError(_("This chunk does not fit the upload."))
    return jsonify({"parts": uploads.presign_parts(current_user, upload, numbers[:100])})


@bp.post("/uploads/<upload_id>/complete")
@json_endpoint
def upload_complete(upload_id: str):
    upload = uploads.get_upload(current_user, upload_id)
    item, duplicate = uploads.complete_upload(current_user, upload)
    if duplicate:
        flash(_("You uploaded this file before; here it is."), "info")
    return jsonify(
        {
            "id": item.id,
            "status": item.status,
            "duplicate": duplicate,
            "url": url_for("media.asset", asset_id=item.id),
        }
    ), (200 if duplicate else 202)


@bp.delete("/uploads/<upload_id>")
@json_endpoint
def upload_abort(upload_id: str):
    uploads.abort_upload(current_user, uploads.get_upload(current_user, upload_id))
    return "", 204


# ---------------------------------------------------------------------------- delivery


@bp.get("/files/<asset_id>/<token>/<path:name>")
def file(asset_id: str, token: str, name: str):
    """A file of an asset, for whoever holds a valid signed URL (Range requests work)."""
    if not urls.token_valid(token, asset_id):
        raise NotFound()
    item = services.get_asset(asset_id)
    found = delivery.file_for(item, name, download=request.args.get("download") == "1")
    store = get_storage()
    local = store.local_path(found.key)
    if local is not None:
        resp = send_file(
            local,
            mimetype=found.content_type,
            conditional=True,
            max_age=3600,
            as_attachment=found.attachment,
            download_name=found.filename,
        )
    elif found.small:
        try:
            data = store.read_bytes(found.key)
        except FileNotFoundError:
            raise NotFound() from None
        resp = Response(data, mimetype=found.content_type)
    else:
        url = store.presigned_get(
            found.key,
            expires=300,
            content_type=found.content_type,
            disposition=found.disposition,
        )
        resp = redirect(url or "/", 302)
    resp.headers["Cache-Control"] = "private, max-age=3600"
    return resp
