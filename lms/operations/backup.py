"""Backups: one archive with a consistent snapshot of the database and every media object.

The archive is a gzipped tar:

- ``manifest.json`` — format, migration revision, database dialect, and each member's size
  and SHA-256;
- ``manifest.sig`` — HMAC-SHA-256 of the manifest under a key derived from ``SECRET_KEY``
  (so a manifest rewritten to match altered members is refused too);
- ``database/lms.sqlite3`` (SQLite: a copy made with SQLite's online backup API, consistent
  while the platform runs) or ``database/<table>.jsonl`` (PostgreSQL: every table read in one
  REPEATABLE READ READ ONLY transaction, one JSON object per row);
- ``objects/<key>`` — every object of the media store (local folder or S3).

Restoring treats the archive as untrusted: members must be regular files with expected,
clean names (no absolute paths, ``..``, links or devices), within size limits, listed in the
signed manifest with matching sizes and checksums, and the revision must be this code's
migration head and the target database's. Nothing is extracted by name: each member is
streamed into a file this module names. A non-empty target is refused without ``force``.
Restored media files get mode 0640 (never executable)."""

from __future__ import annotations

import base64
import gzip
import hashlib
import hmac
import io
import json
import os
import re
import sqlite3
import tarfile
import tempfile
import unicodedata
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

from alembic.script import ScriptDirectory
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import Connection, MetaData, Table, func, insert, select, text
from sqlalchemy.engine import Engine

from lms.core.errors import DomainError
from lms.core.extensions import db
from lms.core.search import outside_models
from lms.core.storage import LocalStorage, Storage, check_key, get_storage

FORMAT = "lms-backup"
VERSION = 1
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
SQLITE_MEMBER = "database/lms.sqlite3"
MAX_MANIFEST_BYTES = 64 * 1024 * 1024
MAX_MEMBERS = 2_000_000
MAX_MEMBER_BYTES = 64 * 1024**3
_MEMBER = re.compile(r"(database/[a-z0-9_]+\.(jsonl|sqlite3)|objects/.+)")
_BLOCK = 1 << 20


class BackupRefused(DomainError):
    status = 422
    slug = "backup-refused"


# ---------------------------------------------------------------------------- helpers


def _signing_key() -> bytes:
    secret = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(secret, b"lms backup manifest v1", hashlib.sha256).digest()


def _sign(manifest: bytes) -> str:
    return hmac.new(_signing_key(), manifest, hashlib.sha256).hexdigest()


def _engine() -> Engine:
    return db.engine


def head_revision() -> str:
    migrate = current_app.extensions["migrate"]
    script = ScriptDirectory.from_config(migrate.migrate.get_config(migrate.directory))
    heads = script.get_heads()
    if len(heads) != 1:
        raise BackupRefused(_("The migration history has several heads."))
    return heads[0]


def _revision(conn: Connection) -> str:
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar() or ""


def _sqlite_file(engine: Engine) -> Path:
    name = engine.url.database
    if not name or name == ":memory:":
        raise BackupRefused(_("An in-memory database cannot be backed up."))
    return Path(name)


def _reflect(conn: Connection) -> MetaData:
    meta = MetaData()
    meta.reflect(conn)
    return meta


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes | memoryview):
        return base64.b64encode(bytes(value)).decode()
    return value


def _from_json(value: Any, python_type: type | None) -> Any:
    if value is None or python_type is None:
        return value
    if python_type is datetime:
        return datetime.fromisoformat(value)
    if python_type is date:
        return date.fromisoformat(value)
    if python_type is time:
        return time.fromisoformat(value)
    if python_type is Decimal:
        return Decimal(value)
    if python_type is bytes:
        return base64.b64decode(value)
    return value


def _python_type(column: Any) -> type | None:
    try:
        return column.type.python_type
    except NotImplementedError:
        return None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def _private_file(path: Path) -> Any:
    path.parent.mkdir(parents=True, exist_ok=True)
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb")


def table_rows(conn: Connection, table: Table) -> Iterator[dict[str, Any]]:
    """Every row of ``table`` in primary-key order, as JSON-ready dicts."""
    order = list(table.primary_key.columns) or list(table.columns)
    for row in conn.execute(select(table).order_by(*order)).mappings():
        yield {key: _jsonable(value) for key, value in row.items()}


# ---------------------------------------------------------------------------- backup


@dataclass
class Summary:
    revision: str
    dialect: str
    tables: int
    objects: int
    bytes: int


def create_backup(target: Path) -> Summary:
    """Write a backup archive to ``target`` (mode 0600; written aside, then renamed)."""
    target = Path(target)
    engine = _engine()
    store = get_storage()
    with tempfile.TemporaryDirectory(prefix=".lms-backup-", dir=target.parent) as tmp_name:
        tmp = Path(tmp_name)
        if engine.dialect.name == "sqlite":
            copy = tmp / SQLITE_MEMBER
            copy.parent.mkdir(parents=True)
            src = sqlite3.connect(_sqlite_file(engine))
            dst = sqlite3.connect(copy)
            try:
                src.backup(dst)  # the online backup API: a consistent copy while in use
            finally:
                src.close()
            try:
                revision = dst.execute("SELECT version_num FROM alembic_version").fetchone()[0]
                tables = dst.execute(
                    "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
                ).fetchone()[0]
                dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            finally:
                dst.close()
            os.chmod(copy, 0o600)
            database = {"kind": "sqlite"}
        else:
            with engine.connect().execution_options(
                isolation_level="REPEATABLE READ", postgresql_readonly=True
            ) as conn:
                meta = _reflect(conn)
                revision = _revision(conn)
                names = []
                for table in meta.sorted_tables:
                    names.append(table.name)
                    with _private_file(tmp / "database" / f"{table.name}.jsonl") as fh:
                        for row in table_rows(conn, table):
                            fh.write(json.dumps(row, ensure_ascii=False).encode() + b"\n")
                conn.rollback()
            tables = len(names)
            database = {"kind": "tables", "tables": names}
        objects = 0
        for key in store.all_keys():
            dest = tmp / "objects" / key
            dest.parent.mkdir(parents=True, exist_ok=True)
            store.download(key, dest)
            objects += 1
        files = []
        for path in sorted(p for p in tmp.rglob("*") if p.is_file()):
            name = path.relative_to(tmp).as_posix()
            files.append({"name": name, "size": path.stat().st_size, "sha256": _sha256(path)})
        manifest = {
            "format": FORMAT,
            "version": VERSION,
            "created_at": datetime.now(UTC).isoformat(),
            "revision": revision,
            "dialect": engine.dialect.name,
            "database": database,
            "storage": store.name,
            "files": files,
        }
        manifest_bytes = json.dumps(manifest, indent=1, sort_keys=True).encode()
        partial = target.with_name(f".{target.name}.partial")
        partial.unlink(missing_ok=True)
        with _private_file(partial) as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
            _add_bytes(tar, MANIFEST, manifest_bytes)
            _add_bytes(tar, SIGNATURE, _sign(manifest_bytes).encode())
            for entry in files:
                info = tarfile.TarInfo(entry["name"])
                info.size = entry["size"]
                info.mode = 0o600
                info.mtime = int(datetime.now(UTC).timestamp())
                with (tmp / entry["name"]).open("rb") as fh:
                    tar.addfile(info, fh)
        os.replace(partial, target)
    return Summary(
        revision=revision,
        dialect=engine.dialect.name,
        tables=tables,
        objects=objects,
        bytes=sum(f["size"] for f in files),
    )


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o600
    info.mtime = int(datetime.now(UTC).timestamp())
    tar.addfile(info, io.BytesIO(data))


# ---------------------------------------------------------------------------- restore


def _refuse(message: str) -> BackupRefused:
    return BackupRefused(message)


def _check_name(name: str) -> None:
    clean = (
        name
        and len(name) <= 1024
        and unicodedata.normalize("NFC", name) == name
        and "\\" not in name
        and "\x00" not in name
        and not name.startswith("/")
        and all(part not in ("", ".", "..") for part in name.split("/"))
    )
    if not clean:
        raise _refuse(_("The archive holds a file with an unsafe name: %(name)s", name=name[:200]))
    if name in (MANIFEST, SIGNATURE):
        return
    if not _MEMBER.fullmatch(name):
        raise _refuse(_("The archive holds an unexpected file: %(name)s", name=name[:200]))
    if name.startswith("objects/"):
        try:
            check_key(name.removeprefix("objects/"))
        except ValueError:
            raise _refuse(
                _("The archive holds a file with an unsafe name: %(name)s", name=name[:200])
            ) from None


def _read_member(tar: tarfile.TarFile, member: tarfile.TarInfo, limit: int) -> bytes:
    if member.size > limit:
        raise _refuse(_("The archive's manifest is too large."))
    fh = tar.extractfile(member)
    assert fh is not None
    return fh.read(limit + 1)


def _load_manifest(tar: tarfile.TarFile, allow_unsigned: bool) -> tuple[dict, dict]:
    members: dict[str, tarfile.TarInfo] = {}
    for count, member in enumerate(tar, start=1):
        if count > MAX_MEMBERS:
            raise _refuse(_("The archive holds too many files."))
        _check_name(member.name)
        if not member.isfile():  # links, devices, FIFOs and folders are refused
            raise _refuse(
                _(
                    "The archive holds something that is not a plain file: %(name)s",
                    name=member.name[:200],
                )
            )
        if member.size > MAX_MEMBER_BYTES:
            raise _refuse(_("The archive holds a file that is too large."))
        if member.name in members:
            raise _refuse(_("The archive holds a file twice: %(name)s", name=member.name[:200]))
        members[member.name] = member
    if MANIFEST not in members:
        raise _refuse(_("This is not a backup of this platform (no manifest)."))
    manifest_bytes = _read_member(tar, members[MANIFEST], MAX_MANIFEST_BYTES)
    if not allow_unsigned:
        signature = (
            _read_member(tar, members[SIGNATURE], 256).decode("ascii", "replace").strip()
            if SIGNATURE in members
            else ""
        )
        if not hmac.compare_digest(signature, _sign(manifest_bytes)):
            raise _refuse(
                _(
                    "The archive's signature does not match: it was changed, or made with "
                    "another secret key."
                )
            )
    try:
        manifest = json.loads(manifest_bytes)
    except ValueError:
        raise _refuse(_("The archive's manifest is not valid.")) from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise _refuse(_("This is not a backup of this platform (no manifest)."))
    if manifest.get("version") != VERSION:
        raise _refuse(_("This backup format is not supported."))
    listed: dict[str, dict] = {}
    for entry in manifest.get("files") or []:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise _refuse(_("The archive's manifest is not valid."))
        _check_name(entry["name"])
        listed[entry["name"]] = entry
    present = set(members) - {MANIFEST, SIGNATURE}
    if present != set(listed):
        raise _refuse(_("The archive's files do not match its manifest."))
    for name, entry in listed.items():
        if members[name].size != entry.get("size"):
            raise _refuse(_("The size of %(name)s does not match the manifest.", name=name[:200]))
    return manifest, members


def _extract(tar: tarfile.TarFile, member: tarfile.TarInfo, entry: dict, dest: Path) -> None:
    """Stream one member into ``dest`` (mode 0600), checking its size and SHA-256."""
    digest = hashlib.sha256()
    total = 0
    src = tar.extractfile(member)
    assert src is not None
    with _private_file(dest) as out:
        while block := src.read(_BLOCK):
            total += len(block)
            if total > entry["size"]:
                break
            digest.update(block)
            out.write(block)
    if total != entry["size"] or not hmac.compare_digest(digest.hexdigest(), entry["sha256"]):
        raise _refuse(
            _("The checksum of %(name)s does not match the manifest.", name=member.name[:200])
        )


def _database_is_empty(conn: Connection) -> bool:
    meta = _reflect(conn)
    for table in meta.sorted_tables:
        if table.name == "alembic_version" or outside_models(table.name):
            continue  # the search index's own tables hold their set-up rows when empty
        if conn.execute(select(func.count()).select_from(table)).scalar():
            return False
    return True


@dataclass
class Restored:
    revision: str
    tables: int
    objects: int


def restore_backup(source: Path, *, force: bool = False, allow_unsigned: bool = False) -> Restored:
    """Restore a backup made by ``create_backup`` into this platform's database (migrated
    to the same revision) and media store. Refused, changing nothing, when any check fails
    or (without ``force``) when the database or the store already holds data."""
    try:
        return _restore(Path(source), force=force, allow_unsigned=allow_unsigned)
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise _refuse(_("The archive cannot be read: %(error)s", error=str(exc)[:200])) from None


def _restore(source: Path, *, force: bool, allow_unsigned: bool) -> Restored:
    engine = _engine()
    store = get_storage()
    head = head_revision()
    with tarfile.open(source, mode="r:gz") as tar:
        manifest, members = _load_manifest(tar, allow_unsigned)
        if manifest.get("revision") != head:
            raise _refuse(
                _(
                    "The backup is at revision %(backup)s, this code at %(code)s.",
                    backup=str(manifest.get("revision"))[:40],
                    code=head,
                )
            )
        kind = (manifest.get("database") or {}).get("kind")
        if kind not in ("sqlite", "tables") or (
            kind == "sqlite" and engine.dialect.name != "sqlite"
        ):
            raise _refuse(_("This backup's database cannot be restored into this database."))
        with engine.connect() as conn:
            if _revision(conn) != head:
                raise _refuse(_("Migrate the database first (flask db upgrade), then restore."))
            empty = _database_is_empty(conn)
            conn.rollback()
        has_objects = next(iter(store.all_keys()), None) is not None
        if not force and (not empty or has_objects):
            raise _refuse(
                _(
                    "The database or the media store is not empty; restore with --force to "
                    "replace what it holds."
                )
            )
        if kind == "tables" and not empty and engine.dialect.name != "postgresql":
            raise _refuse(_("This backup can only be restored into an empty database here."))
        parent = Path(current_app.instance_path)
        with tempfile.TemporaryDirectory(prefix=".lms-restore-", dir=parent) as tmp_name:
            tmp = Path(tmp_name)
            for entry in manifest["files"]:
                _extract(tar, members[entry["name"]], entry, tmp / entry["name"])
            if kind == "sqlite":
                tables = _restore_sqlite(engine, tmp / SQLITE_MEMBER, head)
            else:
                tables = _restore_tables(engine, tmp / "database", manifest, force=not empty)
            objects = _restore_objects(store, tmp / "objects", replace=force)
    return Restored(revision=head, tables=tables, objects=objects)


def _restore_sqlite(engine: Engine, copy: Path, head: str) -> int:
    check = sqlite3.connect(copy)
    try:
        if check.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise _refuse(_("The database in the backup is damaged."))
        revision = check.execute("SELECT version_num FROM alembic_version").fetchone()
        if not revision or revision[0] != head:
            raise _refuse(_("The database in the backup is not at the manifest's revision."))
        tables = check.execute("SELECT count(*) FROM sqlite_master WHERE type='table'").fetchone()
    except sqlite3.DatabaseError:
        raise _refuse(_("The database in the backup is damaged.")) from None
    target_path = _sqlite_file(engine)
    db.session.remove()
    engine.dispose()
    target = sqlite3.connect(target_path)
    try:
        check.backup(target)  # replaces the whole database, in one step for readers
    finally:
        target.close()
        check.close()
    os.chmod(target_path, 0o600)
    return tables[0]


def _restore_tables(engine: Engine, folder: Path, manifest: dict, *, force: bool) -> int:
    names = (manifest.get("database") or {}).get("tables") or []
    with engine.begin() as conn:
        meta = _reflect(conn)
        known = {t.name: t for t in meta.sorted_tables}
        unknown = [n for n in names if n not in known]
        if unknown:
            raise _refuse(_("The backup holds tables this database does not have."))
        if force and conn.dialect.name == "postgresql":
            listed = ", ".join(
                f'"{t.name}"' for t in meta.sorted_tables if t.name != "alembic_version"
            )
            conn.execute(text(f"TRUNCATE {listed} RESTART IDENTITY CASCADE"))
        count = 0
        for table in meta.sorted_tables:
            if table.name == "alembic_version" or table.name not in names:
                continue
            path = folder / f"{table.name}.jsonl"
            types = {c.name: _python_type(c) for c in table.columns}
            batch: list[dict[str, Any]] = []
            with path.open("rb") as fh:
                for line in fh:
                    row = json.loads(line)
                    if not isinstance(row, dict) or set(row) - set(types):
                        raise _refuse(
                            _("The backup's rows do not fit table %(name)s.", name=table.name)
                        )
                    batch.append({k: _from_json(v, types[k]) for k, v in row.items()})
                    if len(batch) >= 1000:
                        conn.execute(insert(table), batch)
                        batch = []
            if batch:
                conn.execute(insert(table), batch)
            count += 1
        if conn.dialect.name == "postgresql":
            for table in meta.sorted_tables:
                for column in table.primary_key.columns:
                    seq = conn.execute(
                        text("SELECT pg_get_serial_sequence(:t, :c)"),
                        {"t": f'"{table.name}"', "c": column.name},
                    ).scalar()
                    if seq:
                        conn.execute(
                            text(
                                f'SELECT setval(:s, COALESCE((SELECT max("{column.name}") '
                                f'FROM "{table.name}"), 0) + 1, false)'
                            ),
                            {"s": seq},
                        )
    return count


def _restore_objects(store: Storage, folder: Path, *, replace: bool) -> int:
    keys = []
    if folder.is_dir():
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            key = check_key(path.relative_to(folder).as_posix())
            store.put_file(key, path)
            keys.append(key)
    if isinstance(store, LocalStorage):
        clean_tree_modes(store.root)
    if replace:
        wanted = set(keys)
        for key in list(store.all_keys()):
            if key not in wanted:
                store.delete(key)
    return len(keys)


def clean_tree_modes(root: Path) -> None:
    """Folders 0750, files 0640 (never executable, not world-readable): what a restore
    leaves in the local media folder."""
    for path in root.rglob("*"):
        if path.is_symlink():
            continue
        os.chmod(path, 0o750 if path.is_dir() else 0o640)
