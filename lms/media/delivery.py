"""Which stored object a file name of an asset's signed URL space stands for, and how it is
served (content type, inline or attachment, through the app or straight from storage)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote

from lms.core.errors import NotFound
from lms.core.storage import guess_type
from lms.media.models import MediaAsset
from lms.media.services import subtitle


@dataclass
class FileRef:
    """Which stored object a public file name stands for, and how to serve it."""

    key: str
    content_type: str
    attachment: bool = False
    filename: str | None = None
    #: served through the app even from S3 (playlists, subtitles: small text files)
    small: bool = False

    @property
    def disposition(self) -> str | None:
        if not self.filename:
            return None
        kind = "attachment" if self.attachment else "inline"
        ascii_name = self.filename.encode("ascii", "ignore").decode() or "document.pdf"
        ascii_name = re.sub(r'[\\"\r\n;]', "_", ascii_name)
        return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(self.filename)}"


_OUTPUT_NAME = re.compile(
    r"hls/master\.m3u8|hls/[0-9a-z]+/(?:index\.m3u8|seg_\d{5}\.ts)"
    r"|poster\.jpg|fallback\.mp4|thumbnails\.vtt|thumbs/\d{4}\.jpg"
)


def file_for(asset: MediaAsset, name: str, *, download: bool = False) -> FileRef:
    """Resolve a file name of an asset's public URL space to its stored object; anything
    else is 404 (names are matched against a fixed pattern, never joined blindly)."""
    if name.startswith("subtitles/") and name.endswith(".vtt"):
        sub = subtitle(asset, name[len("subtitles/") : -len(".vtt")])
        return FileRef(sub.key, "text/vtt; charset=utf-8", small=True)
    if name == "document.pdf" and asset.kind == "document" and asset.status == "ready":
        filename = asset.original_filename or "document.pdf"
        if not filename.lower().endswith(".pdf"):
            filename += ".pdf"
        return FileRef(asset.original_key, "application/pdf", download, filename)
    if asset.kind == "video" and asset.output_prefix and _OUTPUT_NAME.fullmatch(name):
        small = name.endswith((".m3u8", ".vtt"))
        return FileRef(f"{asset.output_prefix}/{name}", guess_type(name), small=small)
    raise NotFound()
