"""What a file really is, read from its bytes (never from its name or the browser's claim).

Only the containers the platform accepts are recognised; everything else is ``unknown``,
``text`` or, for HLS and DASH manifests and ffmpeg concat scripts, ``playlist`` (refused:
a playlist would make ffmpeg read other files)."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

HEAD_BYTES = 64 * 1024

#: ISO-BMFF brands that are still images, not video
_IMAGE_BRANDS = {b"avif", b"avis", b"heic", b"heix", b"hevc", b"mif1", b"msf1", b"heim", b"heis"}


@dataclass(frozen=True)
class Sniffed:
    #: ``mp4``, ``mov``, ``matroska``, ``avi``, ``mpegts``, ``pdf``, ``playlist``, ``text``,
    #: ``image``, ``unknown``
    container: str
    mime: str

    @property
    def is_video(self) -> bool:
        return self.container in {"mp4", "mov", "matroska", "avi", "mpegts"}


def sniff(head: bytes) -> Sniffed:
    """Classify a file from its first bytes (``HEAD_BYTES`` are plenty)."""
    if len(head) >= 12 and head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in _IMAGE_BRANDS:
            return Sniffed("image", "image/heif")
        if brand == b"qt  ":
            return Sniffed("mov", "video/quicktime")
        return Sniffed("mp4", "video/mp4")
    if len(head) >= 8 and head[4:8] in {b"moov", b"mdat", b"wide", b"free", b"skip"}:
        return Sniffed("mov", "video/quicktime")
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        is_webm = b"webm" in head[:64]
        return Sniffed("matroska", "video/webm" if is_webm else "video/x-matroska")
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return Sniffed("avi", "video/x-msvideo")
    if len(head) >= 376 and head[0] == 0x47 and head[188] == 0x47 and head[376] == 0x47:
        return Sniffed("mpegts", "video/mp2t")
    if head.startswith(b"%PDF-"):
        return Sniffed("pdf", "application/pdf")
    if head[:3] in {b"\xff\xd8\xff"} or head.startswith((b"\x89PNG", b"GIF8")):
        return Sniffed("image", "image/*")
    text = _as_text(head)
    if text is not None:
        stripped = text.lstrip("\ufeff \t\r\n")
        if stripped.startswith("#EXTM3U") or stripped.startswith("ffconcat") or "<MPD" in text:
            return Sniffed("playlist", "application/vnd.apple.mpegurl")
        return Sniffed("text", "text/plain")
    return Sniffed("unknown", "application/octet-stream")


def _as_text(head: bytes) -> str | None:
    if b"\x00" in head:
        return None
    try:
        return head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start > len(head) - 4:  # a character cut by the end of the sample
            return head[: exc.start].decode("utf-8")
        return None


def iso_bmff_truncated(path: Path) -> bool:
    """True when the top-level boxes of an MP4/MOV file run past its end: a cut-off upload.

    Walks only the top-level box headers, so it costs a few reads whatever the size."""
    size = path.stat().st_size
    offset = 0
    with path.open("rb") as fh:
        while offset < size:
            fh.seek(offset)
            header = fh.read(16)
            if len(header) < 8:
                return True
            box_size = struct.unpack(">I", header[:4])[0]
            if box_size == 1:
                if len(header) < 16:
                    return True
                box_size = struct.unpack(">Q", header[8:16])[0]
            elif box_size == 0:  # the last box runs to the end of the file
                return False
            if box_size < 8:
                return True
            offset += box_size
    return offset != size


def pdf_truncated(path: Path) -> bool:
    """A PDF ends with ``%%EOF`` (followed by at most some whitespace)."""
    size = path.stat().st_size
    with path.open("rb") as fh:
        fh.seek(max(0, size - 2048))
        tail = fh.read()
    return b"%%EOF" not in tail
