"""axe-core, the accessibility rules engine the browser tests run, fetched from the npm
registry like the player's hls.js (``lms.media.vendor``): a pinned version, the tarball
checked against the registry's SHA-512 integrity before anything is unpacked, only the
minified build and its licence kept in ``static/vendor/axe-core/`` (not committed).
``make install`` runs ``python -m tests.browser.axe``; the tests fetch it when missing."""

from __future__ import annotations

import io
import sys
import tarfile
import urllib.request
from pathlib import Path

from lms.media.vendor import REGISTRY, check_integrity

PACKAGE = "axe-core"
VERSION = "4.11.1"
INTEGRITY = (
    "sha512-"
    "BASOg+YwO2C+346x3LZOeoovTIoTrRqEsqMa6fmfAV0P+U9mFr9NsyOEpiYvFjbc64NMrSswhV50WdXzdb/Z5A=="
)
FILES = {"package/axe.min.js": "axe.min.js", "package/LICENSE": "LICENSE"}
TARGET = Path(__file__).resolve().parents[2] / "static" / "vendor" / "axe-core"


def installed(target: Path = TARGET) -> bool:
    version = target / "VERSION"
    files = all((target / name).is_file() for name in FILES.values())
    return files and version.is_file() and version.read_text().strip() == VERSION


def fetch(target: Path = TARGET) -> Path:
    """Install axe-core into ``target`` unless it is there; return the script's path."""
    if not installed(target):
        url = f"{REGISTRY}/{PACKAGE}/-/{PACKAGE}-{VERSION}.tgz"
        with urllib.request.urlopen(url, timeout=60) as resp:
            data = resp.read()
        check_integrity(data, INTEGRITY)
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
    else:
        (target / "VERSION").touch()  # up to date for make
    return target / "axe.min.js"


if __name__ == "__main__":
    print(f"{PACKAGE} {VERSION} in {fetch().parent}")
    sys.exit(0)
