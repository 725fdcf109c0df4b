"""Reading the dashboards' filters from a query string (pages and API alike)."""

from __future__ import annotations

import re
from collections.abc import Mapping

from flask_babel import gettext as _

from lms.analytics.services import Filters
from lms.core.errors import field_error

_COUNTRY = re.compile(r"^[A-Z]{2}$")


def _int(args: Mapping[str, str], name: str) -> int | None:
    raw = (args.get(name) or "").strip()
    if not raw:
        return None
    if not raw.isdigit():
        raise field_error(name, _("This value is out of range."))
    return int(raw)


def parse_filters(args: Mapping[str, str], *, cohort: bool = True) -> Filters:
    """``?cohort=<id>&country=<ISO 3166 code>`` (statistics pages have no class filter);
    empty values mean no filter."""
    country = (args.get("country") or "").strip().upper() or None
    if country is not None and not _COUNTRY.match(country):
        raise field_error("country", _("Choose a country."))
    return Filters(cohort_id=_int(args, "cohort") if cohort else None, country=country)


def parse_int(args: Mapping[str, str], name: str) -> int | None:
    return _int(args, name)
