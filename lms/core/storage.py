"""The one storage interface for uploaded and generated files, with two backends.

- ``LocalStorage``: a folder (``LMS_MEDIA_ROOT``, default ``instance/media``). The embedded
  default; the app serves the files itself (with Range support).
- ``S3Storage``: any S3-compatible store through boto3 (AWS S3, MinIO, Ceph …), configured by
  ``LMS_S3_*``. Browsers upload straight to it with presigned multipart uploads and read from
  it with presigned GET URLs.

Keys are chosen by the server (``media/<id>/…``), never by users, and are checked against a
strict pattern. ``publish_dir`` makes a finished folder of generated files visible under a
new prefix; callers point their database rows at that prefix only once it returns, so a
reader never sees half of a publication (on S3, which has no rename, the unique prefix and
that pointer switch are what make it atomic; locally the folder is also renamed into place
in one step)."""

from __future__ import annotations

import os
import re
import shutil
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from flask import Flask, current_app
from flask_babel import gettext as _

from lms.core.errors import Unavailable

_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9_\-]*(?:/[A-Za-z0-9_\-][A-Za-z0-9_.\-]*)*")


def check_key(key: str) -> str:
    """Refuse anything but plain relative keys (no ``..``, no leading slash or dot)."""
    if not _KEY.fullmatch(key or "") or ".." in key:
        raise ValueError(f"invalid storage key {key!r}")
    return key


@dataclass
class Part:
    """One uploaded part of a multipart upload."""

    part_number: int
    etag: str
    size: int


class Storage(ABC):
    """What every backend offers. Methods raise ``FileNotFoundError`` for missing keys."""

    name: str = ""
    #: browsers may upload straight to the store (presigned multipart)
    supports_presigned_upload: bool = False

    # -- objects
    @abstractmethod
    def put_file(self, key: str, path: Path, content_type: str | None = None) -> None: ...

    def put_bytes(self, key: str, data: bytes, content_type: str | None = None) -> None:
        tmp = self.scratch_dir() / f"put-{uuid.uuid4().hex}"
        try:
            tmp.write_bytes(data)
            self.put_file(key, tmp, content_type)
        finally:
            tmp.unlink(missing_ok=True)

    @abstractmethod
    def download(self, key: str, path: Path) -> None:
        """Copy the object to a local file."""

    @abstractmethod
    def read_range(self, key: str, start: int, length: int) -> bytes: ...

    def read_bytes(self, key: str) -> bytes:
        return self.read_range(key, 0, self.size(key))

    @abstractmethod
    def size(self, key: str) -> int: ...

    def exists(self, key: str) -> bool:
        try:
            self.size(key)
        except FileNotFoundError:
            return False
        return True

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove an object; missing objects are not an error."""

    @abstractmethod
    def list(self, prefix: str) -> list[str]:
        """Every key under ``prefix`` (a folder-like prefix, without trailing slash)."""

    @abstractmethod
    def all_keys(self) -> Iterator[str]:
        """Every object's key, in no particular order (backups)."""

    def delete_prefix(self, prefix: str) -> None:
        for key in self.list(prefix):
            self.delete(key)

    @abstractmethod
    def copy(self, src: str, dst: str) -> None: ...

    @abstractmethod
    def publish_dir(self, folder: Path, prefix: str) -> None:
        """Make every file under ``folder`` available under ``prefix`` (which must be new)."""

    # -- delivery
    def local_path(self, key: str) -> Path | None:
        """The file on this machine holding ``key`` (local backend), else None."""
        return None

    def presigned_get(
        self,
        key: str,
        *,
        expires: int,
        content_type: str | None = None,
        disposition: str | None = None,
    ) -> str | None:
        """A time-limited URL a browser can GET (with Range) directly, else None."""
        return None

    def browser_origin(self) -> str | None:
        """The origin browsers contact for presigned URLs (for the page's CSP)."""
        return None

    # -- multipart uploads straight from the browser (S3 only)
    def create_multipart(self, key: str, content_type: str) -> str:
        raise NotImplementedError

    def presign_part(self, key: str, upload_id: str, part_number: int, expires: int) -> str:
        raise NotImplementedError

    def list_parts(self, key: str, upload_id: str) -> list[Part]:
        raise NotImplementedError

    def complete_multipart(self, key: str, upload_id: str, parts: list[Part]) -> None:
        raise NotImplementedError

    def abort_multipart(self, key: str, upload_id: str) -> None:
        raise NotImplementedError

    # -- local scratch space (upload staging, transcoding work); always on this machine
    def __init__(self, scratch: Path):
        self._scratch = scratch

    def scratch_dir(self, *parts: str) -> Path:
        path = self._scratch.joinpath(*parts)
        path.mkdir(parents=True, exist_ok=True)
        return path


class LocalStorage(Storage):
    name = "local"

    def __init__(self, root: Path):
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        super().__init__(root / ".scratch")

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def put_file(self, key: str, path: Path, content_type: str | None = None) -> None:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.parent / f".tmp-{uuid.uuid4().hex}"
        try:
            shutil.copyfile(path, tmp)
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)

    def move_in(self, key: str, path: Path) -> None:
        """Move a scratch file into place (same file system: one rename, no copy)."""
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, target)

    def download(self, key: str, path: Path) -> None:
        src = self._path(key)
        if not src.is_file():
            raise FileNotFoundError(key)
        shutil.copyfile(src, path)

    def read_range(self, key: str, start: int, length: int) -> bytes:
        try:
            with self._path(key).open("rb") as fh:
                fh.seek(start)
                return fh.read(length)
        except (FileNotFoundError, IsADirectoryError):
            raise FileNotFoundError(key) from None

    def size(self, key: str) -> int:
        path = self._path(key)
        if not path.is_file():
            raise FileNotFoundError(key)
        return path.stat().st_size

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def list(self, prefix: str) -> list[str]:
        base = self._path(prefix)
        if not base.is_dir():
            return []
        return sorted(
            str(p.relative_to(self.root))
            for p in base.rglob("*")
            if p.is_file() and not p.name.startswith(".tmp-")
        )

    def all_keys(self) -> Iterator[str]:
        for path in self.root.rglob("*"):
            key = path.relative_to(self.root).as_posix()
            if path.is_file() and not path.is_symlink() and _KEY.fullmatch(key):
                yield key

    def delete_prefix(self, prefix: str) -> None:
        shutil.rmtree(self._path(prefix), ignore_errors=True)

    def copy(self, src: str, dst: str) -> None:
        self.put_file(dst, self._path(src))

    def publish_dir(self, folder: Path, prefix: str) -> None:
        target = self._path(prefix)
        if target.exists():
            raise FileExistsError(prefix)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.parent / f".tmp-{uuid.uuid4().hex}"
        try:
            shutil.copytree(folder, tmp)
            os.rename(tmp, target)  # one step: the folder is complete or absent
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def local_path(self, key: str) -> Path | None:
        path = self._path(key)
        return path if path.is_file() else None


class StoreUnavailable(Unavailable):
    slug = "storage-unavailable"


@contextmanager
def _store_errors() -> Iterator[None]:
    """Turn "the store cannot be reached" (after boto3's own retries) into a clear, translated
    503; other errors (a missing key, access denied) keep their meaning."""
    try:
        yield
    except Exception as exc:
        if _unreachable(exc):
            raise StoreUnavailable(_unavailable_message()) from exc
        raise


def _unreachable(exc: BaseException | None) -> bool:
    """True when ``exc`` (or what it wraps, as boto3's transfer errors do) is a connection
    failure or a 5xx answer from the store."""
    from botocore.exceptions import ClientError, HTTPClientError
    from botocore.exceptions import ConnectionError as BotoConnectionError

    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, BotoConnectionError | HTTPClientError):
            return True
        if isinstance(exc, ClientError):
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            return status in (500, 502, 503, 504)
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False


def _unavailable_message() -> str:
    return _("The file store cannot be reached just now. Nothing was saved; please try again.")


class _GuardedClient:
    """A boto3 client whose calls go through ``_store_errors``."""

    def __init__(self, client: Any):
        self._client = client

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._client, name)
        if not callable(attr) or name.startswith("generate_presigned"):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            with _store_errors():
                return attr(*args, **kwargs)

        return call


def _guarded_iter(make: Callable[[], Iterator[Any]]) -> Iterator[Any]:
    with _store_errors():
        yield from make()


class S3Storage(Storage):
    name = "s3"
    supports_presigned_upload = True

    def __init__(
        self,
        *,
        bucket: str,
        scratch: Path,
        endpoint_url: str = "",
        public_endpoint_url: str = "",
        region: str = "us-east-1",
        access_key_id: str = "",
        secret_access_key: str = "",
        addressing_style: str = "path",
    ):
        super().__init__(scratch)
        import boto3
        from botocore.config import Config

        self.bucket = bucket
        self.endpoint_url = endpoint_url or None
        self.public_endpoint_url = public_endpoint_url or endpoint_url or None
        cfg = Config(
            signature_version="s3v4",
            s3={"addressing_style": addressing_style},
            retries={"max_attempts": 5, "mode": "standard"},
        )
        creds: dict[str, Any] = {}
        if access_key_id:
            creds = {"aws_access_key_id": access_key_id, "aws_secret_access_key": secret_access_key}
        session = boto3.session.Session(region_name=region, **creds)
        self.client = session.client("s3", endpoint_url=self.endpoint_url, config=cfg)
        # Presigned URLs are signed for the host the browser will contact.
        self.public_client = (
            session.client("s3", endpoint_url=self.public_endpoint_url, config=cfg)
            if self.public_endpoint_url != self.endpoint_url
            else self.client
        )
        self.client = _GuardedClient(self.client)

    @staticmethod
    def _missing(exc: Exception) -> bool:
        code = str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))
        return code in {"404", "NoSuchKey", "NotFound", "NoSuchUpload"}

    def put_file(self, key: str, path: Path, content_type: str | None = None) -> None:
        extra = {"ContentType": content_type} if content_type else {}
        self.client.upload_file(str(path), self.bucket, check_key(key), ExtraArgs=extra)

    def download(self, key: str, path: Path) -> None:
        from botocore.exceptions import ClientError

        try:
            self.client.download_file(self.bucket, check_key(key), str(path))
        except ClientError as exc:
            if self._missing(exc):
                raise FileNotFoundError(key) from None
            raise

    def read_range(self, key: str, start: int, length: int) -> bytes:
        from botocore.exceptions import ClientError

        if length <= 0:
            return b""
        try:
            resp = self.client.get_object(
                Bucket=self.bucket, Key=check_key(key), Range=f"bytes={start}-{start + length - 1}"
            )
        except ClientError as exc:
            if self._missing(exc):
                raise FileNotFoundError(key) from None
            if "InvalidRange" in str(exc):
                return b""
            raise
        return resp["Body"].read()

    def size(self, key: str) -> int:
        from botocore.exceptions import ClientError

        try:
            return int(
                self.client.head_object(Bucket=self.bucket, Key=check_key(key))["ContentLength"]
            )
        except ClientError as exc:
            if self._missing(exc):
                raise FileNotFoundError(key) from None
            raise

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=check_key(key))

    def _iter_keys(self, prefix: str) -> Iterator[str]:
        paginator = self.client.get_paginator("list_objects_v2")
        pages = _guarded_iter(
            lambda: paginator.paginate(Bucket=self.bucket, Prefix=check_key(prefix) + "/")
        )
        for page in pages:
            for item in page.get("Contents", []):
                yield item["Key"]

    def list(self, prefix: str) -> list[str]:
        return sorted(self._iter_keys(prefix))

    def all_keys(self) -> Iterator[str]:
        paginator = self.client.get_paginator("list_objects_v2")
        for page in _guarded_iter(lambda: paginator.paginate(Bucket=self.bucket)):
            for item in page.get("Contents", []):
                yield item["Key"]

    def delete_prefix(self, prefix: str) -> None:
        keys = self.list(prefix)
        for i in range(0, len(keys), 1000):
            batch = [{"Key": k} for k in keys[i : i + 1000]]
            self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": batch})

    def copy(self, src: str, dst: str) -> None:
        self.client.copy(
            {"Bucket": self.bucket, "Key": check_key(src)}, self.bucket, check_key(dst)
        )

    def publish_dir(self, folder: Path, prefix: str) -> None:
        check_key(prefix)
        if self.list(prefix):
            raise FileExistsError(prefix)
        files = sorted(p for p in folder.rglob("*") if p.is_file())
        # Playlists last, so that even a reader that ignored the database pointer would find
        # every segment a playlist names.
        files.sort(key=lambda p: p.suffix == ".m3u8")
        for path in files:
            rel = path.relative_to(folder).as_posix()
            self.put_file(f"{prefix}/{rel}", path, guess_type(rel))

    def presigned_get(
        self,
        key: str,
        *,
        expires: int,
        content_type: str | None = None,
        disposition: str | None = None,
    ) -> str | None:
        params: dict[str, Any] = {"Bucket": self.bucket, "Key": check_key(key)}
        if content_type:
            params["ResponseContentType"] = content_type
        if disposition:
            params["ResponseContentDisposition"] = disposition
        return self.public_client.generate_presigned_url(
            "get_object", Params=params, ExpiresIn=expires
        )

    def browser_origin(self) -> str | None:
        url = self.public_client.meta.endpoint_url
        if not url:
            return None
        from urllib.parse import urlsplit

        parts = urlsplit(url)
        if self.public_client.meta.config.s3.get("addressing_style") == "virtual":
            return f"{parts.scheme}://{self.bucket}.{parts.netloc}"
        return f"{parts.scheme}://{parts.netloc}"

    def create_multipart(self, key: str, content_type: str) -> str:
        resp = self.client.create_multipart_upload(
            Bucket=self.bucket, Key=check_key(key), ContentType=content_type
        )
        return resp["UploadId"]

    def presign_part(self, key: str, upload_id: str, part_number: int, expires: int) -> str:
        return self.public_client.generate_presigned_url(
            "upload_part",
            Params={
                "Bucket": self.bucket,
                "Key": check_key(key),
                "UploadId": upload_id,
                "PartNumber": part_number,
            },
            ExpiresIn=expires,
        )

    def list_parts(self, key: str, upload_id: str) -> list[Part]:
        from botocore.exceptions import ClientError

        parts: list[Part] = []
        marker = 0
        while True:
            try:
                resp = self.client.list_parts(
                    Bucket=self.bucket,
                    Key=check_key(key),
                    UploadId=upload_id,
                    PartNumberMarker=marker,
                )
            except ClientError as exc:
                if self._missing(exc):
                    raise FileNotFoundError(key) from None
                raise
            for p in resp.get("Parts", []):
                parts.append(Part(int(p["PartNumber"]), p["ETag"], int(p["Size"])))
            if not resp.get("IsTruncated"):
                return parts
            marker = int(resp["NextPartNumberMarker"])

    def complete_multipart(self, key: str, upload_id: str, parts: list[Part]) -> None:
        self.client.complete_multipart_upload(
            Bucket=self.bucket,
            Key=check_key(key),
            UploadId=upload_id,
            MultipartUpload={
                "Parts": [{"PartNumber": p.part_number, "ETag": p.etag} for p in parts]
            },
        )

    def abort_multipart(self, key: str, upload_id: str) -> None:
        from botocore.exceptions import ClientError

        try:
            self.client.abort_multipart_upload(
                Bucket=self.bucket, Key=check_key(key), UploadId=upload_id
            )
        except ClientError as exc:
            if not self._missing(exc):
                raise

    def ensure_bucket(self) -> None:
        """Create the bucket if it does not exist (set-up and tests)."""
        from botocore.exceptions import ClientError

        try:
            self.client.head_bucket(Bucket=self.bucket)
        except ClientError:
            self.client.create_bucket(Bucket=self.bucket)


_TYPES = {
    ".m3u8": "application/vnd.apple.mpegurl",
    ".ts": "video/mp2t",
    ".mp4": "video/mp4",
    ".m4s": "video/iso.segment",
    ".jpg": "image/jpeg",
    ".vtt": "text/vtt; charset=utf-8",
    ".pdf": "application/pdf",
}


def guess_type(name: str) -> str:
    """The content type the platform serves a generated file with."""
    return _TYPES.get(Path(name).suffix.lower(), "application/octet-stream")


def media_root(app: Flask) -> Path:
    configured = app.config.get("MEDIA_ROOT")
    return Path(configured) if configured else Path(app.instance_path) / "media"


def build(app: Flask) -> Storage:
    """The backend the configuration asks for."""
    cfg = app.config
    root = media_root(app)
    if cfg.get("S3_BUCKET"):
        return S3Storage(
            bucket=cfg["S3_BUCKET"],
            scratch=root / ".scratch",
            endpoint_url=cfg.get("S3_ENDPOINT_URL", ""),
            public_endpoint_url=cfg.get("S3_PUBLIC_ENDPOINT_URL", ""),
            region=cfg.get("S3_REGION") or "us-east-1",
            access_key_id=cfg.get("S3_ACCESS_KEY_ID", ""),
            secret_access_key=cfg.get("S3_SECRET_ACCESS_KEY", ""),
            addressing_style=cfg.get("S3_ADDRESSING_STYLE") or "path",
        )
    return LocalStorage(root)


def get_storage() -> Storage:
    """The storage of the current app (built once per app)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    store = app.extensions.get("lms.storage")
    if store is None:
        store = app.extensions["lms.storage"] = build(app)
    return store


def copy_stream(src: BinaryIO, dst: BinaryIO, limit: int | None = None) -> int:
    """Copy in 1 MiB blocks; stop (and return more than ``limit``) once past ``limit``."""
    total = 0
    while True:
        block = src.read(1 << 20)
        if not block:
            return total
        dst.write(block)
        total += len(block)
        if limit is not None and total > limit:
            return total
