"""Course packages that arrive as one file (``.zip``, ``.tar``, ``.tar.gz`` / ``.tgz``).

Everything is checked before a byte is extracted (DESIGN §9): the archive's own size, the
number of entries, the declared sizes and compression ratios (decompression bombs), names
that are absolute or climb out with ``..``, and links of any kind (symbolic and hard links,
devices, FIFOs). Extraction then writes only regular files, each checked again as it is
written, so an archive whose headers lie stops at the limit. A refused archive raises
``PackageError`` naming the archive and the entry, and leaves nothing behind."""

from __future__ import annotations

import re
import shutil
import stat
import tarfile
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import IO

from flask_babel import gettext as _

from lms.catalog.packages import MAX_FILES, MAX_PACKAGE_BYTES, PackageError, Problem

ARCHIVE_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz")
#: a compression ratio above this is a decompression bomb, not a course (text packs ~5:1)
MAX_RATIO = 100
_CHUNK = 64 * 1024
_DRIVE = re.compile(r"^[A-Za-z]:")


def is_archive(path: Path) -> bool:
    return path.is_file() and path.name.lower().endswith(ARCHIVE_SUFFIXES)


def _refuse(archive: str, entry: str, message: str) -> PackageError:
    return PackageError([Problem(f"{archive}:{entry}" if entry else archive, 1, message)])


def _safe_name(archive: str, name: str) -> PurePosixPath:
    """The entry's path relative to the extraction folder, or a refusal."""
    if not name or "\x00" in name or "\\" in name or name.startswith("/") or _DRIVE.match(name):
        raise _refuse(archive, name, _("Absolute paths are not allowed in a package."))
    path = PurePosixPath(name)
    if any(part == ".." for part in path.parts):
        raise _refuse(archive, name, _("Paths that leave the package (..) are not allowed."))
    return path


def _check_totals(archive: str, count: int, total: int) -> None:
    if count > MAX_FILES:
        raise _refuse(archive, "", _("The package has more than %(n)d files.", n=MAX_FILES))
    if total > MAX_PACKAGE_BYTES:
        raise _refuse(archive, "", _("The package is larger than 20 MB."))


def _copy(archive: str, name: str, source: IO[bytes], target: Path, limit: int) -> int:
    """Write at most ``limit`` bytes of ``source`` to ``target``; more is a refusal."""
    written = 0
    with target.open("xb") as out:
        while chunk := source.read(_CHUNK):
            written += len(chunk)
            if written > limit:
                raise _refuse(archive, name, _("The package is larger than 20 MB."))
            out.write(chunk)
    return written


def _zip_entries(archive: str, zf: zipfile.ZipFile) -> list[tuple[zipfile.ZipInfo, PurePosixPath]]:
    entries, total = [], 0
    infos = zf.infolist()
    _check_totals(archive, len(infos), 0)
    for info in infos:
        path = _safe_name(archive, info.filename)
        mode = info.external_attr >> 16
        if mode and stat.S_IFMT(mode) not in (0, stat.S_IFREG, stat.S_IFDIR):
            raise _refuse(archive, info.filename, _("Links are not allowed in a package."))
        if info.is_dir():
            continue
        if info.flag_bits & 0x1:
            raise _refuse(archive, info.filename, _("Encrypted archives cannot be imported."))
        total += info.file_size
        _check_totals(archive, len(infos), total)
        if info.file_size > MAX_RATIO * max(info.compress_size, 1) and info.file_size > _CHUNK:
            raise _refuse(
                archive, info.filename, _("The archive expands far beyond its size; refused.")
            )
        entries.append((info, path))
    return entries


def _tar_entries(archive: str, tf: tarfile.TarFile) -> list[tuple[tarfile.TarInfo, PurePosixPath]]:
    entries, total = [], 0
    for count, member in enumerate(tf, 1):  # headers only; data skipped, bounded by totals
        path = _safe_name(archive, member.name)
        if member.issym() or member.islnk() or not (member.isfile() or member.isdir()):
            raise _refuse(archive, member.name, _("Links are not allowed in a package."))
        if member.isfile():
            total += member.size
            entries.append((member, path))
        _check_totals(archive, count, total)
    return entries


def _open_tar(path: Path) -> tarfile.TarFile:
    mode = "r:gz" if path.name.lower().endswith((".tar.gz", ".tgz")) else "r:"
    return tarfile.open(path, mode=mode)


def extract(archive: Path, target: Path) -> Path:
    """Check and extract ``archive`` into the new folder ``target``; returns ``target``."""
    name = archive.name
    if archive.stat().st_size > MAX_PACKAGE_BYTES:
        raise _refuse(name, "", _("The package is larger than 20 MB."))
    target.mkdir(parents=True)
    budget = MAX_PACKAGE_BYTES
    try:
        if name.lower().endswith(".zip"):
            with zipfile.ZipFile(archive) as zf:
                for info, rel in _zip_entries(name, zf):
                    dest = target / rel
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    with zf.open(info) as src:
                        budget -= _copy(name, info.filename, src, dest, min(budget, info.file_size))
        else:
            with _open_tar(archive) as tf:
                entries = _tar_entries(name, tf)
                for member, rel in entries:
                    dest = target / rel
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    src = tf.extractfile(member)
                    if src is None:
                        raise _refuse(name, member.name, _("Links are not allowed in a package."))
                    budget -= _copy(name, member.name, src, dest, min(budget, member.size))
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError, ValueError) as exc:
        shutil.rmtree(target, ignore_errors=True)
        if isinstance(exc, FileExistsError):
            raise _refuse(name, "", _("The archive lists the same file twice.")) from None
        raise _refuse(name, "", _("The archive is damaged or not a zip or tar file.")) from None
    except PackageError:
        shutil.rmtree(target, ignore_errors=True)
        raise
    return target


@contextmanager
def unpacked(paths: list[Path]) -> Iterator[list[Path]]:
    """``paths`` with every archive among them replaced by a checked, extracted copy in a
    temporary folder (removed afterwards)."""
    with tempfile.TemporaryDirectory(prefix="lms-package-") as tmp:
        out: list[Path] = []
        for i, path in enumerate(paths):
            if is_archive(path):
                stem = re.sub(r"(\.tar)?\.(zip|tar|gz|tgz)$", "", path.name, flags=re.I)
                out.append(extract(path, Path(tmp) / str(i) / (stem or "package")))
            else:
                out.append(path)
        yield out
