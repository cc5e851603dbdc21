"""The product's processes forked from the zygote (tests/warm_start.py) behave as processes
started cold: the same output, errors and exit status, signals and a terminal."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pexpect
import pytest

from tests import warm_start

ROOT = Path(__file__).parents[1]
CLI = [sys.executable, "-m", "bot.cli"]

pytestmark = pytest.mark.skipif(subprocess.Popen is not warm_start.WarmPopen, reason="the suite runs cold")


def both(argv: list[str], stdin: bytes = b"") -> tuple[subprocess.Popen, tuple, tuple]:
    """The command forked warm and started cold: each one's (exit status, stdout, stderr)."""
    runs = []
    for popen in (subprocess.Popen, warm_start._ColdPopen):
        with popen(argv, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
            out, err = proc.communicate(stdin, timeout=60)
        runs.append((proc, (proc.returncode, out, err)))
    (warm, warm_result), (_, cold_result) = runs
    return warm, warm_result, cold_result


@pytest.mark.parametrize("args, stdin", [
    (["evaluate", "examples/示例集群.json", "-f", "json", "--on", "2026-01-15"], b""),
    (["evaluate", "-", "-j", "national", "--on", "2026-01-15"], '{"name": "甲", "area_km2": 80}\r\n'.encode()),
    (["evaluate", "no-such-file.json"], b""),
    (["deadlines", "--certified-on", "yesterday-ish"], b""),
    (["rules", "--help"], b""),
])
def test_a_forked_command_is_the_cold_one(args, stdin):
    warm, warm_result, cold_result = both(CLI + args, stdin)
    assert warm._warm is not None  # forked, not started cold
    assert warm_result == cold_result
    assert warm_result[1] or warm_result[2]  # it said something


def test_a_forked_process_is_killed_and_waited_for_by_its_pid(tmp_path):
    db = tmp_path / "c.db"
    proc = subprocess.Popen(CLI + ["chat", "--db", str(db), "--user", "a"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc._warm is not None and proc.poll() is None
    proc.stdout.readline()  # it has started: the greeting
    proc.send_signal(signal.SIGKILL)
    assert proc.wait(30) == -signal.SIGKILL
    proc.stdout.close(), proc.stderr.close(), proc.stdin.close()


def test_a_forked_terminal_chat_on_a_pty(tmp_path):
    """The terminal chat forked on a pseudo-terminal greets as the cold one, and quits cleanly."""
    greetings = []
    for name, options in (("warm", []), ("cold", ["-X", "warn_default_encoding=0"])):  # an option: started cold
        argv = [*options, "-m", "bot.cli", "chat", "--db", str(tmp_path / f"{name}.db"), "--user", "a"]
        child = pexpect.spawn(sys.executable, argv, cwd=str(ROOT), encoding="utf-8", timeout=60)
        assert (getattr(child.ptyproc, "_warm", None) is not None) == (name == "warm")
        child.expect("> ")
        greetings.append(child.before)
        child.sendline("/quit")
        child.expect(pexpect.EOF)
        child.close()
        assert child.exitstatus == 0 and child.signalstatus is None
    assert greetings[0] == greetings[1] and "/new" in greetings[0]
