"""``flask --app wsgi lms …``: the command-line group, gathering each domain's commands."""

from __future__ import annotations

from flask import Flask
from flask.cli import AppGroup

from lms import demo

lms_group = AppGroup("lms", help="China–ASEAN Vocational Cloud LMS commands.")


def init_app(app: Flask) -> None:
    from lms.accounts import cli as accounts_cli

    if not lms_group.commands:
        lms_group.add_command(accounts_cli.users)
        lms_group.add_command(accounts_cli.institutions)
        lms_group.add_command(demo.demo)
    app.cli.add_command(lms_group)
