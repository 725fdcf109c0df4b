"""Media: uploads, storage objects, transcoding to an adaptive HLS ladder, subtitles and the
player."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, g, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from lms.core.storage import get_storage
from lms.core.web import CSP, NavLink, add_nav_link


def media_player(asset: Any) -> dict[str, Any]:
    """Template global behind ``media/_player.html``: the player data for the signed-in
    viewer (checks permission). Marks the page as one that loads media."""
    from lms.media import services

    g.media_page = True
    return services.player_context(current_user, asset)


def media_page() -> str:
    """Template global for pages that talk to storage from the browser (the uploader)."""
    g.media_page = True
    return ""


def _media_csp(response: Response) -> Response:
    """Pages that load media or upload straight to S3 may also contact the store."""
    if not g.get("media_page") or response.mimetype != "text/html":
        return response
    origin = get_storage().browser_origin()
    if origin:
        policy = CSP
        for directive in ("connect-src", "media-src", "img-src"):
            policy = policy.replace(f"{directive} 'self'", f"{directive} 'self' {origin}")
        response.headers["Content-Security-Policy"] = policy
    return response


def _upload_limit() -> None:
    if request.endpoint == "media.upload" and request.method == "POST":
        from lms.media import services

        request.max_content_length = services.limit_for("video") + 1024 * 1024


def init_app(app: Flask) -> None:
    from lms.media import permissions, tasks, views  # noqa: F401  (rules and jobs register)

    app.register_blueprint(views.bp)
    app.before_request(_upload_limit)
    app.after_request(_media_csp)
    app.jinja_env.globals.update(media_player=media_player, media_page=media_page)
    add_nav_link(NavLink("media.my_media", _l("My media"), "media.upload", 40))
