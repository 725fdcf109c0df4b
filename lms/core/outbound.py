"""The one way the platform fetches from or posts to a URL (SSRF guard, DESIGN §9).

Every outbound request (a BigBlueButton server, a learning record store, the npm registry
for the player's script) goes through ``request`` here, which

- accepts ``https`` only (``http`` when ``LMS_OUTBOUND_ALLOW_HTTP`` is on, for tests and
  closed networks), and no user name or password inside the URL;
- accepts only the hosts the caller lists (``allowed_hosts``, required);
- refuses numeric host forms other than a canonical dotted quad (``2130706433``,
  ``0177.0.0.1``, ``0x7f.1``, ``127.1``), which resolvers read as addresses;
- resolves the name itself and refuses it when *any* address is loopback, private,
  link-local (169.254.169.254, the cloud metadata service), carrier-grade NAT, multicast,
  reserved, unspecified (0.0.0.0, ::), or an IPv6 form embedding one (``::ffff:127.0.0.1``,
  6to4, NAT64, Teredo) — unless it lies in ``LMS_OUTBOUND_PRIVATE_NETWORKS``;
- connects to the very address it checked (TLS still verifies the certificate for the
  host name, sent as SNI), so a second DNS answer cannot slip in (no rebinding gap), and
  ignores proxy variables in the environment;
- follows a redirect only for GET / HEAD, only when the caller allows redirects, and checks
  every hop like the first URL;
- times out (``LMS_OUTBOUND_TIMEOUT``) and stops reading past a size cap
  (``LMS_OUTBOUND_MAX_BYTES``; the body is never decompressed on the fly).

Refusals raise ``OutboundRefused`` and network failures ``OutboundFailed`` (both domain
errors with a translated message); an HTTP error status is *returned*, the caller decides.
"""

from __future__ import annotations

import ipaddress
import json as jsonlib
import re
import socket
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import urllib3
from flask import current_app, has_app_context
from flask_babel import gettext as _

from lms.core.errors import DomainError

DEFAULT_TIMEOUT = 10.0
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
REDIRECTS = (301, 302, 303, 307, 308)
USER_AGENT = "china-asean-lms/1 (+outbound)"

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NUMERIC_LABEL = re.compile(r"^(0x[0-9a-f]*|[0-9]+)$")


class OutboundRefused(DomainError):
    """The URL or the address it resolves to is not allowed; nothing was sent."""

    status = 400
    slug = "url-refused"


class OutboundFailed(DomainError):
    """The remote server could not be reached or did not answer in time."""

    status = 502
    slug = "upstream-unavailable"


@dataclass(frozen=True)
class Target:
    """A checked URL: where to connect (``address``) and what to ask for."""

    url: str
    scheme: str
    host: str
    port: int
    path: str
    address: str

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"


@dataclass
class Response:
    status: int
    headers: Mapping[str, str]
    content: bytes
    url: str

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    def json(self) -> Any:
        return jsonlib.loads(self.content)


# ------------------------------------------------------------------------------ settings


def _setting(name: str, default: Any) -> Any:
    if has_app_context():
        return current_app.config.get(name, default)
    return default


def private_networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """Non-public networks explicitly allowed (``LMS_OUTBOUND_PRIVATE_NETWORKS``)."""
    raw = _setting("OUTBOUND_PRIVATE_NETWORKS", "") or ""
    items = raw if isinstance(raw, list | tuple) else str(raw).replace(";", ",").split(",")
    return [ipaddress.ip_network(item.strip(), strict=False) for item in items if item.strip()]


# ------------------------------------------------------------------------------ checking


def public_address(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """True for an address on the public Internet (and for no form embedding another)."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return public_address(ip.ipv4_mapped)
        if ip.sixtofour is not None:
            return public_address(ip.sixtofour)
        if ip.teredo is not None:
            return False
        if ip in _NAT64:
            return public_address(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return bool(
        ip.is_global
        and not (
            ip.is_private
            or ip.is_loopback
            or ip.is_link_local
            or ip.is_multicast
            or ip.is_reserved
            or ip.is_unspecified
        )
    )


def _allowed_address(ip: ipaddress.IPv4Address | ipaddress.IPv6Address, extra: list) -> bool:
    if ip.is_unspecified:
        return False  # 0.0.0.0 / :: mean "this host" to a connect(); never allowed
    if public_address(ip):
        return True
    plain = ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped else ip
    return any(plain.version == net.version and plain in net for net in extra)


def _numeric_form(host: str) -> bool:
    """WHATWG's rule: a host whose last label is a number is an IPv4 address form."""
    last = host.rstrip(".").rsplit(".", 1)[-1]
    return bool(_NUMERIC_LABEL.match(last))


def resolve(host: str, port: int) -> list[str]:
    """The host's addresses from the system resolver (a literal address is its own)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise OutboundFailed(_("The host name %(host)s could not be resolved.", host=host)) from exc
    seen: list[str] = []
    for _family, _type, _proto, _canon, sockaddr in infos:
        if sockaddr[0] not in seen:
            seen.append(sockaddr[0])
    return seen


def check_url(url: str, *, allowed_hosts: Iterable[str]) -> Target:
    """Check ``url`` against the rules above and resolve it; return where to connect.

    Raises ``OutboundRefused`` with the reason."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise OutboundRefused(_("The address is not a valid URL.")) from None
    scheme = parts.scheme.lower()
    allow_http = bool(_setting("OUTBOUND_ALLOW_HTTP", False))
    if scheme != "https" and not (scheme == "http" and allow_http):
        raise OutboundRefused(_("Only https:// addresses may be used."))
    if parts.username is not None or parts.password is not None:
        raise OutboundRefused(_("The address must not contain a user name or password."))
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise OutboundRefused(_("The address has no host name."))
    if "%" in host:
        raise OutboundRefused(_("The address %(host)s is not allowed.", host=host))
    allowed = {h.strip().lower().rstrip(".") for h in allowed_hosts if h and h.strip()}
    if host not in allowed:
        raise OutboundRefused(
            _("The host %(host)s is not on the list of allowed hosts.", host=host)
        )
    literal: ipaddress.IPv4Address | ipaddress.IPv6Address | None
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
        if _numeric_form(host):
            raise OutboundRefused(
                _("The address %(host)s is not a canonical IP address.", host=host)
            ) from None
    port = port or (443 if scheme == "https" else 80)
    addresses = [str(literal)] if literal is not None else resolve(host, port)
    extra = private_networks()
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        if not _allowed_address(ip, extra):
            raise OutboundRefused(
                _(
                    "The host %(host)s resolves to %(address)s, a private, local or "
                    "reserved address, which the platform does not connect to.",
                    host=host,
                    address=address,
                )
            )
    if not addresses:
        raise OutboundFailed(_("The host name %(host)s could not be resolved.", host=host))
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return Target(url, scheme, host, port, path, addresses[0])


# ------------------------------------------------------------------------------ sending


def _pool(target: Target, timeout: float) -> urllib3.HTTPConnectionPool:
    t = urllib3.Timeout(connect=timeout, read=timeout)
    if target.scheme == "https":
        kwargs: dict[str, Any] = {}
        try:
            import certifi

            kwargs["ca_certs"] = certifi.where()
        except ImportError:  # pragma: no cover - the system store then
            pass
        return urllib3.HTTPSConnectionPool(
            target.address,
            target.port,
            timeout=t,
            retries=False,
            maxsize=1,
            cert_reqs="CERT_REQUIRED",
            server_hostname=target.host,
            assert_hostname=target.host,
            **kwargs,
        )
    return urllib3.HTTPConnectionPool(
        target.address, target.port, timeout=t, retries=False, maxsize=1
    )


def _send(
    target: Target,
    method: str,
    headers: dict[str, str],
    body: bytes | None,
    timeout: float,
    max_bytes: int,
) -> Response:
    pool = _pool(target, timeout)
    started = time.monotonic()
    try:
        resp = pool.urlopen(
            method,
            target.path,
            body=body,
            headers={**headers, "Host": target.host_header},
            redirect=False,
            retries=False,
            preload_content=False,
            decode_content=False,
            assert_same_host=False,
        )
        try:
            length = resp.headers.get("Content-Length")
            if length and length.isdigit() and int(length) > max_bytes:
                raise OutboundRefused(_("The answer is larger than the platform accepts."))
            chunks, size = [], 0
            for chunk in resp.stream(64 * 1024, decode_content=False):
                size += len(chunk)
                if size > max_bytes:
                    raise OutboundRefused(_("The answer is larger than the platform accepts."))
                if time.monotonic() - started > 3 * timeout:
                    raise OutboundFailed(_("The remote server did not answer in time."))
                chunks.append(chunk)
            return Response(resp.status, dict(resp.headers), b"".join(chunks), target.url)
        finally:
            resp.release_conn()
            resp.close()
    except urllib3.exceptions.SSLError as exc:
        raise OutboundFailed(
            _("The secure connection to %(host)s could not be verified.", host=target.host)
        ) from exc
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        raise OutboundFailed(
            _("The server %(host)s could not be reached.", host=target.host)
        ) from exc
    finally:
        pool.close()


def request(
    method: str,
    url: str,
    *,
    allowed_hosts: Iterable[str],
    headers: Mapping[str, str] | None = None,
    body: bytes | None = None,
    json: Any = None,
    auth: tuple[str, str] | None = None,
    timeout: float | None = None,
    max_bytes: int | None = None,
    max_redirects: int = 0,
) -> Response:
    """Send one request under the rules of this module and return the whole answer.

    ``allowed_hosts`` lists the host names (or literal addresses) the request may reach,
    including through redirects. Redirects are followed (at most ``max_redirects``) only
    for GET and HEAD; otherwise a redirect answer is refused."""
    method = method.upper()
    allowed = list(allowed_hosts)
    timeout = float(timeout or _setting("OUTBOUND_TIMEOUT", DEFAULT_TIMEOUT))
    max_bytes = int(max_bytes or _setting("OUTBOUND_MAX_BYTES", DEFAULT_MAX_BYTES))
    sent = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity", **(headers or {})}
    if json is not None:
        body = jsonlib.dumps(json, ensure_ascii=False, separators=(",", ":")).encode()
        sent.setdefault("Content-Type", "application/json")
    if auth is not None:
        sent["Authorization"] = urllib3.make_headers(basic_auth=f"{auth[0]}:{auth[1]}")[
            "authorization"
        ]
    current = url
    for hop in range(max_redirects + 1):
        target = check_url(current, allowed_hosts=allowed)
        resp = _send(target, method, sent, body, timeout, max_bytes)
        if resp.status not in REDIRECTS:
            return resp
        location = resp.headers.get("Location") or resp.headers.get("location")
        if method not in ("GET", "HEAD") or hop == max_redirects or not location:
            raise OutboundRefused(
                _(
                    "The server %(host)s answered with a redirect, which is not followed.",
                    host=target.host,
                )
            )
        next_url = urljoin(current, location)
        if urlsplit(next_url).hostname != target.host:
            sent.pop("Authorization", None)  # credentials never follow to another host
        current = next_url
    raise AssertionError("unreachable")  # pragma: no cover


def get(url: str, **kwargs: Any) -> Response:
    return request("GET", url, **kwargs)


def post(url: str, **kwargs: Any) -> Response:
    return request("POST", url, **kwargs)
