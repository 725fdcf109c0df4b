"""axe-core, the accessibility rules engine the browser tests run, fetched from the npm
registry like the player's hls.js (``lms.core.vendor``: a pinned version, checked against
the registry's SHA-512 integrity before anything is unpacked, only the minified build and
its licence kept in ``static/vendor/axe-core/``, not committed). ``make install`` runs
``python -m tests.browser.axe``; the tests fetch it when missing."""

from __future__ import annotations

import sys
from pathlib import Path

from lms.core.vendor import STATIC_VENDOR, Package

AXE = Package(
    name="axe-core",
    version="4.11.1",
    integrity=(
        "sha512-"
        "BASOg+YwO2C+346x3LZOeoovTIoTrRqEsqMa6fmfAV0P+U9mFr9NsyOEpiYvFjbc64NMrSswhV50WdXzdb/Z5A=="
    ),
    files={"package/axe.min.js": "axe.min.js", "package/LICENSE": "LICENSE"},
    target=STATIC_VENDOR / "axe-core",
)


def fetch() -> Path:
    """Install axe-core unless it is there; return the script's path."""
    AXE.install()
    return AXE.target / "axe.min.js"


if __name__ == "__main__":
    print(f"{AXE.label} in {fetch().parent}")
    sys.exit(0)
