"""Meeting providers: BigBlueButton (checksum-signed API), Jitsi Meet (room, optional JWT)
and external links. Only this module reads the secrets in ``ProviderSettings``; it returns
URLs for one user, never the secrets themselves."""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass
from urllib.parse import quote, urlencode, urlsplit

from defusedxml import ElementTree
from flask_babel import gettext as _
from joserfc import jwt
from joserfc.jwk import OctKey

from lms.core import outbound
from lms.core.errors import Conflict

BBB_TIMEOUT = 10
#: a BigBlueButton API answer is a small XML document
BBB_MAX_BYTES = 2 * 1024 * 1024


def bbb_checksum(call: str, query: str, secret: str, algorithm: str = "sha1") -> str:
    """The documented BigBlueButton checksum: hash(call name + query string + shared secret),
    hex encoded (SHA-1 by default; SHA-256/384/512 when the server is configured so)."""
    return hashlib.new(algorithm, (call + query + secret).encode("utf-8")).hexdigest()


def bbb_url(base: str, call: str, params: dict[str, str], secret: str) -> str:
    """A signed API URL: ``{base}/api/{call}?{query}&checksum=…``."""
    query = urlencode(params, quote_via=quote)
    checksum = bbb_checksum(call, query, secret)
    sep = "&" if query else ""
    return f"{base.rstrip('/')}/api/{call}?{query}{sep}checksum={checksum}"


@dataclass
class Recording:
    record_id: str
    url: str
    started_ms: int


class BigBlueButton:
    """One institution's BigBlueButton server."""

    def __init__(self, base_url: str, secret: str):
        if not base_url or not secret:
            raise Conflict(_("BigBlueButton is not configured for this institution."))
        self.base = base_url.rstrip("/")
        if self.base.endswith("/api"):
            self.base = self.base[: -len("/api")]
        self.secret = secret

    def url(self, call: str, params: dict[str, str]) -> str:
        return bbb_url(self.base, call, params, self.secret)

    def _call(self, call: str, params: dict[str, str]):
        """One API call through the platform's outbound guard: only the configured server's
        host, no redirects, public addresses unless the operator allowed a private network."""
        try:
            resp = outbound.get(
                self.url(call, params),
                allowed_hosts=[urlsplit(self.base).hostname or ""],
                timeout=BBB_TIMEOUT,
                max_bytes=BBB_MAX_BYTES,
            )
        except outbound.OutboundRefused as exc:
            raise Conflict(
                _(
                    "The BigBlueButton server address is not allowed: %(reason)s",
                    reason=exc.message,
                )
            ) from exc
        except outbound.OutboundFailed as exc:
            raise Conflict(
                _("The BigBlueButton server could not be reached. Please try again shortly.")
            ) from exc
        try:
            if not resp.ok:
                raise ValueError(resp.status)
            root = ElementTree.fromstring(resp.content, forbid_dtd=True)
        except (ValueError, ElementTree.ParseError) as exc:
            raise Conflict(
                _("The BigBlueButton server could not be reached. Please try again shortly.")
            ) from exc
        if (root.findtext("returncode") or "") != "SUCCESS":
            if call == "getRecordings" and root.findtext("messageKey") == "noRecordings":
                return root
            raise Conflict(
                _(
                    "The BigBlueButton server refused the request: %(reason)s",
                    reason=root.findtext("messageKey") or "?",
                )
            )
        return root

    def create(self, meeting_id: str, name: str, *, duration: int, callback_url: str = "") -> None:
        """Create the meeting (BigBlueButton answers SUCCESS again when it exists)."""
        params = {
            "meetingID": meeting_id,
            "name": name,
            "duration": str(duration),
            "record": "true",
        }
        if callback_url:
            params["meta_endCallbackUrl"] = callback_url
        self._call("create", params)

    def join_url(self, meeting_id: str, *, full_name: str, user_id: str, moderator: bool) -> str:
        """The browser URL that joins one user with a role (moderator or viewer)."""
        return self.url(
            "join",
            {
                "meetingID": meeting_id,
                "fullName": full_name,
                "role": "MODERATOR" if moderator else "VIEWER",
                "userID": user_id,
                "redirect": "true",
            },
        )

    def end(self, meeting_id: str) -> None:
        self._call("end", {"meetingID": meeting_id})

    def recordings(self, meeting_id: str) -> list[Recording]:
        root = self._call("getRecordings", {"meetingID": meeting_id})
        out = []
        for rec in root.iter("recording"):
            url = ""
            for fmt in rec.iter("format"):
                url = fmt.findtext("url") or url
                if url:
                    break
            if url:
                out.append(
                    Recording(
                        rec.findtext("recordID") or "",
                        url,
                        int(rec.findtext("startTime") or 0),
                    )
                )
        return out


ROOM_RE = re.compile(r"[^A-Za-z0-9-]+")


def jitsi_room(course_code: str, session_id: int, salt: str) -> str:
    """A room name that cannot be guessed from the course code alone."""
    digest = hashlib.sha256(f"{salt}:{course_code}:{session_id}".encode()).hexdigest()[:12]
    return ROOM_RE.sub("-", f"{course_code}-{session_id}-{digest}").strip("-")


def jitsi_url(
    domain: str,
    room: str,
    *,
    app_id: str = "",
    secret: str = "",
    name: str = "",
    email: str = "",
    moderator: bool = False,
    expires_in: int = 4 * 3600,
) -> str:
    """The room URL; with an app id and secret, carrying a signed HS256 JWT (the Jitsi
    token authentication format) valid for ``expires_in`` seconds."""
    url = f"https://{domain.strip('/')}/{room}"
    if not (app_id and secret):
        return url
    now = int(time.time())
    claims = {
        "aud": "jitsi",
        "iss": app_id,
        "sub": domain,
        "room": room,
        "iat": now,
        "exp": now + expires_in,
        "context": {"user": {"name": name, "email": email, "moderator": moderator}},
    }
    token = jwt.encode({"alg": "HS256", "typ": "JWT"}, claims, OctKey.import_key(secret))
    return f"{url}?jwt={token}"
