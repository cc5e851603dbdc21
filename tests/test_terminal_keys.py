"""`clusterbot chat` in a pseudo-terminal: Ctrl-C and Ctrl-D at any moment end with a line of
their own and a one-line goodbye, never a traceback; /quit is listed in /help."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pexpect

from tests.test_chat_process import ROOT, Terminal


def ended(term: Terminal) -> str:
    term.child.expect(pexpect.EOF)
    rest = term.child.before
    term.child.close()
    return rest


def test_ctrl_d_at_the_prompt_says_goodbye_on_its_own_line(tmp_path):
    term = Terminal(tmp_path / "c.db")
    term.say("/new 甲集群")
    term.child.sendeof()
    rest = ended(term)
    assert rest.lstrip("^D").startswith("\r\n") and "再见！答案均已保存" in rest and "Traceback" not in rest
    assert term.child.exitstatus == 0


def test_ctrl_c_in_the_middle_of_a_question_says_goodbye(tmp_path):
    term = Terminal(tmp_path / "c.db")
    term.say("/new 甲集群")
    term.say("江苏")
    term.child.send("12")       # half an answer typed
    term.child.sendintr()
    rest = ended(term)
    assert "\r\n再见！答案均已保存" in rest and "Traceback" not in rest and "KeyboardInterrupt" not in rest
    assert term.child.exitstatus == 0


def test_ctrl_c_is_heard_when_the_chat_was_started_with_it_ignored(tmp_path):
    # As a non-interactive shell starts a job in the background (`… &`): SIGINT ignored, and
    # Python would leave it so.
    term = Terminal(tmp_path / "c.db", preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    term.say("/new 甲集群")
    term.child.sendintr()
    rest = ended(term)
    assert "\r\n再见！答案均已保存" in rest and "Traceback" not in rest
    assert term.child.exitstatus == 0


def test_ctrl_c_at_start_up_never_shows_a_traceback(tmp_path):
    term = Terminal.__new__(Terminal)
    # -X importtime reports each module loaded: Ctrl-C is sent once the subcommands are loading
    term.child = pexpect.spawn(sys.executable, ["-X", "importtime", "-m", "bot.cli", "chat", "--db",
                                                str(tmp_path / "c.db")],
                               cwd=str(ROOT), encoding="utf-8", timeout=30,
                               env=dict(os.environ, CLUSTERBOT_FAKE_NOW="2026-11-23T10:00:00", LANG="zh_CN.UTF-8"))
    term.child.expect_exact("bot.commands")
    term.child.sendintr()
    rest = ended(term)
    assert "Traceback" not in rest and "KeyboardInterrupt" not in rest
    assert "已中断。再见！" in rest or "再见！答案均已保存" in rest


def test_ctrl_c_as_the_subcommands_list_is_loaded_is_a_goodbye(tmp_path):
    """The moment of the test above that only a loaded machine hit (the Ctrl-C handled just
    after `bot.commands` was loaded, once in two suite runs), made exact: KeyboardInterrupt
    raised as that first import of main's ends."""
    script = textwrap.dedent("""
        import builtins, runpy, sys
        load = builtins.__import__
        def interrupted(name, *args, **kw):
            module = load(name, *args, **kw)
            if name == "bot.commands":
                builtins.__import__ = load
                raise KeyboardInterrupt
            return module
        builtins.__import__ = interrupted
        sys.argv = ["clusterbot", "chat", "--db", sys.argv[1]]
        runpy.run_module("bot.cli", run_name="__main__", alter_sys=True)
    """)
    run = subprocess.run([sys.executable, "-c", script, str(tmp_path / "c.db")], cwd=ROOT, capture_output=True,
                         text=True, env=dict(os.environ, LANG="zh_CN.UTF-8"), timeout=60)
    assert "Traceback" not in run.stderr and "已中断。再见！" in run.stderr, run.stderr
    assert run.returncode == 130


def test_quit_is_in_the_help(tmp_path):
    term = Terminal(tmp_path / "c.db")
    assert "/quit" in term.say("/help")
    term.child.sendline("/quit")
    rest = ended(term)
    assert "再见" in rest and term.child.exitstatus == 0


def test_export_writes_to_the_downloads_folder_and_says_where(tmp_path):
    home = tmp_path / "home"
    (home / "Downloads").mkdir(parents=True)
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    child = pexpect.spawn(sys.executable, ["-m", "bot.cli", "chat", "--db", str(tmp_path / "c.db")],
                          cwd=str(elsewhere), encoding="utf-8", timeout=30, dimensions=(50, 400),
                          env=dict(os.environ, HOME=str(home), XDG_DOWNLOAD_DIR=str(home / "Downloads"),
                                   XDG_DATA_HOME=str(home / "data"), PYTHONPATH=str(ROOT),
                                   CLUSTERBOT_FAKE_NOW="2026-11-23T10:00:00"))
    child.expect_exact("\r\n> ")
    for line in ("/new 甲集群", "江苏", "/export"):
        child.sendline(line)
        child.expect_exact("\r\n> ")
    written = sorted(p.name for p in (home / "Downloads").iterdir())
    assert written == ["甲集群-预审报告.md", "甲集群.json"] and not list(elsewhere.iterdir())
    assert f"已写入文件：{home / 'Downloads' / '甲集群.json'}" in child.before
    child.sendline("/quit")
    child.expect(pexpect.EOF)
