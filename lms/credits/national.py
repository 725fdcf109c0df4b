"""National default grade scales and credit systems for China and the eleven ASEAN countries,
read from ``data/grade_scales.json`` (a copy of the project's indicative conventions; each
institution may define its own).

The file describes each country in its own shape, so each country has a small reader here.
Where the file is silent, the reader supplies a value and says so in ``notes`` (and in the
README): percent ranges for Laos, Singapore, Brunei and Timor-Leste, a failing band for
Cambodia, grade points for Timor-Leste, and hours per credit for every country except China,
Indonesia and Laos. All of these are indicative and meant to be confirmed by the registrars
who use them.

How ranges are read: the file gives closed ranges in whole (or hundredth) marks such as
``[80, 89]``, ``[90, 100]``; a band here is half-open, so each band runs up to the next
band's lower bound (``80 ≤ p < 90``) and the top band includes 100."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from lms.credits.scales import HIGHER_BETTER, LOWER_BETTER, Band, CreditRule

DATA_FILE = Path(__file__).with_name("data") / "grade_scales.json"

#: China, then the ASEAN member states
COUNTRIES = ("CN", "BN", "KH", "ID", "LA", "MM", "MY", "PH", "SG", "TH", "TL", "VN")

ROUNDING_STEP = Decimal("0.5")  # every national default rounds half-up to half credits


@dataclass(frozen=True)
class ScaleSpec:
    code: str
    country: str
    names: dict[str, str]
    direction: str
    pass_mark: Decimal
    bands: tuple[Band, ...]  # best first
    notes: str


@dataclass(frozen=True)
class SystemSpec:
    code: str
    country: str
    names: dict[str, str]
    rule: CreditRule
    notes: str


def _d(value: Any) -> Decimal:
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value))


@cache
def vectors() -> dict[str, Any]:
    with DATA_FILE.open(encoding="utf-8") as fh:
        return json.load(fh)


def _bands(
    ranges: dict[str, list[Any]],
    points: dict[str, Any],
    pass_label: str,
    *,
    factor: Decimal = Decimal(1),
    names: dict[str, dict[str, str]] | None = None,
) -> tuple[Decimal, tuple[Band, ...]]:
    """Half-open bands from the file's closed ranges (each band reaches up to the next
    one's lower bound; a gap of more than one mark between them is a data error), and the
    pass mark: the lower bound of the band ``pass_label``."""
    rows = sorted(
        ((label, _d(lo) * factor, _d(hi) * factor) for label, (lo, hi) in ranges.items()),
        key=lambda r: r[1],
    )
    if rows[0][1] != 0:
        raise ValueError(f"ranges do not start at 0: {ranges}")
    pass_mark = next(lo for label, lo, _hi in rows if label == pass_label)
    bands = []
    for i, (label, lo, hi) in enumerate(rows):
        upper = rows[i + 1][1] if i + 1 < len(rows) else Decimal(100)
        if not Decimal(0) <= upper - hi <= Decimal(1):
            raise ValueError(f"ranges of {label} and the next band do not meet: {ranges}")
        bands.append(
            Band(
                label=label,
                min_percent=lo,
                max_percent=upper,
                points=_d(points[label]),
                passing=lo >= pass_mark,
                names=(names or {}).get(label, {}),
            )
        )
    return pass_mark, tuple(reversed(bands))


def _pass_label(text: str) -> str:
    """``"D (1.0)"``, ``"~D (40%)"``, ``"Suficiente (~55%)"`` → the grade named first."""
    return text.strip().lstrip("~").split(" ")[0]


def _points(entry: dict[str, Any], key: str = "points") -> dict[str, Any]:
    """Grade points keyed by the first of a label's variants (``"B+/AB"`` → ``"B+"``)."""
    return {label.split("/")[0]: value for label, value in entry[key].items()}


def _letters(country: str, ranges_key: str, **kw: Any) -> tuple[Decimal, tuple[Band, ...]]:
    entry = vectors()[country]
    return _bands(entry[ranges_key], _points(entry), _pass_label(entry["pass"]), **kw)


# Percent ranges the file does not give, chosen to match its pass marks (see module doc).
_THAI_STYLE = "TH"  # Laos uses the same letters, points and 50 % pass as Thailand
_SG_PERCENT = {
    "A+": [90, 100], "A": [85, 89], "A-": [80, 84], "B+": [75, 79], "B": [70, 74],
    "B-": [65, 69], "C+": [60, 64], "C": [55, 59], "D+": [50, 54], "D": [45, 49], "F": [0, 44],
}  # fmt: skip
_BN_PERCENT = {
    "A": [85, 100], "A-": [80, 84], "B+": [75, 79], "B": [70, 74], "B-": [65, 69],
    "C+": [60, 64], "C": [55, 59], "C-": [50, 54], "D+": [45, 49], "D": [40, 44], "F": [0, 39],
}  # fmt: skip
_TL_PERCENT = {
    "Excelente": [90, 100], "Muito Bom": [80, 89], "Bom": [70, 79], "Suficiente": [55, 69],
    "Insuficiente": [0, 54],
}  # fmt: skip
_TL_POINTS = {"Excelente": 4, "Muito Bom": 3, "Bom": 2, "Suficiente": 1, "Insuficiente": 0}
_CN_NAMES_EN = {"A": "Excellent", "B": "Good", "C": "Average", "D": "Pass", "F": "Fail"}


def _china() -> tuple[Decimal, tuple[Band, ...]]:
    entry = vectors()["CN"]
    four = next(g for g in entry["gpa_examples"] if g.startswith("4.0:"))
    points = dict(re.findall(r"([A-F])(\d(?:\.\d+)?)", four.split(":", 1)[1]))
    ranges, names = {}, {}
    for full, lo, hi in entry["bands"]:
        zh, letter = full.split("/")
        ranges[letter] = [lo, hi]
        names[letter] = {"zh_Hans": zh, "en": _CN_NAMES_EN[letter]}
    pass_label = next(letter for letter, (lo, _hi) in ranges.items() if lo == entry["pass"])
    return _bands(ranges, points, pass_label, names=names)


def _vietnam() -> tuple[Decimal, tuple[Band, ...]]:
    entry = vectors()["VN"]
    ranges = entry["typical_10pt"]
    pass_label = next(k for k, (lo, _hi) in ranges.items() if _d(lo) == _d(entry["pass"]))
    return _bands(ranges, _points(entry), pass_label, factor=Decimal(10))


def _philippines() -> tuple[Decimal, tuple[Band, ...]]:
    entry = vectors()["PH"]
    ranges = entry["typical_percent"]  # 4.00 (conditional / incomplete) has no range
    pass_label = next(k for k in ranges if _d(k) == _d(entry["pass"]))
    return _bands(ranges, {k: k for k in ranges}, pass_label)


def _cambodia() -> tuple[Decimal, tuple[Band, ...]]:
    entry = vectors()["KH"]
    ranges = dict(entry["percent"])
    passing_floor = min(lo for lo, _hi in ranges.values())
    ranges["F"] = [0, passing_floor - 1]  # "below pass: D/E/F bands vary by institution"
    return _bands(ranges, {**_points(entry), "F": 0}, _pass_label(entry["pass"]))


def _scale_readers() -> dict[str, tuple[str, str, Any]]:
    return {
        "CN": ("CN-100", HIGHER_BETTER, _china),
        "TH": ("TH-4", HIGHER_BETTER, lambda: _letters("TH", "typical_percent")),
        "VN": ("VN-10", HIGHER_BETTER, _vietnam),
        "ID": ("ID-4", HIGHER_BETTER, lambda: _letters("ID", "example_percent_Trisakti")),
        "MY": ("MY-4", HIGHER_BETTER, lambda: _letters("MY", "example_percent_UM")),
        "PH": ("PH-5", LOWER_BETTER, _philippines),
        "KH": ("KH-4", HIGHER_BETTER, _cambodia),
        "LA": (
            "LA-4",
            HIGHER_BETTER,
            lambda: _bands(
                vectors()[_THAI_STYLE]["typical_percent"],
                _points(vectors()["LA"]),
                _pass_label(vectors()["LA"]["pass"]),
            ),
        ),
        "MM": ("MM-4", HIGHER_BETTER, lambda: _letters("MM", "percent")),
        "SG": (
            "SG-5",
            HIGHER_BETTER,
            lambda: _bands(
                _SG_PERCENT,
                _points(vectors()["SG"], "points_NUS"),
                _pass_label(vectors()["SG"]["pass"]),
            ),
        ),
        "BN": (
            "BN-4",
            HIGHER_BETTER,
            lambda: _bands(
                _BN_PERCENT, _points(vectors()["BN"]), _pass_label(vectors()["BN"]["pass"])
            ),
        ),
        "TL": (
            "TL-100",
            HIGHER_BETTER,
            lambda: _bands(_TL_PERCENT, _TL_POINTS, _pass_label(vectors()["TL"]["pass"])),
        ),
    }


_SUPPLIED = {
    "KH": "A failing band F (0-49 %, 0 points) added: the file leaves bands below C open.",
    "LA": "Percent ranges not in the source; the Thai ranges (same letters, 50 % pass) used.",
    "SG": "Percent ranges not in the source (NUS grades are not fixed to marks); assumed.",
    "BN": "Percent ranges not in the source; assumed with D at 40 %.",
    "TL": "Percent ranges and grade points not in the source; assumed (pass at 55 %).",
}

SCALE_NAMES: dict[str, dict[str, str]] = {
    "CN": {"en": "China: 100-point marks, five levels", "zh_Hans": "中国：百分制（五级制）"},
    "TH": {"en": "Thailand: A–F on 4.0", "zh_Hans": "泰国：A–F 四分制",
           "th": "ไทย: เกรด A–F (4.0)"},
    "VN": {
        "en": "Viet Nam: 10-point marks, letter grades on 4.0",
        "zh_Hans": "越南：十分制（字母等级，四分制绩点）",
        "vi": "Việt Nam: thang điểm 10, điểm chữ, thang 4",
    },
    "ID": {"en": "Indonesia: A–E on 4.0", "zh_Hans": "印度尼西亚：A–E 四分制",
           "id": "Indonesia: A–E skala 4,0"},
    "MY": {"en": "Malaysia: A–F on 4.0", "zh_Hans": "马来西亚：A–F 四分制",
           "ms": "Malaysia: A–F skala 4.0"},
    "PH": {
        "en": "Philippines: 1.00–5.00 (1.00 is best)",
        "zh_Hans": "菲律宾：1.00–5.00（1.00 为最好）",
        "fil": "Pilipinas: 1.00–5.00 (1.00 ang pinakamataas)",
    },
    "KH": {"en": "Cambodia: A–F on 4.0", "zh_Hans": "柬埔寨：A–F 四分制"},
    "LA": {"en": "Laos: A–F on 4.0", "zh_Hans": "老挝：A–F 四分制"},
    "MM": {"en": "Myanmar: A–F on 4.0", "zh_Hans": "缅甸：A–F 四分制"},
    "SG": {"en": "Singapore: A+–F on 5.0 (CAP)", "zh_Hans": "新加坡：A+–F 五分制（CAP）"},
    "BN": {"en": "Brunei: A–F on 4.0", "zh_Hans": "文莱：A–F 四分制",
           "ms": "Brunei: A–F skala 4.0"},
    "TL": {
        "en": "Timor-Leste: qualitative grades on 0–100",
        "zh_Hans": "东帝汶：0–100 等级制",
        "pt": "Timor-Leste: classificação qualitativa de 0 a 100",
    },
}  # fmt: skip

_COUNTRY = {
    "CN": ("China", "中国"), "TH": ("Thailand", "泰国"), "VN": ("Viet Nam", "越南"),
    "ID": ("Indonesia", "印度尼西亚"), "MY": ("Malaysia", "马来西亚"),
    "PH": ("Philippines", "菲律宾"), "KH": ("Cambodia", "柬埔寨"), "LA": ("Laos", "老挝"),
    "MM": ("Myanmar", "缅甸"), "SG": ("Singapore", "新加坡"), "BN": ("Brunei", "文莱"),
    "TL": ("Timor-Leste", "东帝汶"),
}  # fmt: skip


def national_scales() -> list[ScaleSpec]:
    """One default grade scale per country, best band first."""
    out = []
    for country, (code, direction, read) in _scale_readers().items():
        entry = vectors()[country]
        pass_mark, bands = read()
        notes = f"{entry['scale']}. Confidence: {entry['confidence']}."
        if country in _SUPPLIED:
            notes += " " + _SUPPLIED[country]
        out.append(
            ScaleSpec(code, country, SCALE_NAMES[country], direction, pass_mark, bands, notes)
        )
    return out


# Hours per credit the file gives (read from its text) and those it does not (supplied,
# indicative: the kind of hour differs, contact hours for most, notional learning hours for
# Indonesia and Malaysia).
_HOURS_SUPPLIED = {
    "TH": ("15", "1 credit = 15 lecture hours a semester (university regulations)."),
    "VN": ("15", "1 tín chỉ = 15 theory periods (Circular 08/2021 also counts 50 h of study)."),
    "MY": ("40", "1 credit = 40 hours of student learning time (MQA)."),
    "PH": ("18", "1 unit = 18 lecture hours a semester (CHED)."),
    "KH": ("15", "1 credit = 15 lecture hours (common public practice)."),
    "MM": ("15", "1 credit = 15 lecture hours (credit system since 2018-19)."),
    "SG": ("32.5", "1 Unit ≈ 32.5 hours of workload (NUS: 4 Units = 130 h)."),
    "BN": ("15", "1 credit = 15 lecture hours (assumed)."),
    "TL": ("15", "1 credit = 15 lecture hours (assumed)."),
}


def _hours_from_file(country: str) -> tuple[Decimal, str]:
    text = vectors()[country]["credit"]
    patterns = {"CN": r"(\d+)-\d+ 学时", "ID": r"~ (\d+) h", "LA": r">=(\d+) weeks"}
    found = re.search(patterns[country], text)
    if not found:
        raise ValueError(f"cannot read hours per credit for {country}: {text!r}")
    return Decimal(found.group(1)), f"From the source: {text}."


def national_systems() -> list[SystemSpec]:
    """One default credit system per country, rounding half-up to half credits."""
    out = []
    for country in COUNTRIES:
        if country in _HOURS_SUPPLIED:
            hours, note = _HOURS_SUPPLIED[country]
            hours, note = Decimal(hours), f"Not in the source; indicative: {note}"
        else:
            hours, note = _hours_from_file(country)
        en, zh = _COUNTRY[country]
        out.append(
            SystemSpec(
                code=f"{country}-CREDIT",
                country=country,
                names={"en": f"{en}: national credit", "zh_Hans": f"{zh}学分"},
                rule=CreditRule(hours, ROUNDING_STEP, "half_up"),
                notes=note,
            )
        )
    return out
