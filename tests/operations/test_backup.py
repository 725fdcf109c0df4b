"""``lms backup`` / ``lms restore``: a backup taken, data changed and deleted, the backup
restored, and the database and media equal the original; tampered archives are refused and
change nothing."""

from __future__ import annotations

import io
import json
import os
import stat
import tarfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import text

from lms import create_app
from lms.core.audit import record
from lms.core.extensions import db
from lms.core.storage import get_storage
from lms.operations import backup as backups
from tests.conftest import PG_URL, app_config, need
from tests.credits.conftest import make_course
from tests.live import fresh_pg_database


@contextmanager
def _database(backend: str, tmp: Path, name: str) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{tmp / (name + '.sqlite3')}"
        return
    need(bool(PG_URL), "PostgreSQL (set LMS_TEST_DATABASE_URL)")
    with fresh_pg_database(PG_URL) as url:
        yield url


@contextmanager
def site(backend: str, tmp: Path, name: str) -> Iterator[Flask]:
    """An app with its own migrated database and media folder."""
    with _database(backend, tmp, name) as url:
        app = create_app(app_config(tmp / name, url, MEDIA_ROOT=str(tmp / name / "media")))
        with app.app_context():
            upgrade()
            db.session.remove()
        try:
            yield app
        finally:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()


backends = pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=[pytest.mark.postgres])]
)


def seed(app: Flask) -> None:
    from tests.conftest import Factory

    with app.app_context():
        make = Factory()
        gx = make.institution("gx-backup")
        teacher = make.user("teacher", gx, email="teacher@backup.test", name_native="黄老师")
        make.user("student", gx, email="hoa@backup.test", name_native="Nguyễn Thị Hoa")
        make_course(gx, "GX-BAK-101", titles={"zh_Hans": "汽车维修", "vi": "Sửa chữa ô tô"})
        record(teacher, "test.event", "course", 1, before={"a": 1}, after={"a": 2}, reason="x")
        store = get_storage()
        store.put_bytes("media/abc/original", b"\x00video bytes\xff")
        store.put_bytes("media/abc/v1/hls/master.m3u8", b"#EXTM3U\n")
        db.session.commit()


def snapshot(app: Flask) -> dict:
    """Every row of every table, and every media object with its bytes."""
    with app.app_context():
        with db.engine.connect() as conn:
            meta = backups._reflect(conn)
            rows = {
                t.name: list(backups.table_rows(conn, t))
                for t in meta.sorted_tables
                if t.name != "alembic_version"
            }
        store = get_storage()
        objects = {key: store.read_bytes(key) for key in store.all_keys()}
        db.session.remove()
    return {"rows": rows, "objects": objects}


def cli(app: Flask, *args: str):
    return app.test_cli_runner().invoke(args=["lms", *args])


def change_everything(app: Flask) -> None:
    from tests.conftest import Factory

    with app.app_context():
        db.session.execute(text("UPDATE users SET display_name = 'changed'"))
        db.session.execute(text("DELETE FROM memberships"))
        Factory().user(email="intruder@backup.test")
        store = get_storage()
        store.delete("media/abc/original")
        store.put_bytes("media/zzz/original", b"new")
        db.session.commit()


@backends
def test_backup_then_restore_gives_back_the_original(backend, tmp_path):
    with site(backend, tmp_path, "prod") as app:
        seed(app)
        original = snapshot(app)
        assert original["rows"]["users"] and original["rows"]["audit_events"]
        archive = tmp_path / "lms-backup.tar.gz"
        result = cli(app, "backup", str(archive))
        assert result.exit_code == 0, result.output
        assert stat.S_IMODE(archive.stat().st_mode) == 0o600
        with tarfile.open(archive) as tar:
            manifest = json.load(tar.extractfile("manifest.json"))
        assert manifest["revision"] == _head(app)
        assert {"objects/media/abc/original", "objects/media/abc/v1/hls/master.m3u8"} <= {
            f["name"] for f in manifest["files"]
        }
        assert all(len(f["sha256"]) == 64 for f in manifest["files"])

        change_everything(app)
        assert snapshot(app) != original
        refused = cli(app, "restore", str(archive))
        assert refused.exit_code != 0 and "--force" in refused.output
        assert snapshot(app) != original  # untouched

        result = cli(app, "restore", str(archive), "--force")
        assert result.exit_code == 0, result.output
        assert snapshot(app) == original
        media = Path(app.config["MEDIA_ROOT"])
        for path in media.rglob("*"):
            mode = stat.S_IMODE(path.stat().st_mode)
            assert not mode & 0o111 if path.is_file() else mode == 0o750
            assert not mode & 0o007  # nothing world-readable
        # the platform works on the restored data (a new row gets a fresh id)
        with app.app_context():
            from tests.conftest import Factory

            Factory().user(email="after@backup.test")
            db.session.commit()
            db.session.remove()

    # into a fresh, empty database at the migration head, without --force
    with site(backend, tmp_path, "fresh") as fresh:
        result = cli(fresh, "restore", str(archive))
        assert result.exit_code == 0, result.output
        assert snapshot(fresh) == original


def _rewrite(archive: Path, out: Path, change) -> Path:
    """Copy ``archive`` to ``out`` member by member, letting ``change(name, info, data)``
    return a replacement ``(info, data)``, None to drop the member, or add extra members
    through the returned list."""
    with tarfile.open(archive) as src:
        members = [(m, src.extractfile(m).read()) for m in src.getmembers()]
    with tarfile.open(out, "w:gz") as dst:
        for info, data in change(members):
            info.size = len(data) if data is not None else 0
            dst.addfile(info, io.BytesIO(data) if data is not None else None)
    return out


def _replace(name: str, data: bytes):
    def change(members):
        return [(i, data if i.name == name else d) for i, d in members]

    return change


def _manifest_resigned(app: Flask, mutate):
    """Edit the manifest and sign it again with the platform's key (an insider's forgery
    that only the other checks can catch)."""

    def change(members):
        out = []
        manifest = json.loads(next(d for i, d in members if i.name == "manifest.json"))
        mutate(manifest)
        body = json.dumps(manifest).encode()
        with app.app_context():
            sig = backups._sign(body).encode()
        for info, data in members:
            if info.name == "manifest.json":
                data = body
            elif info.name == "manifest.sig":
                data = sig
            out.append((info, data))
        return out

    return change


def test_tampered_archives_are_refused_and_change_nothing(tmp_path):
    with site("sqlite", tmp_path, "prod") as app:
        seed(app)
        archive = tmp_path / "good.tar.gz"
        assert cli(app, "backup", str(archive)).exit_code == 0
        change_everything(app)
        before = snapshot(app)

        def extra(info_type, name, linkname=""):
            def change(members):
                info = tarfile.TarInfo(name)
                info.type = info_type
                info.linkname = linkname
                return [*members, (info, b"" if info_type == tarfile.REGTYPE else None)]

            return change

        cases = {
            "altered bytes": (
                _replace("objects/media/abc/original", b"\x00video bytez\xff"),
                "checksum",
            ),
            "altered manifest": (
                lambda ms: [
                    (
                        i,
                        d.replace(b'"revision": "', b'"revision": "0000_older')
                        if i.name == "manifest.json"
                        else d,
                    )
                    for i, d in ms
                ],
                "signature",
            ),
            "no signature": (
                lambda ms: [(i, d) for i, d in ms if i.name != "manifest.sig"],
                "signature",
            ),
            "path traversal": (extra(tarfile.REGTYPE, "objects/../../evil"), "unsafe name"),
            "absolute path": (extra(tarfile.REGTYPE, "/etc/cron.d/evil"), "unsafe name"),
            "symlink": (
                extra(tarfile.SYMTYPE, "objects/media/link", "/etc/passwd"),
                "not a plain file",
            ),
            "hard link": (
                extra(tarfile.LNKTYPE, "objects/media/hard", "manifest.json"),
                "not a plain file",
            ),
            "unlisted file": (
                extra(tarfile.REGTYPE, "objects/media/extra/file"),
                "do not match its manifest",
            ),
            "wrong revision, re-signed": (
                _manifest_resigned(app, lambda m: m.update(revision="0009_ledger_transcripts")),
                "revision",
            ),
            "checksum forged in the manifest only": (
                _manifest_resigned(app, lambda m: m["files"][0].update(sha256="0" * 64)),
                "checksum",
            ),
        }
        for label, (change, message) in cases.items():
            bad = _rewrite(archive, tmp_path / f"{label.replace(' ', '-')}.tar.gz", change)
            result = cli(app, "restore", str(bad), "--force")
            assert result.exit_code != 0, label
            assert message in result.output, (label, result.output)
            assert snapshot(app) == before, label
        assert not list(tmp_path.rglob("evil"))
        assert not (Path(app.config["MEDIA_ROOT"]) / "media" / "link").exists()
        # a non-archive is refused cleanly too
        junk = tmp_path / "junk.tar.gz"
        junk.write_bytes(os.urandom(256))
        result = cli(app, "restore", str(junk), "--force")
        assert result.exit_code != 0 and "Traceback" not in result.output


def _head(app) -> str:
    """The migration head (the revision a backup of a current database names)."""
    from alembic.script import ScriptDirectory

    migrate = app.extensions["migrate"]
    with app.app_context():
        config = migrate.migrate.get_config(migrate.directory)
    return ScriptDirectory.from_config(config).get_current_head()
