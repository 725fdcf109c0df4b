"""Benchmark: the HLS job against the bare ffmpeg command it runs.

Both transcode the same generated clip. The job is ``lms.media.processing.run_transcode``
(claim, probe, the one-run ladder with progress and heartbeats, output checks, publication
to storage, database updates); the baseline is the very ffmpeg argument list the job builds,
run bare. Each figure is a realtime factor (seconds of video per second of work), and the
result is their ratio measured in the same run, so machine drift cancels out (DESIGN §8).
Target: ratio ≥ 0.9.

    python bench/hls.py [--seconds 30] [--width 1280 --height 720] [--rounds 3]

Writes ``bench/results/hls.json``."""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def make_clip(ffmpeg: str, path: Path, seconds: int, width: int, height: int) -> None:
    subprocess.run(
        [
            ffmpeg, "-hide_banner", "-loglevel", "error", "-y",
            "-f", "lavfi", "-i", f"testsrc2=size={width}x{height}:rate=25:duration={seconds}",
            "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}",
            "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
            "-c:a", "aac", "-shortest", str(path),
        ],
        check=True,
    )  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=720)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    from lms import create_app
    from lms.accounts import services as accounts
    from lms.core.extensions import db
    from lms.media import ffmpeg, processing, services, transcode

    tmp = Path(tempfile.mkdtemp(prefix="lms-bench-"))
    try:
        app = create_app(
            {
                "INSTANCE_PATH": str(tmp / "instance"),
                "DATABASE_URL": f"sqlite:///{tmp / 'bench.sqlite3'}",
                "SECRET_KEY": "bench",
                "PASSWORD_MEMORY_KIB": 1024,
                "PASSWORD_TIME_COST": 1,
                "CELERY_BROKER_URL": "",
            }
        )
        with app.app_context():
            from flask_migrate import upgrade

            upgrade()
            exe = ffmpeg.executable()
            clip = tmp / "clip.mp4"
            make_clip(exe, clip, args.seconds, args.width, args.height)
            inst = accounts.create_institution(
                None, slug="bench", names={"en": "Bench"}, country="CN", kind="university"
            )
            db.session.commit()
            info = ffmpeg.probe(clip, "mp4")
            preset = app.config["MEDIA_X264_PRESET"]
            bare_times, job_times = [], []
            for round_no in range(args.rounds):
                # the bare command: the same argument list, nothing around it
                out = tmp / f"bare-{round_no}"
                out.mkdir()
                for sub in ("hls", "thumbs"):
                    (out / sub).mkdir()
                argv, rungs = transcode.build_args(clip, "mp4", info, out, preset=preset)
                for r in [*rungs, transcode.AUDIO_ONLY]:
                    (out / "hls" / r.name).mkdir()
                started = time.perf_counter()
                subprocess.run([exe, "-hide_banner", "-nostdin", "-y", *argv], check=True,
                               capture_output=True)  # fmt: skip
                bare_times.append(time.perf_counter() - started)
                shutil.rmtree(out)

                # the job: the clip as a new asset (of a new teacher, so that it is no
                # duplicate), processed end to end
                teacher = accounts.create_user(
                    None,
                    email=f"bench{round_no}@example.org",
                    password="bench-password",
                    display_name="Bench",
                    role="teacher",
                    institution=inst,
                )
                copy = tmp / f"upload-{round_no}.mp4"
                shutil.copyfile(clip, copy)
                asset, _dup = services.ingest_file(
                    teacher, copy, kind="video", filename="clip.mp4", start=False
                )
                db.session.commit()
                job_id = asset.latest_job.id
                started = time.perf_counter()
                processing.run_transcode(job_id)
                job_times.append(time.perf_counter() - started)
                db.session.refresh(asset)
                assert asset.status == "ready", asset.error_code

            duration = info.duration or args.seconds
            bare_rtf = duration / statistics.median(bare_times)
            job_rtf = duration / statistics.median(job_times)
            result = {
                "clip": f"{args.width}x{args.height}, {duration:.0f} s, 25 fps",
                "preset": preset,
                "rounds": args.rounds,
                "bare_seconds": [round(t, 3) for t in bare_times],
                "job_seconds": [round(t, 3) for t in job_times],
                "bare_realtime_factor": round(bare_rtf, 3),
                "job_realtime_factor": round(job_rtf, 3),
                "ratio_job_over_bare": round(job_rtf / bare_rtf, 3),
                "target": 0.9,
            }
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    results = ROOT / "bench" / "results"
    results.mkdir(parents=True, exist_ok=True)
    (results / "hls.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    ok = result["ratio_job_over_bare"] >= result["target"]
    print(f"HLS job / bare ffmpeg realtime factor: {result['ratio_job_over_bare']:.3f} "
          f"({'meets' if ok else 'below'} the 0.9 target)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
