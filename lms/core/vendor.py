"""Third-party browser scripts fetched from the npm registry at set-up (``make install``),
never committed: a pinned version, the tarball checked against the registry's published
integrity hash (SHA-512) before anything is unpacked, and only the named files extracted
(regular files only, each written aside and moved into place).

This runs at install time with a fixed URL, not as a request of the running platform, so it
does not go through ``lms.core.outbound``."""

from __future__ import annotations

import base64
import hashlib
import io
import tarfile
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

REGISTRY = "https://registry.npmjs.org"
STATIC_VENDOR = Path(__file__).resolve().parents[2] / "static" / "vendor"


def check_integrity(data: bytes, integrity: str, label: str = "package") -> None:
    """Raise unless ``data`` has the Subresource-Integrity-style digest ``integrity``."""
    algorithm, _, expected = integrity.partition("-")
    digest = base64.b64encode(hashlib.new(algorithm, data).digest()).decode()
    if digest != expected:
        raise ValueError(f"{label}: integrity check failed")


@dataclass(frozen=True)
class Package:
    """One npm package pinned by version and integrity; ``files`` maps members of the
    tarball to the names they get in ``target``."""

    name: str
    version: str
    integrity: str
    files: dict[str, str] = field(default_factory=dict)
    target: Path = STATIC_VENDOR

    @property
    def label(self) -> str:
        return f"{self.name} {self.version}"

    def tarball_url(self) -> str:
        return f"{REGISTRY}/{self.name}/-/{self.name.split('/')[-1]}-{self.version}.tgz"

    def installed(self) -> bool:
        version = self.target / "VERSION"
        files = all((self.target / name).is_file() for name in self.files.values())
        return files and version.is_file() and version.read_text().strip() == self.version

    def extract(self, data: bytes) -> None:
        self.target.mkdir(parents=True, exist_ok=True)
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            for member, name in self.files.items():
                info = tar.getmember(member)
                if not info.isfile():
                    raise ValueError(f"{member} is not a regular file")
                fh = tar.extractfile(info)
                assert fh is not None
                tmp = self.target / f".{name}.tmp"
                tmp.write_bytes(fh.read())
                tmp.replace(self.target / name)
        (self.target / "VERSION").write_text(self.version + "\n")

    def install(self) -> bool:
        """Fetch, check and extract unless the pinned version is there; True if it fetched."""
        if self.installed():
            (self.target / "VERSION").touch()  # up to date for make
            return False
        with urllib.request.urlopen(self.tarball_url(), timeout=60) as resp:
            data = resp.read()
        check_integrity(data, self.integrity, self.label)
        self.extract(data)
        return True
