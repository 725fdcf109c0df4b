"""Subtitles: SRT and WebVTT in, clean WebVTT out.

Cue text keeps only the WebVTT inline tags ``b``, ``i``, ``u`` (and their closing forms);
anything else that looks like markup is dropped, so a subtitle can never carry HTML."""

from __future__ import annotations

import re
from dataclasses import dataclass

from lms.core.text import nfc


class SubtitleError(ValueError):
    """``reason``: ``encoding``, ``empty``, ``format``."""

    def __init__(self, reason: str, line: int = 0):
        super().__init__(reason)
        self.reason = reason
        self.line = line


@dataclass
class Cue:
    start: float
    end: float
    text: str


_TIME = r"(?:(\d{1,3}):)?(\d{1,2}):(\d{2})[,.](\d{1,3})"
_TIMING = re.compile(rf"^\s*{_TIME}\s*-->\s*{_TIME}(?:\s+.*)?$")
_TAG = re.compile(r"<[^>]*>")
_KEEP = re.compile(r"^</?[biu]>$")


def _seconds(h: str | None, m: str, s: str, ms: str) -> float:
    return int(h or 0) * 3600 + int(m) * 60 + int(s) + int(ms.ljust(3, "0")) / 1000


def decode(data: bytes) -> str:
    """UTF-8 (with or without BOM) or UTF-16 with BOM; anything else is refused."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise SubtitleError("encoding") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SubtitleError("encoding") from None


def _clean(text: str) -> str:
    def keep(m: re.Match[str]) -> str:
        return m.group(0).lower() if _KEEP.match(m.group(0).lower()) else ""

    text = _TAG.sub(keep, text)
    text = text.replace("-->", "→")
    return nfc("\n".join(line.strip() for line in text.split("\n") if line.strip()))


def parse(text: str) -> tuple[str, list[Cue]]:
    """Parse SRT or WebVTT; returns ``(source_format, cues)``."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    if not text.strip():
        raise SubtitleError("empty")
    fmt = "vtt" if text.lstrip().startswith("WEBVTT") else "srt"
    blocks = re.split(r"\n\s*\n", text.strip())
    cues: list[Cue] = []
    line_no = 1
    for block in blocks:
        lines = block.split("\n")
        first_line = line_no
        line_no += len(lines) + 1
        if fmt == "vtt" and (
            lines[0].startswith(("WEBVTT", "NOTE", "STYLE", "REGION")) and "-->" not in lines[0]
        ):
            continue
        timing_at = next((i for i, ln in enumerate(lines[:3]) if "-->" in ln), None)
        if timing_at is None:
            raise SubtitleError("format", first_line)
        m = _TIMING.match(lines[timing_at])
        if m is None:
            raise SubtitleError("format", first_line + timing_at)
        g = m.groups()
        start, end = _seconds(*g[:4]), _seconds(*g[4:])
        if end < start:
            raise SubtitleError("format", first_line + timing_at)
        body = _clean("\n".join(lines[timing_at + 1 :]))
        if body:
            cues.append(Cue(start, end, body))
    if not cues:
        raise SubtitleError("empty")
    return fmt, cues


def _stamp(t: float) -> str:
    ms = round(t * 1000)
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"


def to_webvtt(cues: list[Cue]) -> str:
    out = ["WEBVTT", ""]
    for cue in cues:
        out += [f"{_stamp(cue.start)} --> {_stamp(cue.end)}", cue.text, ""]
    return "\n".join(out)


def convert(data: bytes) -> tuple[str, str, int]:
    """SRT or WebVTT bytes → ``(webvtt_text, source_format, cue_count)``."""
    fmt, cues = parse(decode(data))
    return to_webvtt(cues), fmt, len(cues)
