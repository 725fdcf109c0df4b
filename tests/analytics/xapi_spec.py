"""An xAPI 1.0.3 statement validator written from the specification (xAPI-Data.md, part
two), independent of the platform's own ``validate_statement``; plus a parse with the
``tincan`` library (Rustici's TinCanPython) where it is installed.

Checked: statement id UUID; actor an Agent with exactly one inverse functional identifier
(mbox ``mailto:`` IRI, mbox_sha1sum 40 hex, openid URI, or account with homePage IRL and
name); verb id IRI and display a language map; object an Activity with an IRI id and a
definition whose name / description are language maps and type an IRI; result score
(scaled in [-1, 1], raw between min and max, min < max), success / completion booleans,
duration ISO 8601; context registration UUID, contextActivities values arrays of
activities, language an RFC 5646 tag, platform a string, extension keys IRIs; timestamp
and stored RFC 3339 (ISO 8601 with a zone); version 1.0.x; no unknown top-level property."""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime
from typing import Any

TOP_LEVEL = {
    "id",
    "actor",
    "verb",
    "object",
    "result",
    "context",
    "timestamp",
    "stored",
    "authority",
    "version",
    "attachments",
}
ISO_DURATION = re.compile(
    r"^P(?=\d|T\d)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$"
)
RFC3339 = re.compile(
    r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d"
    r"(\.\d+)?(Z|[+-]\d{2}:\d{2})$"
)
BCP47 = re.compile(
    r"^[a-zA-Z]{2,3}(-[a-zA-Z]{4})?(-([a-zA-Z]{2}|\d{3}))?(-[a-zA-Z0-9]{5,8})*$|^und$"
)
IRI = re.compile(r"^[a-zA-Z][a-zA-Z0-9+\-.]*:(//)?[^\s<>\"{}|\\^`]+$")


class Invalid(AssertionError):
    pass


def _check(cond: bool, what: str) -> None:
    if not cond:
        raise Invalid(what)


def _uuid(value: Any, what: str) -> None:
    try:
        parsed = uuid.UUID(str(value))
    except ValueError:
        raise Invalid(f"{what} is not a UUID") from None
    _check(str(parsed) == str(value).lower(), f"{what} is not in canonical UUID form")


def _lang_map(value: Any, what: str) -> None:
    _check(isinstance(value, dict) and value, f"{what} must be a non-empty language map")
    for tag, text in value.items():
        _check(bool(BCP47.match(tag)), f"{what}: {tag!r} is not an RFC 5646 tag")
        _check(isinstance(text, str), f"{what}[{tag}] must be a string")


def _agent(value: Any, what: str) -> None:
    _check(isinstance(value, dict), f"{what} must be an object")
    _check(value.get("objectType", "Agent") == "Agent", f"{what}.objectType must be Agent")
    ifis = [k for k in ("mbox", "mbox_sha1sum", "openid", "account") if k in value]
    _check(len(ifis) == 1, f"{what} must carry exactly one inverse functional identifier")
    if "mbox" in value:
        _check(str(value["mbox"]).startswith("mailto:"), f"{what}.mbox must be a mailto IRI")
    if "mbox_sha1sum" in value:
        _check(bool(re.fullmatch(r"[0-9a-f]{40}", value["mbox_sha1sum"])), "bad mbox_sha1sum")
    if "account" in value:
        account = value["account"]
        _check(set(account) == {"homePage", "name"}, f"{what}.account needs homePage and name")
        _check(bool(re.match(r"^https?://", account["homePage"])), "account.homePage is an IRL")
        _check(isinstance(account["name"], str) and account["name"], "account.name is a string")


def _activity(value: Any, what: str) -> None:
    _check(isinstance(value, dict), f"{what} must be an object")
    _check(value.get("objectType", "Activity") == "Activity", f"{what} must be an Activity")
    _check(bool(IRI.match(str(value.get("id", "")))), f"{what}.id must be an IRI")
    definition = value.get("definition")
    if definition is not None:
        for key in ("name", "description"):
            if key in definition:
                _lang_map(definition[key], f"{what}.definition.{key}")
        if "type" in definition:
            _check(bool(IRI.match(definition["type"])), f"{what}.definition.type must be an IRI")


def _extensions(value: Any, what: str) -> None:
    _check(isinstance(value, dict), f"{what} must be an object")
    for key in value:
        _check(bool(IRI.match(key)), f"{what} key {key!r} must be an IRI")


def _timestamp(value: Any, what: str) -> None:
    _check(isinstance(value, str) and bool(RFC3339.match(value)), f"{what} must be RFC 3339")
    datetime.fromisoformat(value.replace("Z", "+00:00"))


def validate(statement: dict[str, Any]) -> None:
    """Raise ``Invalid`` naming the first rule ``statement`` breaks."""
    unknown = set(statement) - TOP_LEVEL
    _check(not unknown, f"unknown properties {unknown}")
    for required in ("id", "actor", "verb", "object", "timestamp", "version"):
        _check(required in statement, f"{required} is missing")
    _uuid(statement["id"], "id")
    _agent(statement["actor"], "actor")
    verb = statement["verb"]
    _check(bool(IRI.match(str(verb.get("id", "")))), "verb.id must be an IRI")
    _lang_map(verb.get("display"), "verb.display")
    _activity(statement["object"], "object")
    result = statement.get("result")
    if result is not None:
        score = result.get("score")
        if score is not None:
            if "scaled" in score:
                _check(-1 <= score["scaled"] <= 1, "result.score.scaled must be in [-1, 1]")
            if "min" in score and "max" in score:
                _check(score["min"] < score["max"], "result.score.min must be below max")
            if "raw" in score:
                _check(score.get("min", score["raw"]) <= score["raw"], "raw below min")
                _check(score["raw"] <= score.get("max", score["raw"]), "raw above max")
        for flag in ("success", "completion"):
            if flag in result:
                _check(isinstance(result[flag], bool), f"result.{flag} must be a boolean")
        if "duration" in result:
            _check(bool(ISO_DURATION.match(result["duration"])), "result.duration not ISO 8601")
        if "extensions" in result:
            _extensions(result["extensions"], "result.extensions")
    ctx = statement.get("context")
    if ctx is not None:
        if "registration" in ctx:
            _uuid(ctx["registration"], "context.registration")
        if "language" in ctx:
            _check(bool(BCP47.match(ctx["language"])), "context.language must be RFC 5646")
        if "platform" in ctx:
            _check(isinstance(ctx["platform"], str), "context.platform must be a string")
        for kind, items in (ctx.get("contextActivities") or {}).items():
            _check(kind in {"parent", "grouping", "category", "other"}, f"bad {kind}")
            _check(isinstance(items, list), f"contextActivities.{kind} must be an array")
            for item in items:
                _activity(item, f"contextActivities.{kind}")
        if "extensions" in ctx:
            _extensions(ctx["extensions"], "context.extensions")
    _timestamp(statement["timestamp"], "timestamp")
    if "stored" in statement:
        _timestamp(statement["stored"], "stored")
    _check(bool(re.fullmatch(r"1\.0\.\d+", statement["version"])), "version must be 1.0.x")


def parse_with_tincan(statement: dict[str, Any]) -> Any:
    """Parse with TinCanPython (an independent implementation), or None when it is not
    installed. Its parser raises on malformed UUIDs, timestamps, durations, IRIs' types."""
    try:
        from tincan import Statement
    except ImportError:
        return None
    parsed = Statement.from_json(json.dumps(statement))
    assert str(parsed.id) == statement["id"]
    assert parsed.verb.id == statement["verb"]["id"]
    assert parsed.object.id == statement["object"]["id"]
    assert parsed.actor.account.name == statement["actor"]["account"]["name"]
    if "result" in statement and "score" in statement["result"]:
        assert parsed.result.score.scaled == statement["result"]["score"]["scaled"]
    if "context" in statement:
        assert str(parsed.context.registration) == statement["context"]["registration"]
    return parsed
