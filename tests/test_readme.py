"""The README tells the truth: its two set-up commands come first, and its example output is
what the command prints."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_opens_with_the_two_set_up_commands():
    first_block = re.match(r"```sh\n(.*?)```", README, re.S).group(1).strip().splitlines()
    assert len(first_block) == 2
    assert first_block[0].endswith("clusterbot chat")
    assert first_block[1].endswith("-m pytest")
    ci = (ROOT / ".ci" / "run").read_text()
    assert first_block[1] in ci


def test_the_evaluate_example_is_real():
    block = re.search(r"\$ clusterbot evaluate (examples/\S+) -f table --on (\S+)\n(.*?)```", README, re.S)
    path, on, shown = block.group(1), block.group(2), block.group(3)
    run = subprocess.run([sys.executable, "-m", "bot.cli", "evaluate", path, "-f", "table", "--on", on],
                         cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert run.stdout.strip() == shown.strip()
