"""`clusterbot chat` as a real process in a pseudo-terminal: whole conversations, the
commands, and a kill -9 in the middle that loses nothing acknowledged."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import re
import signal
import subprocess
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import pexpect
import pytest

from tests.chat_helpers import asked_fact, chat_answer
from tests.conftest import eligible_facts

ROOT = Path(__file__).parents[1]
PROMPT = "\r\n> "


class Terminal:
    def __init__(self, db: Path, user: str = "alice", fake_now: str = "2026-11-23T10:00:00", preexec_fn=None):
        env = dict(os.environ, CLUSTERBOT_FAKE_NOW=fake_now, PYTHONUNBUFFERED="1")
        self.child = pexpect.spawn(sys.executable, ["-m", "bot.cli", "chat", "--db", str(db), "--user", user,
                                                    "--export-dir", str(db.parent)],
                                   cwd=str(ROOT), env=env, encoding="utf-8", timeout=30, dimensions=(50, 400),
                                   preexec_fn=preexec_fn)
        self.child.expect_exact(PROMPT)
        self.last = self.child.before

    def say(self, text: str) -> str:
        self.child.sendline(text)
        self.child.expect_exact(PROMPT)
        # what the program printed after echoing our line
        self.last = self.child.before.split(text, 1)[-1]
        return self.last

    def answer_all(self, facts: dict, until: str | None = None, limit: int = 80) -> list[str]:
        asked = []
        for _ in range(limit):
            if "年份对吗" in self.last:
                self.say("是")
                continue
            fact = asked_fact(self.last)
            if fact is None or fact == until:
                return asked
            asked.append(fact)
            self.say(chat_answer(fact, facts[fact]))
        raise AssertionError(asked)

    def close(self):
        if self.child.isalive():
            self.child.sendline("/quit")
            self.child.expect(pexpect.EOF)


def test_a_whole_conversation_to_eligible(tmp_path):
    term = Terminal(tmp_path / "c.db")
    assert "您好" in term.last
    term.say("/new 示例县机械集群")
    term.say("全部")
    asked = term.answer_all(eligible_facts())
    assert "全部问题已答完" in term.last and term.last.count("】符合条件") == 4
    assert len(asked) >= 45
    term.close()


def test_not_eligible_with_the_article_quoted_and_the_commands(tmp_path):
    term = Terminal(tmp_path / "c.db")
    term.say("/new 乙集群")
    term.say("1,2")  # national and Jiangsu
    facts = dict(eligible_facts(), rd_growth=10.0)
    term.answer_all(facts, until="rd_growth")
    text = term.say("/why")
    assert "“近三年中小企业研发经费年均增长高于10%”" in text
    assert "“近三年，集群中小企业研发经费年均增长不低于10%”" in text
    text = term.say("10%")
    assert "✗ 国家（工信部） 认定标准（2022年版）四 不符合" in text and "“高于”不含本数" in text
    assert "✗ 江苏" not in text  # 不低于10% includes 10: Jiangsu passes
    text = term.say("/status")
    assert "已答" in text and "国家（工信部）：不符合条件" in text
    text = term.say("/compare")
    assert "研发经费年均增长：国家（工信部） ✗ 不符合｜江苏 ✓ 符合" in text
    current = asked_fact(text)
    text = term.say("/back")
    assert asked_fact(text) == "rd_growth" and "当前答案：10.00%" in text
    term.say("10%")
    assert asked_fact(term.last) == current
    text = term.say("/skip")
    assert "已跳过" in text and asked_fact(text) != current
    term.say("/edit")
    text = term.say("1")
    assert "修改此题" in text
    term.say("否")
    assert "修改后结论变化" in term.last or "结论未变" in term.last
    term.answer_all(facts)
    assert "国家（工信部）（工信部企业〔2022〕119号）】不符合条件" in term.last
    assert "原文：“近三年中小企业研发经费年均增长高于10%”" in term.last
    term.close()


def test_the_typed_menus_do_what_they_show(tmp_path):
    """The measures as the terminal numbers them, the province asked beside a question, /edit N
    with its answer, a figure pasted with a zero-width space: each typed as shown."""
    term = Terminal(tmp_path / "c.db")
    term.say("/new 乙集群")
    assert "1. 国家（工信部）   2. 江苏   3. 广东   4. 陕西   5. 全部四个" in term.last
    text = term.say("全部四个")
    assert "按国家（工信部）、江苏、广东、陕西预审" in text and "「乙集群」位于哪个省" in text
    text = term.say("江苏")                            # the province, not question 1's answer
    assert "已记下：集群位于江苏" in text and "没有看懂" not in text and asked_fact(text) == "county_level"
    term.answer_all(eligible_facts(), until="area_km2")
    number = re.search(r"第 (\d+)/\d+ 题", term.last).group(1)
    term.say("80\u200b")                               # pasted: the invisible character is no unit
    assert "已保存：集群占地面积 = 80.00平方公里" in term.last
    text = term.say("/measures")
    assert "2. ✓ 江苏" in text and "6. 确定（已选 4 个）" in text
    text = term.say("2")                               # unticks Jiangsu, the others stay ticked
    assert "1. ✓ 国家（工信部）   2. 江苏   3. ✓ 广东   4. ✓ 陕西" in text and "6. 确定（已选 3 个）" in text
    assert "按国家（工信部）、广东、陕西预审" in term.say("确定")
    text = term.say(f"/edit {number} 90平方公里")
    assert "已保存：集群占地面积 = 90.00平方公里" in text
    term.close()


def _answers_in_db(db: Path) -> dict:
    with sqlite3.connect(db) as con:
        rows = con.execute("select fact, value_json from answers order by id").fetchall()
    return {fact: json.loads(value) for fact, value in rows if value is not None}


def test_kill_9_mid_conversation_resumes_with_every_acknowledged_answer(tmp_path):
    db = tmp_path / "c.db"
    term = Terminal(db)
    term.say("/new 丙集群")
    term.say("江苏")
    facts = eligible_facts()
    acknowledged = {}
    for _ in range(12):
        fact = asked_fact(term.last)
        text = term.say(chat_answer(fact, facts[fact]))
        if "年份对吗" in text:
            text = term.say("是")
        assert "已保存" in text
        acknowledged[fact] = facts[fact]
    waiting_for = asked_fact(term.last)
    # the next answer is typed and the process killed at once, before or after it is handled
    term.child.sendline(chat_answer(waiting_for, facts[waiting_for]))
    term.child.kill(signal.SIGKILL)
    term.child.wait()
    stored = _answers_in_db(db)
    for fact, value in acknowledged.items():
        assert stored[fact] == value, fact
    resumed = Terminal(db)
    assert "欢迎回来" in resumed.last and "丙集群" in resumed.last
    expected_next = asked_fact(resumed.last)
    assert expected_next == (waiting_for if waiting_for not in stored else expected_next)
    assert expected_next not in acknowledged
    resumed.answer_all(facts)
    assert "】符合条件" in resumed.last
    resumed.close()


def test_bad_bytes_and_garbage_never_kill_the_process(tmp_path):
    term = Terminal(tmp_path / "c.db")
    term.say("/new 丁集群")
    term.say("陕西")
    for junk in ["", "\x1b[A", "?" * 3000, "/nosuchcommand", "2023:abc", "😀", "/switch 99", "/edit", "/export"]:
        if junk:
            term.say(junk)
    term.child.send(b"\xff\xfe\n".decode("latin-1"))
    term.child.expect_exact(PROMPT)
    assert term.child.isalive()
    assert asked_fact(term.say("/start")) == "county_level"
    term.close()


def test_a_serving_command_freezes_what_it_loaded_and_only_in_its_own_process(tmp_path):
    """`clusterbot chat` puts its dialog and engine out of the garbage collector's sight before
    it serves (bot/commands/common.serving); called inside another program it leaves that
    program's heap alone."""
    import subprocess

    probe = (
        "import gc, sys\n"
        "import bot.commands.chat as chat\n"
        "def run_chat(conversation, **_):\n"
        "    print('frozen' if not any(o is conversation for o in gc.get_objects()) else 'tracked', gc.isenabled())\n"
        "    return 0\n"
        "chat.run_chat = run_chat\n"
        "from bot.cli import main\n"
        f"sys.argv = ['clusterbot', 'chat', '--db', {str(tmp_path / 'a.db')!r}]\n"
        "main()\n"
        f"main(['chat', '--db', {str(tmp_path / 'b.db')!r}])\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.stdout.split("\n")[:2] == ["frozen True", "tracked True"], out.stderr


def test_a_second_terminal_of_one_user_is_not_opened_and_a_reminder_is_printed_once(tmp_path):
    """Two `chat` processes of one user on one database, started together when a reminder is
    due: the one that holds the user's chat (its sender name, bot.delivery.worker_name) opens
    and prints the reminder; the other says the chat is open elsewhere and ends (exit 2).
    With one name they took each other's leases and both printed it; with two, one's
    replies could wait behind the other's and be printed there."""
    db = tmp_path / "two.db"
    first = Terminal(db, fake_now="2025-03-01T08:00:00")
    first.say("/track 双开集群 国家 2024-06-01")
    first.close()
    due = "2025-03-31T09:00:05"  # 30 days before the annual report of 2025-04-30
    env = dict(os.environ, CLUSTERBOT_FAKE_NOW=due, PYTHONUNBUFFERED="1")
    children = [pexpect.spawn(sys.executable, ["-m", "bot.cli", "chat", "--db", str(db), "--user", "alice",
                                               "--export-dir", str(tmp_path)],
                              cwd=str(ROOT), env=env, encoding="utf-8", timeout=30, dimensions=(50, 400))
                for _ in range(2)]
    printed = [io.StringIO() for _ in children]
    for child, out in zip(children, printed):
        child.logfile_read = out
    try:
        opened = [child.expect_exact([PROMPT, pexpect.EOF]) == 0 for child in children]
        assert sorted(opened) == [False, True], [out.getvalue() for out in printed]
        (refused,) = [child for child, open_ in zip(children, opened) if not open_]
        refused.wait()
        assert refused.exitstatus == 2 and "已在另一个终端中打开" in printed[opened.index(False)].getvalue()
        with sqlite3.connect(db) as con:
            for _ in range(100):  # until the reminder's reply is sent (the sweep runs at start)
                rows = con.execute("select o.sent_at, o.attempts from outbox o where o.payload like '%期限提醒%'").fetchall()
                if rows and all(sent for sent, _ in rows):
                    break
                time.sleep(0.1)  # polling the database, bounded
        assert len(rows) == 1 and rows[0][1] == 1, rows
        (kept,) = [child for child, open_ in zip(children, opened) if open_]
        kept.sendline("/quit")
        kept.expect(pexpect.EOF)
        assert sum(out.getvalue().count("期限提醒") for out in printed) == 1
    finally:
        for child in children:
            if child.isalive():
                child.kill(signal.SIGKILL)
    # once the first has ended, the user's chat opens again
    again = Terminal(db, fake_now=due)
    assert "期限提醒" not in again.last
    again.close()



def test_a_filled_form_is_sent_from_the_terminal_by_its_path(tmp_path):
    """/form writes the form and says how to send it back; a line naming the filled file (as
    typed, or as a terminal drops it in: quoted, spaces escaped, a file:// URL) is the file sent, checked as
    on every channel; a path that cannot be read is said, and the question stays."""
    from bench.standins.form_helpers import passing, write_xlsx

    term = Terminal(tmp_path / "f.db")
    term.say("/new 示例县机械集群")
    term.say("江苏")
    assert "填好后，在此输入（或拖入）文件的路径" in term.say("/form")
    folder = tmp_path / "填好的 表"
    folder.mkdir()
    filled = write_xlsx(folder / "申报表 已填.xlsx", {**passing(), "total_output": [45.0, 48.2, 38.5]})
    for line in (f"'{filled}'", str(filled).replace(" ", "\\ "), filled.as_uri()):  # file:///…/%E7%94%B3…
        text = term.say(line)
        assert "第六条（二）" in text and "近三年，集群总产值每年均在40亿元以上" in text, text
        assert "不是当前集群“示例县机械集群”：未使用当前集群的回答" in text  # the form names another cluster
    text = term.say(str(tmp_path / "没有这个.xlsx"))
    assert "找不到或无法读取文件" in text and "没有这个.xlsx" in text
    assert asked_fact(term.say("/skip")) is not None  # the dialog goes on
    assert "找不到" not in term.say("/new 乙.xlsx")  # a command, not a file
    # a line that starts as a home would is an answer, or a file not found: never a crash
    assert "找不到或无法读取文件" in term.say("~no-such-user-x/申报表.xlsx")
    assert term.child.isalive() and "没有看懂" in term.say("~95")
    term.close()


def test_a_form_with_a_stray_cell_far_out_is_refused_at_once_in_the_chat(tmp_path):
    """The file whose one value at XFD1048576 made the reading pad 17 billion cells: typed as
    a path in the chat, it is refused in a moment, within a memory limit, and the chat goes on."""
    import resource
    from tests.test_form import stray_cell

    limit = 2000 << 20
    term = Terminal(tmp_path / "f.db", preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_AS, (limit, limit)))
    term.say("/new 示例县机械集群")
    term.say("江苏")
    path = stray_cell(tmp_path / "far.xlsx", "XFD1048576")
    started = time.monotonic()
    text = term.say(str(path))
    assert time.monotonic() - started < 20
    assert "无法检查文件「far.xlsx」：工作表「二、主导产业情况」的内容延伸到单元格 XFD1048576，远超申报表的大小" in text
    assert term.child.isalive() and asked_fact(term.say("/skip")) is not None
    term.close()


def test_a_pdf_or_an_old_excel_file_sent_by_its_path_is_said_as_what_it_is(tmp_path):
    """A PDF, an .xls or a CSV typed (or dropped) as a path: said as the file it is, as the
    other channels say it, not "unknown command /tmp/…pdf"; the question stays."""
    term = Terminal(tmp_path / "f.db")
    term.say("/new 示例县机械集群")
    term.say("江苏")
    pdf, xls, csv = tmp_path / "申报表.pdf", tmp_path / "申报表 旧.xls", tmp_path / "申报表.csv"
    pdf.write_bytes(b"%PDF-1.4\n%%EOF\n")
    xls.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(1024))
    csv.write_text("集群名称,集群总产值\n甲,45\n", encoding="utf-8")
    assert "这是 PDF 文件，不是 Excel（.xlsx）或 Word（.docx）文件" in term.say(str(pdf))
    assert "这是旧版 Excel 或 Word 文件（.xls 或 .doc）：请另存为 .xlsx 或 .docx" in term.say(f"'{xls}'")
    assert "这是纯文本文件（如 CSV）" in term.say(csv.as_uri())
    text = term.say(str(tmp_path / "没有这个.pdf"))
    assert "找不到或无法读取文件" in text and "没有这个.pdf" in text
    assert "找不到" not in term.say("/new 乙.pdf")  # a command, not a file
    assert term.child.isalive()
    term.close()


@pytest.mark.parametrize("line", ["~95", "~ 95", "~45亿", "about 95", "~no-such-user-x/a.xlsx", "a\x00b.xlsx",
                                  "~/没有这个/表.xlsx", "'~no-such-user-x/表.docx'", "file:///%00.xlsx",
                                  "file://[::1/a.xlsx", "file://[x]/a.xlsx", "file://[x]/95"])
def test_no_line_the_terminal_reads_as_a_file_raises(line):
    """Every line goes through `sent_file` before the dialog: an answer is None, a form file
    that cannot be read a message; nothing raises (a ~95 once ended the chat: no home for
    the user 95)."""
    from bot.terminal import sent_file

    found = sent_file(line, "terminal", "u")
    assert found is None if not line.strip("'").endswith((".xlsx", ".docx")) else found == "terminal.no_file"


def test_a_path_to_what_is_no_regular_file_is_said_never_read(tmp_path):
    """A folder, a device that never ends (/dev/zero) or a pipe that waits for a writer, named
    like a form: said as a file that cannot be read, at once."""
    from bot.terminal import sent_file
    from dialogs.form_files import FormFileError, read_path

    (tmp_path / "dir.xlsx").mkdir()
    (tmp_path / "zero.xlsx").symlink_to("/dev/zero")
    os.mkfifo(tmp_path / "pipe.xlsx")
    for name, code in (("dir.xlsx", "is_directory"), ("zero.xlsx", "unreadable"), ("pipe.xlsx", "unreadable")):
        assert sent_file(str(tmp_path / name), "terminal", "u") == "terminal.no_file"
        with pytest.raises(FormFileError) as refused:
            read_path(str(tmp_path / name))
        assert refused.value.code == code


def test_a_closed_standard_input_is_an_empty_one():
    """`chat <&-` says hello and goodbye; `evaluate - <&-` says the input is empty (exit 2)."""
    def closed_stdin(*argv):
        return subprocess.run([sys.executable, "-m", "bot.cli", *argv], cwd=ROOT, capture_output=True, text=True,
                              timeout=60, stdin=None, preexec_fn=lambda: os.close(0))

    chat = closed_stdin("chat", "--db", str(Path(tempfile.mkdtemp()) / "c.db"), "--user", "z")
    assert chat.returncode == 0 and "再见" in chat.stdout and "Traceback" not in chat.stderr
    evaluate = closed_stdin("evaluate", "-")
    assert evaluate.returncode == 2 and "输入为空" in evaluate.stderr and "Traceback" not in evaluate.stderr


@pytest.mark.parametrize("typed", ["退出。", "／quit", "/QUIT！", "/ quit"])
def test_quit_typed_as_a_chinese_keyboard_types_it_ends_the_chat(tmp_path, typed):
    """The terminal's /quit is read as every command is (it was an answer, or 未知命令 /quit)."""
    from bot.clock import ManualClock
    from bot.terminal import run_chat
    from dialogs.conversation import Conversation
    from storage.db import make_engine

    out = io.StringIO()
    conversation = Conversation(make_engine(str(tmp_path / "c.db")), ManualClock(dt.datetime(2026, 11, 23, 10)))
    run_chat(conversation, user="z", stdin=io.StringIO(f"{typed}\n/new 甲集群\n"), stdout=out, export_dir=tmp_path)
    assert "再见" in out.getvalue() and "甲集群" not in out.getvalue() and "未知命令" not in out.getvalue()


def test_a_line_without_an_end_is_never_held_whole(monkeypatch):
    """Input from /dev/zero: the chat keeps a line's first TYPED_LINE characters and ends the
    input past SKIPPED_LINE; `evaluate` refuses a line past MAX_LINE bytes (limits made small)."""
    import bot.inputs as inputs
    import bot.terminal as terminal
    from bot.inputs import InputError, read_clusters

    monkeypatch.setattr(terminal, "TYPED_LINE", 10)
    monkeypatch.setattr(terminal, "SKIPPED_LINE", 100)
    assert terminal._read_line(io.StringIO("a" * 50 + "\nnext\n")) == "a" * 10
    assert terminal._read_line(io.StringIO("\0" * 1000)) == ""
    monkeypatch.setattr(inputs, "MAX_LINE", 100)
    with pytest.raises(InputError) as refused:
        list(read_clusters(["-"], stdin=io.TextIOWrapper(io.BufferedReader(io.BytesIO(b"\0" * 1000)))))
    assert refused.value.code == "line_too_long"


def test_an_output_that_cannot_be_written_is_said_not_a_crash():
    """`evaluate >&-` writes to nowhere (exit 0); `evaluate >/dev/full` says the output could
    not be written (exit 1). Both were `internal error`, exit 70."""
    argv = [sys.executable, "-m", "bot.cli", "evaluate", "examples/示例集群.json"]
    closed = subprocess.run(argv, cwd=ROOT, stderr=subprocess.PIPE, text=True, timeout=60, preexec_fn=lambda: os.close(1))
    assert closed.returncode == 0 and "error" not in closed.stderr
    with open("/dev/full", "w") as full:
        run = subprocess.run(argv + ["--lang", "zh"], cwd=ROOT, stdout=full, stderr=subprocess.PIPE, text=True, timeout=60)
    assert run.returncode == 1 and "无法写出结果" in run.stderr and "Traceback" not in run.stderr


def test_a_file_that_cannot_be_read_is_named_without_the_escapes_typed(tmp_path):
    """The terminal names a form path it cannot read: never with the escape codes typed in it
    (in process: the loop of lines, with a turn that takes nothing)."""
    import io

    from bot.terminal import TerminalChannel, _loop

    out = io.StringIO()
    channel = TerminalChannel(out, tmp_path, lambda user: "zh", interactive=False)
    turns = []
    _loop("u", io.StringIO("\x1b[31m/没有/表\x07.xlsx\n"), out, channel, turns.append)
    assert "/没有/表.xlsx" in out.getvalue() and "\x1b" not in out.getvalue() and "\x07" not in out.getvalue()
    assert turns == []


def _mount_namespaces() -> bool:
    import shutil

    return os.geteuid() == 0 and bool(shutil.which("unshare")) and subprocess.run(["unshare", "-m", "true"]).returncode == 0


@pytest.mark.skipif(not _mount_namespaces(), reason="a full disk is made by a tmpfs mounted in a mount namespace (root)")
def test_a_full_disk_says_the_message_was_not_saved_and_the_same_message_passes_once_freed(tmp_path):
    """The database on a disk that fills up mid-conversation: the answer that does not fit is
    said not saved, naming the full disk (was: an internal error and a traceback on screen),
    the process goes on, and the same answer typed again once space is freed is saved.
    Every answer said 已保存 is in the file."""
    folder = tmp_path / "disk"
    folder.mkdir()
    env = dict(os.environ, CLUSTERBOT_FAKE_NOW="2026-11-23T10:00:00", PYTHONUNBUFFERED="1")
    # a 400 KiB disk of this process's own, a quarter taken by a file the test removes later
    script = 'mount -t tmpfs -o size=400k tmpfs "$0" && head -c 150k /dev/zero > "$0/filler" && exec "$@"'
    child = pexpect.spawn("unshare", ["-m", "sh", "-c", script, str(folder), sys.executable, "-m", "bot.cli", "chat",
                                      "--db", str(folder / "c.db"), "--user", "alice"],
                          cwd=str(ROOT), env=env, encoding="utf-8", timeout=30, dimensions=(50, 400))
    term = Terminal.__new__(Terminal)
    term.child = child
    child.expect_exact(PROMPT)
    inside = Path(f"/proc/{child.pid}/root") / str(folder).lstrip("/")  # the child's view of its mount
    term.say("/new 满盘集群")
    term.say("江苏")
    facts, saved, refused = eligible_facts(), {}, None
    for _ in range(80):
        if "年份对吗" in term.last:
            term.say("是")
            continue
        fact = asked_fact(term.last)
        if fact is None:
            break
        text = term.say(chat_answer(fact, facts[fact]))
        if "磁盘已满" in text:
            assert "本条消息未保存" in text and "Traceback" not in text and child.isalive()
            assert refused is None, "full again after the filler was removed"
            refused = fact
            assert asked_fact(text) is None  # nothing else said: the question stays
            (inside / "filler").unlink()
            text = term.say(chat_answer(fact, facts[fact]))
        if "年份对吗" in text:
            text = term.say("是")
        assert "已保存" in text, text
        saved[fact] = facts[fact]
        if refused:
            break
    assert refused is not None, "the disk never filled"
    copy = tmp_path / "copy"  # read outside the child's mount (SQLite would resolve /proc/…/root to ours)
    copy.mkdir()
    for name in ("c.db", "c.db-wal"):
        (copy / name).write_bytes((inside / name).read_bytes())
    assert _answers_in_db(copy / "c.db") == saved
    term.close()
    child.close()
    assert child.exitstatus == 0


def test_a_line_of_bytes_that_are_no_utf8_is_said_unreadable_not_read_as_an_answer(tmp_path):
    """A terminal in GBK, or a binary file piped in: the line is said to be no UTF-8, naming the
    encoding expected, and nothing is saved from it (y followed by undecodable bytes was saved
    as a yes, 是 in GBK was only 没有看懂); the next line in UTF-8 is read."""
    db = tmp_path / "c.db"
    typed = "/new 编码集群\n国家\n".encode() + b"y \xff\xfe\n" + "是".encode("gbk") + b"\n" + "否\n".encode()
    env = {k: v for k, v in os.environ.items() if k not in ("LC_ALL", "LC_MESSAGES")}
    done = subprocess.run([sys.executable, "-m", "bot.cli", "chat", "--db", str(db), "--user", "alice"], input=typed,
                          capture_output=True, timeout=60, cwd=ROOT, env=dict(env, LANG="zh_CN.UTF-8"))
    out = done.stdout.decode()
    assert done.returncode == 0 and out.count("这一行含有不是 UTF-8 文字的字节") == 2, out
    assert "没有看懂" not in out and "已保存：集群定位在县级区划范围内 = 否" in out
    assert _answers_in_db(db) == {"county_level": False}


def test_an_export_that_cannot_be_written_is_said_and_later_replies_still_come(tmp_path):
    """/export and /form into a folder that cannot take the files (here a file stands where the
    folder should be; a full disk or a read-only one alike): each file is said not written,
    naming it and what is expected, and the chat goes on. The reply's write raised: it was
    retried for ever, and every later reply of the chat (/status, answers said 已保存) was held
    back behind it, in that run and the next."""
    db, blocked = tmp_path / "c.db", tmp_path / "not-a-folder"
    blocked.write_text("")
    env = {k: v for k, v in os.environ.items() if k not in ("LC_ALL", "LC_MESSAGES")}
    command = [sys.executable, "-m", "bot.cli", "chat", "--db", str(db), "--user", "alice", "--export-dir", str(blocked)]
    done = subprocess.run(command, input="/new 导出集群\n国家\n/export\n/form\n是\n/status\n", capture_output=True,
                          text=True, timeout=60, cwd=ROOT, env=dict(env, LANG="zh_CN.UTF-8"))
    out = done.stdout
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    for name in ("导出集群.json", "导出集群-预审报告.md", "导出集群-申报表.xlsx", "导出集群-申报表.docx"):
        assert f"未能写入文件 {blocked / name}（" in out and "应为本用户可写、有剩余空间的文件夹" in out, out
    assert "已写入文件" not in out and "填好后，在此输入" not in out  # no form to send back
    assert "已保存：集群定位在县级区划范围内 = 是" in out and "「导出集群」进度：已答 1/40 题" in out
    again = subprocess.run(command[:-2] + ["--export-dir", str(tmp_path)], input="/status\n", capture_output=True,
                           text=True, timeout=60, cwd=ROOT, env=dict(env, LANG="zh_CN.UTF-8"))
    assert "未能写入文件" not in again.stdout and "已答 1/40 题" in again.stdout  # nothing left over to retry
