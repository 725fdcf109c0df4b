"""The adaptive ladder for slow links, made in one ffmpeg run that decodes the source once.

From one decode, a ``split`` filter feeds: an HLS ladder of 720p / 480p / 360p / 240p
(never above the source) plus an audio-only variant, in 6-second segments with key frames
aligned to the segment boundaries; a progressive MP4 fallback (≤ 480p, ``faststart``); a
thumbnail every 10 seconds (with a WebVTT index of them); and a poster frame. The command is
built with ffmpeg-python and run as an argument list by ``lms.media.ffmpeg.run``."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ffmpeg as ffmpeg_python

from lms.media import ffmpeg
from lms.media.ffmpeg import FFmpegError, Probe

SEGMENT_SECONDS = 6
THUMB_EVERY = 10
THUMB_WIDTH = 160
FALLBACK_MAX_HEIGHT = 480


@dataclass(frozen=True)
class Rung:
    name: str
    height: int
    video_kbps: int
    audio_kbps: int = 96


#: the ladder, highest first; 240p is the data saver
LADDER = (
    Rung("720p", 720, 2500),
    Rung("480p", 480, 1100),
    Rung("360p", 360, 650),
    Rung("240p", 240, 300, 64),
)
AUDIO_ONLY = Rung("audio", 0, 0, 64)


def display_size(info: Probe) -> tuple[int, int]:
    width, height = info.width or 0, info.height or 0
    if info.rotation in (90, 270):
        width, height = height, width
    return width, height


def plan(info: Probe) -> list[Rung]:
    """The rungs for a source: every rung not above its height; a source smaller than the
    lowest rung gets one rung at its own (even) height."""
    _width, height = display_size(info)
    rungs = [r for r in LADDER if r.height <= height]
    if not rungs:
        low = LADDER[-1]
        rungs = [Rung(f"{height - height % 2}p", height - height % 2, low.video_kbps, 64)]
    return rungs


def build_args(
    src: Path, container: str, info: Probe, out: Path, *, preset: str = "veryfast"
) -> tuple[list[str], list[Rung]]:
    """The ffmpeg arguments (without the executable) writing everything into ``out``."""
    rungs = plan(info)
    has_audio = info.audio_codec is not None
    inp = ffmpeg_python.input(ffmpeg.input_url(src), **ffmpeg.input_options(container))
    fps_cap = info.fps is not None and info.fps > 31
    fallback = next((r for r in rungs if r.height <= FALLBACK_MAX_HEIGHT), rungs[-1])
    branches = inp.video.filter_multi_output("split", len(rungs) + 3)

    def scaled(i: int, height: int) -> Any:
        node = branches[i]
        if fps_cap:
            node = node.filter("fps", fps=30)
        return node.filter("scale", -2, height).filter("format", "yuv420p")

    video = [scaled(i, r.height) for i, r in enumerate(rungs)]
    audio = inp["a:0"] if has_audio else None
    hls_streams: list[Any] = [*video]
    stream_map = []
    opts: dict[str, Any] = {}
    for i, r in enumerate(rungs):
        kbps = r.video_kbps
        opts |= {
            f"b:v:{i}": f"{kbps}k",
            f"maxrate:v:{i}": f"{int(kbps * 1.1)}k",
            f"bufsize:v:{i}": f"{int(kbps * 1.5)}k",
        }
        if has_audio:
            hls_streams.append(audio)
            opts[f"b:a:{i}"] = f"{r.audio_kbps}k"
            stream_map.append(f"v:{i},a:{i},name:{r.name}")
        else:
            stream_map.append(f"v:{i},name:{r.name}")
    if has_audio:
        hls_streams.append(audio)
        opts[f"b:a:{len(rungs)}"] = f"{AUDIO_ONLY.audio_kbps}k"
        stream_map.append(f"a:{len(rungs)},name:{AUDIO_ONLY.name}")
    gop = f"expr:gte(t,n_forced*{SEGMENT_SECONDS})"
    common_video = {
        "c:v": "libx264",
        "preset": preset,
        "profile:v": "main",
        "force_key_frames": gop,
        "sc_threshold": 0,
    }
    common_audio = {"c:a": "aac", "ac": 2} if has_audio else {}
    hls = ffmpeg_python.output(
        *hls_streams,
        str(out / "hls" / "%v" / "index.m3u8"),
        f="hls",
        hls_time=SEGMENT_SECONDS,
        hls_playlist_type="vod",
        hls_flags="independent_segments",
        hls_segment_type="mpegts",
        hls_segment_filename=str(out / "hls" / "%v" / "seg_%05d.ts"),
        master_pl_name="master.m3u8",
        var_stream_map=" ".join(stream_map),
        **common_video,
        **common_audio,
        **opts,
    )
    n = len(rungs)
    mp4_streams = [scaled(n, fallback.height)] + ([audio] if has_audio else [])
    mp4 = ffmpeg_python.output(
        *mp4_streams,
        str(out / "fallback.mp4"),
        f="mp4",
        movflags="+faststart",
        **{"b:v": f"{fallback.video_kbps}k", "maxrate": f"{int(fallback.video_kbps * 1.2)}k"},
        **{"bufsize": f"{fallback.video_kbps * 2}k"},
        **common_video,
        **({"c:a": "aac", "ac": 2, "b:a": "96k"} if has_audio else {}),
    )
    thumbs = ffmpeg_python.output(
        # the first frame, then one every THUMB_EVERY seconds (even for a 3-second clip)
        branches[n + 1]
        .filter("select", f"isnan(prev_selected_t)+gte(t-prev_selected_t,{THUMB_EVERY})")
        .filter("scale", THUMB_WIDTH, -2)
        .filter("format", "yuvj420p"),
        str(out / "thumbs" / "%04d.jpg"),
        f="image2",
        fps_mode="vfr",
        **{"q:v": 5},
    )
    poster_at = min((info.duration or 0) * 0.1, 10.0)
    poster_height = min(720, rungs[0].height)
    poster = ffmpeg_python.output(
        branches[n + 2]
        .filter("trim", start=round(poster_at, 3))
        .filter("setpts", "PTS-STARTPTS")
        .filter("scale", -2, poster_height)
        .filter("format", "yuvj420p"),
        str(out / "poster.jpg"),
        f="image2",
        update=1,
        **{"frames:v": 1, "q:v": 3},
    )
    args = ffmpeg_python.merge_outputs(hls, mp4, thumbs, poster).compile(cmd="ffmpeg")[1:]
    return args, rungs


def transcode(
    src: Path,
    container: str,
    info: Probe,
    out: Path,
    *,
    timeout: float,
    preset: str = "veryfast",
    on_progress: Callable[[float], None] | None = None,
) -> dict[str, Any]:
    """Run the ladder into ``out`` (an empty folder) and check what came out. Returns
    ``{"renditions": […], "thumbnails": n}``; raises ``FFmpegError``."""
    for sub in ("hls", "thumbs"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    args, rungs = build_args(src, container, info, out, preset=preset)
    for r in rungs:
        (out / "hls" / r.name).mkdir(exist_ok=True)
    if info.audio_codec is not None:
        (out / "hls" / AUDIO_ONLY.name).mkdir(exist_ok=True)
    ffmpeg.run(args, timeout=timeout, on_progress=on_progress, cwd=out)
    renditions = check_output(out, info)
    thumbnails = write_thumbnail_index(out)
    return {"renditions": renditions, "thumbnails": thumbnails}


_ATTR = re.compile(r'([A-Z0-9-]+)=("[^"]*"|[^,]*)')


def parse_master(text: str) -> list[dict[str, Any]]:
    """The variants of a master playlist: ``[{"uri", "bandwidth", "width", "height",
    "codecs"}]``."""
    variants = []
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    for i, line in enumerate(lines):
        if line.startswith("#EXT-X-STREAM-INF:") and i + 1 < len(lines):
            attrs = {k: v.strip('"') for k, v in _ATTR.findall(line.split(":", 1)[1])}
            width, _, height = attrs.get("RESOLUTION", "0x0").partition("x")
            variants.append(
                {
                    "uri": lines[i + 1],
                    "bandwidth": int(attrs.get("BANDWIDTH", 0)),
                    "width": int(width or 0),
                    "height": int(height or 0),
                    "codecs": attrs.get("CODECS", ""),
                }
            )
    return variants


def media_playlist(text: str) -> tuple[list[str], float, bool]:
    """``(segment uris, total duration, complete)`` of a media playlist."""
    segments, total = [], 0.0
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("#EXTINF:"):
            total += float(line[8:].split(",", 1)[0])
        elif line and not line.startswith("#"):
            segments.append(line)
    return segments, total, "#EXT-X-ENDLIST" in text


def check_output(out: Path, info: Probe) -> list[dict[str, Any]]:
    """Every playlist complete, every segment present and non-empty, the whole duration
    covered (a source cut short in the middle is reported as ``corrupt``)."""
    master = out / "hls" / "master.m3u8"
    if not master.is_file():
        raise FFmpegError("failed", "no master playlist")
    variants = parse_master(master.read_text())
    if not variants:
        raise FFmpegError("failed", "empty master playlist")
    renditions = []
    for v in variants:
        playlist = (master.parent / v["uri"]).resolve()
        if master.parent.resolve() not in playlist.parents or not playlist.is_file():
            raise FFmpegError("failed", f"missing playlist {v['uri']}")
        segments, total, complete = media_playlist(playlist.read_text())
        if not complete or not segments:
            raise FFmpegError("failed", f"incomplete playlist {v['uri']}")
        for seg in segments:
            seg_path = playlist.parent / seg
            if "/" in seg or not seg_path.is_file() or seg_path.stat().st_size == 0:
                raise FFmpegError("failed", f"missing segment {seg}")
        if info.duration and total < info.duration * 0.9 - 0.5:
            raise FFmpegError("corrupt", f"{v['uri']} covers {total:.1f}s of {info.duration}s")
        name = v["uri"].split("/", 1)[0]
        renditions.append(
            {
                "name": name,
                "height": v["height"],
                "width": v["width"],
                "bandwidth": v["bandwidth"],
                "codecs": v["codecs"],
            }
        )
    for required in ("fallback.mp4", "poster.jpg"):
        path = out / required
        if not path.is_file() or path.stat().st_size == 0:
            raise FFmpegError("failed", f"missing {required}")
    return renditions


def write_thumbnail_index(out: Path) -> int:
    """A WebVTT track pointing at the thumbnails (what players use for seek previews)."""
    thumbs = sorted((out / "thumbs").glob("*.jpg"))
    lines = ["WEBVTT", ""]
    for i, path in enumerate(thumbs):
        start, end = i * THUMB_EVERY, (i + 1) * THUMB_EVERY
        lines += [f"{_clock(start)} --> {_clock(end)}", f"thumbs/{path.name}", ""]
    (out / "thumbnails.vtt").write_text("\n".join(lines))
    return len(thumbs)


def _clock(seconds: int) -> str:
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h:02d}:{m:02d}:{s:02d}.000"
