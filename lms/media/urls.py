"""Signed media URLs.

A viewer's permission is checked once, when a page or the API hands out URLs; the URLs then
carry a signed, time-limited token in their path (``/media/files/<id>/<token>/hls/…``), so
the relative URIs inside HLS playlists inherit it, native players and API clients need no
cookie, and the files can be cached per token."""

from __future__ import annotations

from typing import Any

from flask import current_app, url_for
from itsdangerous import BadSignature, URLSafeTimedSerializer

_SALT = "lms.media.file"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def token_for(asset_id: str, user_id: int | None) -> str:
    return _serializer().dumps([asset_id, user_id or 0])


def token_valid(token: str, asset_id: str) -> bool:
    try:
        data = _serializer().loads(token, max_age=int(current_app.config["MEDIA_URL_TTL"]))
    except BadSignature:
        return False
    return isinstance(data, list) and len(data) == 2 and data[0] == asset_id


class Urls:
    """URLs of one asset's files for one viewer."""

    def __init__(self, asset: Any, user: Any):
        self.asset = asset
        user_id = getattr(user, "id", None) if getattr(user, "is_authenticated", False) else None
        self.token = token_for(asset.id, user_id)

    def file(self, name: str, **query: Any) -> str:
        return url_for("media.file", asset_id=self.asset.id, token=self.token, name=name, **query)

    def hls(self) -> str | None:
        return self.file("hls/master.m3u8") if self._ready_video() else None

    def variant(self, name: str) -> str | None:
        names = {r["name"] for r in self.asset.renditions or []}
        return (
            self.file(f"hls/{name}/index.m3u8") if self._ready_video() and name in names else None
        )

    def mp4(self) -> str | None:
        return self.file("fallback.mp4") if self._ready_video() else None

    def poster(self) -> str | None:
        return self.file("poster.jpg") if self._ready_video() else None

    def thumbnails(self) -> str | None:
        return (
            self.file("thumbnails.vtt") if self._ready_video() and self.asset.thumbnails else None
        )

    def subtitle(self, lang: str) -> str:
        return self.file(f"subtitles/{lang}.vtt")

    def document(self, download: bool = False) -> str | None:
        if self.asset.kind != "document" or self.asset.status != "ready":
            return None
        return self.file("document.pdf", download=1) if download else self.file("document.pdf")

    def _ready_video(self) -> bool:
        return self.asset.kind == "video" and bool(self.asset.output_prefix)
