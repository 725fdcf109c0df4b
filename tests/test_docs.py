"""The README's configuration table lists exactly the settings the code reads."""

import re
from pathlib import Path

from lms.core.config import DEFAULTS

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def test_configuration_table_matches_the_code():
    documented = set(re.findall(r"^\| `LMS_([A-Z0-9_]+)` \|", README, flags=re.M))
    assert documented == set(DEFAULTS)


def test_quick_start_has_the_two_commands():
    quick = README.split("## Quick start", 1)[1].split("##", 1)[0]
    commands = re.findall(r"^make \w+", quick, flags=re.M)
    assert commands == ["make demo", "make test"]
