"""Every route × every role (issue #12, DESIGN §9): the table in ``matrix.py`` against what
the application answers. A refused request is 401 / a redirect to the sign-in page for
anonymous visitors (401 problem+json on the API), 403 or 404 for signed-in users, and
writes nothing; an allowed one is never refused; nothing is ever a server error."""

from __future__ import annotations

import os
from urllib.parse import urlsplit

import pytest
from flask import url_for

from tests.security.matrix import BY_ENDPOINT, ENTRIES, Case
from tests.security.roles import ANON, ROLES, World, world  # noqa: F401  (fixture)

IGNORED_METHODS = {"HEAD", "OPTIONS"}
#: ``LMS_MATRIX_STRICT=1``: also fail where a refused role's request was turned down for
#: its body before its permission (a tool to find entries that need a valid body)
STRICT = os.environ.get("LMS_MATRIX_STRICT") == "1"
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def _value(world: World, raw: str):  # noqa: F811
    return raw[1:] if raw.startswith("=") else world.ids[raw]


def _url(world: World, endpoint: str, case: Case) -> str:  # noqa: F811
    args = {k: _value(world, v) for k, v in case.args.items()}
    with world.app.test_request_context():
        url = url_for(endpoint, **args)
    return f"{url}?{case.query}" if case.query else url


def _body(world: World, case: Case, method: str):  # noqa: F811
    body = case.bodies.get(method)
    if isinstance(body, dict):
        return {k: _value(world, v) if isinstance(v, str) else v for k, v in body.items()}
    return body


def _is_api(world: World, endpoint: str) -> bool:  # noqa: F811
    rule = next(world.app.url_map.iter_rules(endpoint))
    return rule.rule.startswith("/api/")


def _methods(world: World, endpoint: str) -> set[str]:  # noqa: F811
    out: set[str] = set()
    for rule in world.app.url_map.iter_rules(endpoint):
        out |= set(rule.methods) - IGNORED_METHODS
    return out


def test_every_route_is_in_the_matrix(app):
    """A new route without an entry (or an entry for a route that is gone) fails here."""
    routed = {rule.endpoint for rule in app.url_map.iter_rules()}
    missing = sorted(routed - set(BY_ENDPOINT))
    stale = sorted(set(BY_ENDPOINT) - routed)
    assert not missing, f"routes without an access-control matrix entry: {missing}"
    assert not stale, f"matrix entries for routes that do not exist: {stale}"
    for entry in ENTRIES:
        methods = set()
        for rule in app.url_map.iter_rules(entry.endpoint):
            methods |= set(rule.methods) - IGNORED_METHODS
        for case in entry.cases:
            listed = set(case.allowed) - {"*"}
            assert listed <= methods, (entry.endpoint, listed - methods)
            assert "*" in case.allowed or listed == methods, (
                f"{entry.endpoint}: say who may use {sorted(methods - listed)}"
            )


def _to_login(location: str) -> bool:
    return urlsplit(location).path == "/login"


def _check(world, endpoint, case, method, role, url, api) -> list[str]:  # noqa: F811
    allowed_roles = case.allowed.get(method, case.allowed.get("*", frozenset()))
    allowed = role in allowed_roles
    probe = world.probe(role, method, url, api=api, body=_body(world, case, method))
    status = probe.status
    where = f"{method} {url} as {role}: {status}"
    if status >= 500:
        return [f"{where} (server error)"]
    refused = status in (401, 403, 404) or (status in (301, 302, 303) and _to_login(probe.location))
    if allowed:
        if status == 404 and case.missing_ok:
            return []
        if refused:
            return [f"{where} — refused, but the matrix allows {role}"]
        return []
    problems = []
    if probe.writes:
        problems.append(f"{where} — refused request wrote: {probe.writes[:3]}")
    if refused:
        if role == ANON and api and status != 401:
            problems.append(f"{where} — anonymous API requests must get 401")
        if role == ANON and not api and status == 403 and not case.anon_forbidden:
            problems.append(f"{where} — anonymous visitors must be sent to sign in")
        if api and status in (401, 403) and "problem+json" not in probe.content_type:
            problems.append(f"{where} — API refusals are problem+json")
        return problems
    if role == ANON and api:
        problems.append(f"{where} — anonymous API requests must get 401 before anything else")
        return problems
    if method in WRITE_METHODS and status in (400, 422) and not probe.writes and not STRICT:
        return problems  # the body was refused before the permission was asked; no effect
    problems.append(f"{where} — the matrix refuses {role}, the app let it through")
    return problems


@pytest.mark.parametrize("endpoint", sorted(BY_ENDPOINT))
def test_access_matrix(world, endpoint):  # noqa: F811
    if endpoint not in world.app.view_functions:
        pytest.fail(f"{endpoint} is in the matrix but not routed")
    entry = BY_ENDPOINT[endpoint]
    api = _is_api(world, endpoint)
    failures: list[str] = []
    for case in entry.cases:
        url = _url(world, endpoint, case)
        for method in sorted(_methods(world, endpoint)):
            for role in ROLES:
                failures += _check(world, endpoint, case, method, role, url, api)
    assert not failures, "\n".join(failures)
