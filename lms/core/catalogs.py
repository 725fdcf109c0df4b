"""Checks and upkeep of the UI catalogues in ``translations/`` (used by tests and ``make i18n``).

``python -m lms.core.catalogs check`` lists every untranslated, fuzzy or placeholder-mismatched
entry; ``python -m lms.core.catalogs fill-source`` writes the English catalogue, whose
translations are the source strings themselves."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[2] / "translations"
SOURCE_LOCALE = "en"
_PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|%[sd]|\{\w*\}")
_FORMAT = re.compile(r"%\(\w+\)[sd]|%[sd]|%%")


def placeholders(text: str) -> list[str]:
    """The named or positional placeholders of a message, sorted."""
    return sorted(m.group(0) for m in _PLACEHOLDER.finditer(text))


def _load(path: Path) -> Catalog:
    with path.open("rb") as fh:
        return read_po(fh)


def catalogue_paths(root: Path = ROOT) -> dict[str, Path]:
    return {p.parent.parent.name: p for p in sorted(root.glob("*/LC_MESSAGES/messages.po"))}


def problems(locale: str, root: Path = ROOT) -> list[str]:
    """Everything wrong with one locale's catalogue, one line each."""
    out: list[str] = []
    catalog = _load(catalogue_paths(root)[locale])
    template = _load(root / "messages.pot")
    ids = {m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id}
    for m in template:
        if m.id:
            key = m.id if isinstance(m.id, str) else m.id[0]
            if key not in ids:
                out.append(f"{locale}: missing entry {key!r} (run make i18n)")
    for m in catalog:
        if not m.id:
            continue
        key = m.id if isinstance(m.id, str) else m.id[0]
        if m.fuzzy:
            out.append(f"{locale}: fuzzy {key!r}")
        strings = list(m.string) if isinstance(m.string, tuple | list) else [m.string]
        if not all(s and s.strip() for s in strings):
            out.append(f"{locale}: untranslated {key!r}")
            continue
        if any("%" in _FORMAT.sub("", text) for text in strings):
            # templates always %-format translations: a bare % breaks the page
            out.append(f"{locale}: a bare % in {key!r} (write ％ or a word)")
        if isinstance(m.id, tuple | list):
            # plural: no form may invent a placeholder; the last form ("other") and the
            # only form of one-form languages must keep every placeholder of the plural
            allowed = set(placeholders(m.id[0])) | set(placeholders(m.id[1]))
            for s in strings:
                if not set(placeholders(s)) <= allowed:
                    out.append(f"{locale}: unknown placeholder in {key!r}: {s!r}")
            if set(placeholders(strings[-1])) != set(placeholders(m.id[1])):
                out.append(f"{locale}: placeholders differ in {key!r}: {strings[-1]!r}")
        elif set(placeholders(strings[0])) != set(placeholders(m.id)):
            out.append(f"{locale}: placeholders differ in {key!r}: {strings[0]!r}")
        if isinstance(m.id, tuple | list) and len(strings) != catalog.num_plurals:
            out.append(f"{locale}: {key!r} needs {catalog.num_plurals} plural forms")
    return out


def fill_source(root: Path = ROOT) -> None:
    """The English catalogue translates each message to itself."""
    path = catalogue_paths(root)[SOURCE_LOCALE]
    catalog = _load(path)
    for m in catalog:
        if m.id:
            m.string = (m.id[0], m.id[1]) if isinstance(m.id, tuple | list) else m.id
            m.flags.discard("fuzzy")
    with path.open("wb") as fh:
        write_po(fh, catalog, width=100, sort_output=True)


def main(argv: list[str]) -> int:
    if argv[1:] == ["fill-source"]:
        fill_source()
        return 0
    if argv[1:] == ["check"]:
        found = [p for loc in catalogue_paths() for p in problems(loc)]
        print("\n".join(found) or "all catalogues complete")
        return 1 if found else 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
