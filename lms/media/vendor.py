"""Fetch the player's third-party script, hls.js, from the npm registry into
``static/vendor/hls.js/`` (``make install`` runs ``python -m lms.media.vendor``).

Only Python is needed: the registry tarball of a pinned version is downloaded, checked
against the registry's published integrity hash (SHA-512) before anything is unpacked, and
only the minified build and its licence are extracted. Nothing is committed."""

from __future__ import annotations

import base64
import hashlib
import io
import sys
import tarfile
import urllib.request
from pathlib import Path

PACKAGE = "hls.js"
VERSION = "1.7.4"
INTEGRITY = (
    "sha512-"
    "3GlxGdPvT2YHvQYOt+yOzT/DEior/qJVNIylHA77kgeoBTdQQqi70GwefNEUmHQeNGyjC8U62+bruqW/Tpm+tg=="
)
REGISTRY = "https://registry.npmjs.org"
FILES = {
    "package/dist/hls.min.js": "hls.min.js",
    # transmuxing in a same-origin worker: allowed by the CSP (no blob: workers)
    "package/dist/hls.worker.js": "hls.worker.js",
    "package/LICENSE": "LICENSE",
}
TARGET = Path(__file__).resolve().parents[2] / "static" / "vendor" / "hls.js"


def tarball_url() -> str:
    return f"{REGISTRY}/{PACKAGE}/-/{PACKAGE}-{VERSION}.tgz"


def check_integrity(data: bytes, integrity: str = INTEGRITY) -> None:
    algorithm, _, expected = integrity.partition("-")
    digest = base64.b64encode(hashlib.new(algorithm, data).digest()).decode()
    if digest != expected:
        raise ValueError(f"{PACKAGE} {VERSION}: integrity check failed")


def extract(data: bytes, target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        for member, name in FILES.items():
            info = tar.getmember(member)
            if not info.isfile():
                raise ValueError(f"{member} is not a regular file")
            fh = tar.extractfile(info)
            assert fh is not None
            tmp = target / f".{name}.tmp"
            tmp.write_bytes(fh.read())
            tmp.replace(target / name)
    (target / "VERSION").write_text(VERSION + "\n")


def installed(target: Path = TARGET) -> bool:
    version = target / "VERSION"
    files = all((target / name).is_file() for name in FILES.values())
    return files and version.is_file() and version.read_text().strip() == VERSION


def main(target: Path = TARGET) -> int:
    if installed(target):
        (target / "VERSION").touch()  # up to date for make
        print(f"{PACKAGE} {VERSION} already in {target}")
        return 0
    with urllib.request.urlopen(tarball_url(), timeout=60) as resp:
        data = resp.read()
    check_integrity(data)
    extract(data, target)
    print(f"{PACKAGE} {VERSION} installed in {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
