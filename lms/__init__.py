"""China–ASEAN Vocational Cloud LMS: the application factory."""

from __future__ import annotations

from importlib import import_module
from pathlib import Path
from typing import Any

from flask import Flask, jsonify
from werkzeug.middleware.proxy_fix import ProxyFix

from lms import api, cli
from lms.core import cache, errors, jobs, logs, mail, web
from lms.core import config as _config
from lms.core.db import configure_engine, ping
from lms.core.extensions import babel, csrf, db, limiter, login_manager, migrate
from lms.core.i18n import select_locale, select_timezone

# Domains in dependency order (DESIGN §2); each exposes ``init_app(app)``.
DOMAINS = (
    "lms.accounts",
    "lms.media",
    "lms.catalog",
    "lms.enrolment",
    "lms.live",
    "lms.assessment",
    "lms.credits",
    "lms.transcripts",
    "lms.analytics",
    "lms.offline",
    "lms.operations",
)


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the application. ``config`` overrides every other source (tests use it)."""
    app = Flask(
        __name__,
        instance_path=(config or {}).get("INSTANCE_PATH") or None,
        instance_relative_config=True,
        static_folder="../static",
        static_url_path="/static",
    )
    _config.load(app, config)
    if app.config["PROXY_FIX"]:
        n = int(app.config["PROXY_FIX"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)

    db.init_app(app)
    with app.app_context():
        configure_engine(db.engine)
    migrate.init_app(app, db, directory=str(_migrations_dir(app)), render_as_batch=True)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    csrf.init_app(app)
    login_manager.init_app(app)
    limiter.init_app(app)
    logs.init_app(app)
    errors.register(app)
    web.init_app(app)
    cache.init_app(app)
    jobs.init_app(app)
    mail.init_app(app)

    for name in DOMAINS:
        import_module(name).init_app(app)

    api.init_app(app)

    @app.get("/healthz")
    def health():
        ok = ping()
        body = {"status": "ok" if ok else "error", "database": "ok" if ok else "error"}
        return jsonify(body), 200 if ok else 503

    cli.init_app(app)
    return app


def _migrations_dir(app: Flask) -> Path:
    return Path(app.root_path).parent / "migrations"
