"""The README's two set-up commands are what CI runs."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def setup_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Set up", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.*?)\n```", section, flags=re.S)


def test_readme_has_exactly_two_setup_commands_build_and_test():
    build, test = setup_commands()
    assert build.endswith("jupyter-book build .") and "requirements.txt" in build
    assert test.endswith("python -m pytest") and "requirements-test.txt" in test


def test_ci_runs_the_readme_test_command_verbatim():
    extract = subprocess.run(
        [
            "awk",
            "/<!-- ci:test-command/{f=1; next} f && /^```bash/{g=1; next} g && /^```/{exit} g",
            "README.md",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    assert extract.stdout.strip() == setup_commands()[1]
    ci = (ROOT / ".ci" / "run").read_text()
    assert 'eval "$test_cmd"' in ci and '"$rc" -eq 5' in ci
