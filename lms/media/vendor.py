"""The player's third-party script, hls.js, fetched from the npm registry into
``static/vendor/hls.js/`` by ``make install`` (``python -m lms.media.vendor``; see
``lms.core.vendor``: pinned, integrity-checked, not committed)."""

from __future__ import annotations

import sys

from lms.core.vendor import STATIC_VENDOR, Package

HLS_JS = Package(
    name="hls.js",
    version="1.7.4",
    integrity=(
        "sha512-"
        "3GlxGdPvT2YHvQYOt+yOzT/DEior/qJVNIylHA77kgeoBTdQQqi70GwefNEUmHQeNGyjC8U62+bruqW/Tpm+tg=="
    ),
    files={
        "package/dist/hls.min.js": "hls.min.js",
        # transmuxing in a same-origin worker: allowed by the CSP (no blob: workers)
        "package/dist/hls.worker.js": "hls.worker.js",
        "package/LICENSE": "LICENSE",
    },
    target=STATIC_VENDOR / "hls.js",
)


def main() -> int:
    fetched = HLS_JS.install()
    print(f"{HLS_JS.label} {'installed' if fetched else 'already'} in {HLS_JS.target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
