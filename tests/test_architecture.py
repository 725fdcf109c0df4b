"""Domains depend downwards only (DESIGN §2): import-linter checks the contract in setup.cfg."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_layers_contract_holds():
    exe = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    result = subprocess.run([exe, "setup.cfg"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_core_imports_no_domain():
    for path in (ROOT / "lms" / "core").glob("*.py"):
        source = path.read_text()
        for domain in (
            "accounts",
            "catalog",
            "media",
            "enrolment",
            "live",
            "assessment",
            "credits",
            "transcripts",
            "analytics",
            "api",
        ):
            assert f"from lms.{domain}" not in source and f"import lms.{domain}" not in source, (
                f"{path.name} imports lms.{domain}"
            )
