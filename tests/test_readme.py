"""The README's client examples run as written (against the embedded simulators)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
EXAMPLES = [
    block
    for block in re.findall(r"```python\n(.*?)```", README, re.DOTALL)
    if "brokerwire.adapters.simulators import" in block and "Client" in block
]


def test_the_readme_has_client_examples() -> None:
    assert len(EXAMPLES) >= 2


@pytest.mark.parametrize("example", EXAMPLES, ids=[f"example-{i}" for i in range(len(EXAMPLES))])
def test_readme_example_runs(example: str) -> None:
    result = subprocess.run(  # noqa: S603 - our own interpreter and our own README
        [sys.executable, "-c", example], capture_output=True, text=True, timeout=30, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()
