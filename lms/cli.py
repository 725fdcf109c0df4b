"""``flask --app wsgi lms …``: the command-line group, gathering each domain's commands."""

from __future__ import annotations

from flask import Flask
from flask.cli import AppGroup

from lms import demo

lms_group = AppGroup("lms", help="China–ASEAN Vocational Cloud LMS commands.")


def init_app(app: Flask) -> None:
    from lms.accounts import cli as accounts_cli
    from lms.assessment import cli as assessment_cli
    from lms.catalog import cli as catalog_cli
    from lms.credits import cli as credits_cli
    from lms.enrolment import cli as enrolment_cli
    from lms.live import cli as live_cli
    from lms.media import cli as media_cli
    from lms.operations import cli as operations_cli
    from lms.transcripts import cli as transcripts_cli

    if not lms_group.commands:
        lms_group.add_command(accounts_cli.users)
        lms_group.add_command(accounts_cli.institutions)
        lms_group.add_command(catalog_cli.courses)
        lms_group.add_command(enrolment_cli.enrolment)
        lms_group.add_command(enrolment_cli.mail)
        lms_group.add_command(assessment_cli.questions)
        lms_group.add_command(assessment_cli.assessment)
        lms_group.add_command(live_cli.live)
        lms_group.add_command(media_cli.media)
        lms_group.add_command(transcripts_cli.transcripts)
        lms_group.add_command(transcripts_cli.keys)
        lms_group.add_command(credits_cli.credits)
        lms_group.add_command(demo.demo)
        lms_group.add_command(operations_cli.backup)
        lms_group.add_command(operations_cli.restore)
    app.cli.add_command(lms_group)
