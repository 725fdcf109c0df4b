"""Recordings of live sessions: a provider URL or a media asset (linked by id only)."""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select

from lms.accounts.models import User
from lms.core.audit import record
from lms.core.errors import Conflict, NotFound, field_error
from lms.core.extensions import db
from lms.core.security import can, require
from lms.live import providers
from lms.live.models import LiveRecording, LiveSession
from lms.live.services import (
    is_participant,
    settings_for,
)
from lms.media import services as media

# ---------------------------------------------------------------------------- recordings


def add_recording(
    actor: User | None,
    session: LiveSession,
    *,
    url: str = "",
    media_asset_id: str | None = None,
    occurrence: datetime | None = None,
) -> LiveRecording:
    """Attach a recording: a provider's https URL or a media asset (by id)."""
    if actor is not None:
        require(actor, "live.manage", session.course)
    url = (url or "").strip()
    media_asset_id = (media_asset_id or "").strip() or None
    if bool(url) == bool(media_asset_id):
        raise field_error("url", _("Give either a recording link or an uploaded video."))
    if url and not url.startswith("https://"):
        raise field_error("url", _("The recording link must start with https://."))
    if media_asset_id:
        _check_asset(actor, media_asset_id)
    rec = LiveRecording(
        session=session,
        url=url,
        media_asset_id=media_asset_id,
        occurrence_at=occurrence,
        added_by_id=getattr(actor, "id", None),
    )
    db.session.add(rec)
    db.session.flush()
    record(
        actor,
        "live.recording_added",
        "live_session",
        session.id,
        after={"url": url, "media_asset_id": media_asset_id},
    )
    return rec


def _check_asset(actor: User | None, asset_id: str) -> None:
    """The media domain says whether the asset exists and the teacher may use it (it is
    linked by id only)."""
    try:
        asset = media.get_asset(asset_id)
    except NotFound:
        raise field_error("media_asset_id", _("This uploaded video does not exist.")) from None
    if actor is not None and not can(actor, "media.view", asset):
        raise field_error("media_asset_id", _("This uploaded video does not exist."))
    if asset.kind != "video":
        raise field_error("media_asset_id", _("Choose an uploaded video."))


def used_in_recording(user, asset) -> bool:
    """The media domain's view check: a recording may be replayed by whoever may see the
    session it belongs to."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    sessions = db.session.scalars(
        select(LiveSession)
        .join(LiveRecording, LiveRecording.session_id == LiveSession.id)
        .where(LiveRecording.media_asset_id == asset.id)
    )
    return any(can(user, "live.manage", s.course) or is_participant(user, s) for s in sessions)


def import_provider_recordings(actor: User | None, session: LiveSession) -> list[LiveRecording]:
    """Fetch the meeting's recordings from BigBlueButton and attach the new ones."""
    if actor is not None:
        require(actor, "live.manage", session.course)
    if session.provider != "bigbluebutton":
        raise Conflict(_("Only BigBlueButton recordings can be fetched automatically."))
    settings = settings_for(session.course.institution)
    bbb = providers.BigBlueButton(settings.bbb_url, settings.bbb_secret)
    known = {r.url for r in session.recordings}
    added = []
    for rec in bbb.recordings(session.meeting_ref):
        if rec.url not in known:
            added.append(add_recording(None, session, url=rec.url))
            known.add(rec.url)
    return added
