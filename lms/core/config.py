"""Configuration: defaults, then ``LMS_*`` environment variables, then ``instance/config.py``.

Every setting the platform reads is declared in ``DEFAULTS`` with its type, so that the
environment can override it without guessing (``LMS_RATELIMIT_LOGIN=5 per minute``)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask

#: name -> (default, description). The README's configuration table is generated from this.
DEFAULTS: dict[str, tuple[Any, str]] = {
    "DATABASE_URL": (None, "SQLAlchemy URL; default is a SQLite file in instance/"),
    "SECRET_KEY": (None, "Session signing key; generated into instance/secret_key if unset"),
    "SECURE_COOKIES": (False, "Always mark cookies Secure (they are Secure anyway over HTTPS)"),
    "PROXY_FIX": (0, "Number of reverse proxies whose X-Forwarded-* headers to trust"),
    "RATELIMIT_STORAGE_URI": ("memory://", "Rate-limit store; redis://host:6379 when scaled out"),
    "RATELIMIT_LOGIN": (
        "10 per minute;30 per hour",
        "Login attempts allowed per client address and per account",
    ),
    "TOKEN_TTL_SECONDS": (3600, "Lifetime of API bearer tokens"),
    "SESSION_HOURS": (12, "Lifetime of a login session"),
    "PASSWORD_RESET_SECONDS": (3600, "Lifetime of a password-reset link (seconds)"),
    "DEFAULT_LOCALE": ("en", "Locale when nothing else decides"),
    "DEFAULT_TIMEZONE": ("UTC", "Time zone when neither the user nor the institution sets one"),
    "PASSWORD_MEMORY_KIB": (65536, "Argon2id memory cost per password hash (KiB)"),
    "PASSWORD_TIME_COST": (3, "Argon2id iterations per password hash"),
    "PASSWORD_PARALLELISM": (4, "Argon2id lanes (threads) per password hash"),
    "BASE_URL": (
        "http://127.0.0.1:5000",
        "Public address (scheme and host) for links in e-mails sent outside a web request",
    ),
    "SMTP_HOST": ("", "SMTP server for e-mail; empty writes messages to the log"),
    "SMTP_PORT": (587, "SMTP port"),
    "SMTP_STARTTLS": (True, "Use STARTTLS with the SMTP server"),
    "SMTP_USERNAME": ("", "SMTP user name (empty: no login)"),
    "SMTP_PASSWORD": ("", "SMTP password"),
    "MAIL_FROM": ("China-ASEAN Vocational Cloud <no-reply@localhost>", "Sender of e-mails"),
    "DB_POOL_SIZE": (5, "Connection pool size (PostgreSQL)"),
    "DB_MAX_OVERFLOW": (10, "Connections beyond the pool (PostgreSQL)"),
    "MEDIA_ROOT": (None, "Local media objects, upload staging and work; default instance/media"),
    "S3_BUCKET": ("", "S3 bucket for media objects; empty keeps them in the local folder"),
    "S3_ENDPOINT_URL": ("", "S3-compatible endpoint (MinIO, Ceph …); empty for AWS S3"),
    "S3_PUBLIC_ENDPOINT_URL": ("", "Endpoint browsers reach for presigned URLs, if different"),
    "S3_REGION": ("us-east-1", "S3 region"),
    "S3_ACCESS_KEY_ID": ("", "S3 access key; empty uses boto3's usual credential chain"),
    "S3_SECRET_ACCESS_KEY": ("", "S3 secret key"),
    "S3_ADDRESSING_STYLE": ("path", "S3 addressing: path (MinIO, most stores) or virtual"),
    "CELERY_BROKER_URL": ("", "Celery broker (redis://…); empty runs jobs in-process"),
    "FFMPEG": ("", "ffmpeg executable; empty uses the one shipped by imageio-ffmpeg"),
    "FFMPEG_TIMEOUT": (7200, "Seconds one ffmpeg run may take before it is stopped"),
    "MEDIA_MAX_VIDEO_MB": (4096, "Largest video upload (MiB)"),
    "MEDIA_MAX_DOCUMENT_MB": (200, "Largest document upload (MiB)"),
    "MEDIA_MAX_SUBTITLE_KB": (2048, "Largest subtitle file (KiB)"),
    "MEDIA_CHUNK_BYTES": (8 * 1024 * 1024, "Size of one resumable upload chunk or S3 part"),
    "MEDIA_URL_TTL": (6 * 3600, "Lifetime of signed media URLs and presigned uploads (seconds)"),
    "MEDIA_X264_PRESET": ("veryfast", "x264 preset for the HLS ladder"),
    "PUBLIC_HOST": (
        None,
        "Host[:port] of the platform's public address; institutions' did:web identifiers and "
        "status-list URLs derive from it (default: the request's host)",
    ),
    "KEY_ENCRYPTION_KEY": (
        None,
        "Secret encrypting institutions' signing keys at rest; generated into "
        "instance/key_encryption_key if unset",
    ),
    "RATELIMIT_VERIFY": ("60 per minute", "Credential verifications allowed per client address"),
    "LOG_FORMAT": ("text", "Log format on stderr: text, or json (one object per line)"),
    "LOG_LEVEL": ("INFO", "Lowest level logged (DEBUG, INFO, WARNING, ERROR)"),
    "FONT_DIRS": (
        "/usr/share/fonts/truetype/noto:/usr/share/fonts/opentype/noto",
        "Folders (separated by ':') searched for the Noto fonts of PDF transcripts",
    ),
    "OUTBOUND_ALLOW_HTTP": (
        False,
        "Let the platform call plain http:// addresses (tests, closed networks); else https only",
    ),
    "OUTBOUND_PRIVATE_NETWORKS": (
        "",
        "Private networks (CIDR, comma-separated) the platform may call despite the SSRF "
        "guard, e.g. an LRS on the intranet; empty allows only public addresses",
    ),
    "OUTBOUND_TIMEOUT": (10, "Seconds to connect to, and between bytes from, a remote server"),
    "OUTBOUND_MAX_BYTES": (10 * 1024 * 1024, "Largest answer read from a remote server (bytes)"),
    "XAPI_LRS_ENDPOINT": (
        "",
        "xAPI endpoint of a learning record store (…/xapi/); empty keeps statements local",
    ),
    "XAPI_LRS_USERNAME": ("", "LRS Basic-auth user name (the LRS key)"),
    "XAPI_LRS_PASSWORD": ("", "LRS Basic-auth password (the LRS secret)"),
    "XAPI_LRS_ALLOWED_HOSTS": (
        "",
        "Hosts (comma-separated) the LRS endpoint may be on; empty allows the endpoint's host",
    ),
    "XAPI_LRS_BATCH_SIZE": (100, "Statements sent to the LRS in one POST"),
    "XAPI_LRS_RETRIES": (3, "Tries of one batch within a forwarding run before it waits"),
    "XAPI_LRS_BACKOFF_SECONDS": (
        2,
        "First wait between tries (doubles each time, and between runs)",
    ),
    "CACHE_URL": (
        "",
        "Shared cache of rendered pages (redis://host:6379/1) when several web nodes run; "
        "empty keeps a small cache in each process",
    ),
    "CATALOGUE_CACHE_SECONDS": (
        30,
        "How long a rendered catalogue page or API page is reused (0: never); saving a "
        "course or institution renews it at once",
    ),
}


def _coerce(raw: str, default: Any) -> Any:
    if isinstance(default, bool):
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(default, int):
        return int(raw)
    return raw


def _secret_key(instance: Path) -> str:
    """Read the instance secret key, creating it (mode 0600) on first run."""
    path = instance / "secret_key"
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


def load(app: Flask, overrides: dict[str, Any] | None = None) -> None:
    """Fill ``app.config`` from defaults, the environment and ``instance/config.py``.

    ``overrides`` (the ``config`` argument of ``create_app``) wins over all three; tests
    use it."""
    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    cfg = app.config
    for name, (default, _help) in DEFAULTS.items():
        raw = os.environ.get(f"LMS_{name}")
        cfg[name] = _coerce(raw, default) if raw is not None else default
    cfg.from_pyfile(str(instance / "config.py"), silent=True)
    if overrides:
        cfg.update(overrides)

    if not cfg.get("DATABASE_URL"):
        cfg["DATABASE_URL"] = f"sqlite:///{instance / 'lms.sqlite3'}"
    if not cfg.get("SECRET_KEY"):
        cfg["SECRET_KEY"] = _secret_key(instance)

    url: str = cfg["DATABASE_URL"]
    if url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgres://")
    elif url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    cfg["SQLALCHEMY_DATABASE_URI"] = url
    engine_options: dict[str, Any] = {"pool_pre_ping": True}
    if not url.startswith("sqlite"):
        engine_options |= {
            "pool_size": cfg["DB_POOL_SIZE"],
            "max_overflow": cfg["DB_MAX_OVERFLOW"],
        }
    else:
        from lms.core.db import WriterConnection

        engine_options["connect_args"] = {"timeout": 30, "factory": WriterConnection}
    cfg.setdefault("SQLALCHEMY_ENGINE_OPTIONS", engine_options)

    cfg.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_NAME="lms_session",
        REMEMBER_COOKIE_HTTPONLY=True,
        PERMANENT_SESSION_LIFETIME=cfg["SESSION_HOURS"] * 3600,
        BABEL_TRANSLATION_DIRECTORIES=str(Path(app.root_path).parent / "translations"),
        BABEL_DEFAULT_LOCALE=cfg["DEFAULT_LOCALE"],
        BABEL_DEFAULT_TIMEZONE="UTC",
        WTF_CSRF_TIME_LIMIT=None,
        MAX_CONTENT_LENGTH=cfg.get("MAX_CONTENT_LENGTH", 64 * 1024 * 1024),
        API_TITLE="China-ASEAN Vocational Cloud LMS API",
        API_VERSION="v1",
        OPENAPI_VERSION="3.1.0",
        OPENAPI_URL_PREFIX="/api/v1",
        OPENAPI_JSON_PATH="openapi.json",
        RATELIMIT_STORAGE_URI=cfg["RATELIMIT_STORAGE_URI"],
        RATELIMIT_HEADERS_ENABLED=True,
    )
