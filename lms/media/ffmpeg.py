"""Running ffmpeg safely, and probing a file with it (no ffprobe is needed).

Every run (DESIGN §9): an argument list, never a shell; the input demuxer forced from the
type sniffed from the bytes (playlists, concat scripts and image sequences can never be
chosen); ``-protocol_whitelist file``, so a crafted file cannot make ffmpeg open a URL or
another protocol; a time limit; and the process dies with its parent, so a killed worker
leaves no orphaned encoder behind."""

from __future__ import annotations

import ctypes
import os
import re
import signal
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app

#: sniffed container -> ffmpeg demuxer, the only demuxers an upload may be read with
DEMUXERS = {"mp4": "mov", "mov": "mov", "matroska": "matroska", "avi": "avi", "mpegts": "mpegts"}
#: decoders we accept; anything else is reported as an unsupported codec
VIDEO_CODECS = frozenset(
    {"h264", "hevc", "vp8", "vp9", "av1", "mpeg4", "mpeg2video", "mpeg1video", "mjpeg", "theora"}
)
AUDIO_CODECS = frozenset(
    {
        "aac",
        "mp3",
        "mp2",
        "opus",
        "vorbis",
        "ac3",
        "eac3",
        "flac",
        "alac",
        "pcm_s16le",
        "pcm_s16be",
        "pcm_s24le",
        "pcm_f32le",
        "pcm_u8",
    }
)
PROBE_TIMEOUT = 60


class FFmpegError(Exception):
    """ffmpeg failed. ``code`` is a stable reason (``corrupt``, ``timeout``, ``failed`` …)
    the domain turns into a translated message; ``detail`` is ffmpeg's own last words."""

    def __init__(self, code: str, detail: str = ""):
        super().__init__(f"{code}: {detail[-300:]}")
        self.code = code
        self.detail = detail


def executable() -> str:
    """``LMS_FFMPEG`` if set, else the binary shipped by imageio-ffmpeg (works on a fresh
    pip-only machine)."""
    configured = current_app.config.get("FFMPEG") if current_app else ""
    if configured:
        return configured
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def input_options(container: str) -> dict[str, str]:
    """The hardened options that read one uploaded file: its demuxer forced, the ``file``
    protocol only, and (for MP4/MOV) no references to other files."""
    demuxer = DEMUXERS.get(container)
    if demuxer is None:
        raise FFmpegError("unsupported_container", container)
    opts = {"protocol_whitelist": "file", "f": demuxer}
    if demuxer == "mov":
        opts |= {"enable_drefs": "0", "use_absolute_path": "0"}
    return opts


def input_url(path: Path) -> str:
    return f"file:{path.resolve()}"


def input_args(path: Path, container: str) -> list[str]:
    args: list[str] = []
    for key, value in input_options(container).items():
        args += [f"-{key}", value]
    return [*args, "-i", input_url(path)]


_libc = None
_PR_SET_PDEATHSIG = 1
#: ffmpeg runs at the lowest CPU priority, so a transcode on a machine shared with web
#: workers leaves them the CPU they need and still takes all the idle CPU (make bench, 2
#: cores: catalogue req/s while a transcode runs went from 0.26 to 0.75 of idle)
NICENESS = 19


def _die_with_parent() -> None:  # runs in the child between fork and exec
    if _libc is not None:
        _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    os.nice(NICENESS)


def _load_libc() -> None:
    global _libc
    if _libc is None and os.name == "posix":
        try:
            _libc = ctypes.CDLL(None, use_errno=True)
            _libc.prctl  # noqa: B018 - resolve the symbol before any fork
        except (OSError, AttributeError):
            _libc = None


def run(
    args: list[str],
    *,
    timeout: float,
    on_progress: Callable[[float], None] | None = None,
    cwd: Path | None = None,
) -> str:
    """Run ffmpeg with ``args`` (everything after the executable). ``on_progress`` receives
    the output time reached, in seconds. Returns ffmpeg's log; raises ``FFmpegError``."""
    _load_libc()
    argv = [executable(), "-hide_banner", "-nostdin", "-nostats", "-y"]
    if on_progress is not None:
        argv += ["-progress", "pipe:1"]
    argv += args
    log_path = Path(cwd or "/tmp") / f".ffmpeg-{os.getpid()}-{threading.get_ident()}.log"
    with log_path.open("w+b") as log:
        proc = subprocess.Popen(  # an argument list, never a shell
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE if on_progress else subprocess.DEVNULL,
            stderr=log,
            cwd=cwd,
            preexec_fn=_die_with_parent if os.name == "posix" else None,
        )
        timed_out = threading.Event()

        def _kill() -> None:
            timed_out.set()
            proc.kill()

        timer = threading.Timer(timeout, _kill)
        timer.daemon = True
        timer.start()
        try:
            if on_progress is not None and proc.stdout is not None:
                for raw in proc.stdout:
                    line = raw.decode("ascii", "replace").strip()
                    if line.startswith("out_time_us=") and line[12:].lstrip("-").isdigit():
                        on_progress(max(0, int(line[12:])) / 1e6)
            proc.wait()
        finally:
            timer.cancel()
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        log.seek(0)
        output = log.read().decode("utf-8", "replace")
    log_path.unlink(missing_ok=True)
    if timed_out.is_set():
        raise FFmpegError("timeout", output)
    if proc.returncode != 0:
        raise FFmpegError(classify(output), output)
    return output


def classify(log: str) -> str:
    """Turn ffmpeg's complaint into a stable reason."""
    low = log.lower()
    if "moov atom not found" in low or "invalid data found" in low or "truncat" in low:
        return "corrupt"
    if "decoder" in low and ("not found" in low or "unsupported" in low):
        return "unsupported_codec"
    if "protocol" in low and "not on whitelist" in low:
        return "forbidden_reference"
    return "failed"


# ---------------------------------------------------------------------------- probing


@dataclass
class Probe:
    duration: float | None = None
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    video_codec: str | None = None
    audio_codec: str | None = None
    rotation: int = 0
    streams: list[str] = field(default_factory=list)


_DURATION = re.compile(r"Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)")
_STREAM = re.compile(r"^\s*Stream #0:\d+.*?: (Video|Audio|Subtitle|Data|Attachment): (.*)$", re.M)
_SIZE = re.compile(r"(?<![\w.])(\d{2,5})x(\d{2,5})(?![\w.])")
_FPS = re.compile(r"([\d.]+) (?:fps|tbr)")
_ROTATE = re.compile(r"rotat(?:e|ion of)\s*:?\s*(-?[\d.]+)")


def parse_probe(log: str) -> Probe:
    """Read duration and streams from ``ffmpeg -i`` output (first input only)."""
    result = Probe()
    head = log.split("Output #", 1)[0]
    if m := _DURATION.search(head):
        h, mi, s = m.groups()
        result.duration = int(h) * 3600 + int(mi) * 60 + float(s)
    for kind, rest in _STREAM.findall(head):
        codec = rest.split(",", 1)[0].split()[0].strip()
        result.streams.append(f"{kind.lower()}:{codec}")
        if kind == "Video" and result.video_codec is None and "attached pic" not in rest:
            result.video_codec = codec
            if m := _SIZE.search(rest):
                result.width, result.height = int(m.group(1)), int(m.group(2))
            if m := _FPS.search(rest):
                result.fps = float(m.group(1))
        elif kind == "Audio" and result.audio_codec is None:
            result.audio_codec = codec
    if m := _ROTATE.search(head):
        result.rotation = int(float(m.group(1))) % 360
    return result


def probe(path: Path, container: str) -> Probe:
    """Open the file with the forced demuxer and read its streams; ``FFmpegError`` when
    ffmpeg cannot read it (``corrupt``) or it has no usable video (``not_video``)."""
    args = [*input_args(path, container), "-t", "0", "-f", "null", "-"]
    try:
        log = run(args, timeout=PROBE_TIMEOUT)
    except FFmpegError as exc:
        if exc.code == "failed" and "Stream #0" not in exc.detail:
            raise FFmpegError("corrupt", exc.detail) from None
        if exc.code == "failed":
            info = parse_probe(exc.detail)
            if info.video_codec and info.video_codec not in VIDEO_CODECS:
                raise FFmpegError("unsupported_codec", exc.detail) from None
        raise
    info = parse_probe(log)
    if info.video_codec is None or not info.width or not info.height:
        raise FFmpegError("not_video", log)
    if info.video_codec not in VIDEO_CODECS:
        raise FFmpegError("unsupported_codec", info.video_codec)
    if info.audio_codec is not None and info.audio_codec not in AUDIO_CODECS:
        raise FFmpegError("unsupported_codec", info.audio_codec)
    if not info.duration or info.duration <= 0:
        raise FFmpegError("corrupt", log)
    return info
