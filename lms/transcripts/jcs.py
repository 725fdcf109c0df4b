"""RFC 8785 JSON Canonicalization Scheme (JCS), the canonical form ``eddsa-jcs-2022`` hashes.

The work is done by the ``rfc8785`` package (Trail of Bits), which reproduces every test
vector of the RFC's author, including the ES6 number serialisation; this module pins the
one entry point the domain uses and turns its failures into one exception type.

One adjustment: JCS reads every JSON number as an IEEE-754 double (ES6 semantics), while
Python parses ``9007199254740992`` as an int, which the package refuses beyond ±(2**53 − 1).
Such integers are canonicalised as the double they denote, as a JavaScript signer would, so
a credential that carried a whole-number double still verifies after a JSON round trip."""

from __future__ import annotations

from typing import Any

import rfc8785

_SAFE = 2**53 - 1


class CanonicalizationError(ValueError):
    """The value has no JCS form: NaN or infinity, a number beyond the double range, a string
    that is not valid Unicode (a lone surrogate), a non-string key or a type that JSON does
    not have."""


def _as_doubles(value: Any) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, str | float):
        return value
    if isinstance(value, int):
        return value if -_SAFE <= value <= _SAFE else float(value)
    if isinstance(value, dict):
        return {k: _as_doubles(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_as_doubles(v) for v in value]
    return value


def canonicalize(value: Any) -> bytes:
    """The JCS bytes (UTF-8) of a JSON value made of dict, list, str, int, float, bool, None."""
    try:
        return rfc8785.dumps(_as_doubles(value))
    except rfc8785.CanonicalizationError as exc:  # base class of the package's domain errors
        raise CanonicalizationError(str(exc)) from exc
    except (TypeError, ValueError, UnicodeError, OverflowError, RecursionError) as exc:
        raise CanonicalizationError(str(exc)) from exc
