"""The command line speaks the user's language: errors and --help's frame in Chinese when
--lang or the locale says zh, English otherwise; dates and plurals through Babel."""

from __future__ import annotations

import datetime as dt

import pytest

from dialogs.tracking import days_phrase
from locales import fmt_date
from tests.conftest import run_cli


def clusterbot(*argv, lang_env: str = "C.UTF-8"):
    return run_cli(*argv, env={"LC_ALL": None, "LC_MESSAGES": None, "LANG": lang_env})


@pytest.mark.parametrize("argv,lang_env,expected", [
    (("deadlines", "-j", "hainan", "--certified-on", "2024-06-01", "--lang", "en"), "C.UTF-8",
     "clusterbot deadlines: error: argument --jurisdiction/-j: unknown jurisdiction hainan"),
    (("deadlines", "-j", "hainan", "--certified-on", "2024-06-01", "--lang", "zh"), "C.UTF-8",
     "clusterbot deadlines：错误：参数 --jurisdiction/-j：未知的办法 hainan；应为认定该集群的办法：national、一个省"),
    (("deadlines", "-j", "national", "--certified-on", "2024-13-01"), "zh_CN.UTF-8",
     "参数 --certified-on：“2024-13-01”不是日期；应为 YYYY-MM-DD"),
    (("deadlines", "-j", "national", "--certified-on", "2024-06-01", "--alarms", "400"), "zh_CN.UTF-8",
     "参数 --alarms：没有看懂提前天数“400”：应为 0 到 365 的整数"),
    (("evaluate",), "zh_CN.UTF-8", "缺少必需的参数：FILE"),
])
def test_errors_in_the_users_language(argv, lang_env, expected):
    run = clusterbot(*argv, lang_env=lang_env)
    assert run.returncode == 2 and expected in run.stderr and run.stderr.count("\n") >= 1
    assert "Traceback" not in run.stderr


def test_help_frame_in_chinese():
    run = clusterbot("--help", lang_env="zh_CN.UTF-8")
    assert run.returncode == 0 and run.stdout.startswith("用法：clusterbot") and "显示本帮助并退出" in run.stdout
    assert clusterbot("--help").stdout.startswith("usage: clusterbot")


def test_dates_and_plurals_through_babel():
    day = dt.date(2024, 6, 1)
    assert fmt_date(day, "zh") == "2024年6月1日" and fmt_date(day, "en") == "2024-06-01"
    today = dt.date(2025, 1, 1)
    assert days_phrase("en", dt.date(2025, 1, 2), today) == "1 day left"
    assert days_phrase("en", dt.date(2025, 1, 3), today) == "2 days left"
    assert days_phrase("zh", dt.date(2025, 1, 2), today) == "还有 1 天"


def test_the_chinese_date_is_cldrs_long_date():
    import babel.dates

    from locales import BABEL_LOCALES, DATE_FORMATS

    assert DATE_FORMATS["zh"] == babel.dates.get_date_format("long", locale=BABEL_LOCALES["zh"]).pattern


def test_subcommand_help_in_chinese_and_english():
    zh = clusterbot("deadlines", "--help", lang_env="zh_CN.UTF-8").stdout
    assert zh.startswith("用法：clusterbot deadlines") and "集群名称：写入日历名称" in zh and "显示本帮助并退出" in zh
    en = clusterbot("deadlines", "--help", "--lang", "en").stdout
    assert "the cluster's name: in the calendar's name" in en and "用法" not in en
    assert "运行 Telegram 机器人" in clusterbot("--help", lang_env="zh_CN.UTF-8").stdout


def test_large_numbers_are_written_as_each_language_writes_them():
    """Babel (CLDR), not hand-written branches: 45亿 and 1000万 in Chinese, 4,500,000,000 in English."""
    from locales import fmt_large

    assert [fmt_large(n, "zh") for n in (4500, 100000, 10_000_000, 4_500_000_000)] == ["4500", "10万", "1000万", "45亿"]
    assert fmt_large(4_500_000_000, "en") == "4,500,000,000" and fmt_large(12.5, "zh") == "12.50"


def test_english_needs_no_catalog_and_follows_chinese_in_one_process(capsys):
    """The command line's English is argparse's own and the help texts' as written (no catalog
    is loaded for it): the English catalog's entries are their own keys, and English after
    Chinese in one process is English again."""
    from bot.cli import main
    from locales import messages

    english = {key: text for key, text in messages("en").items() if key.startswith(("argparse.", "help_text."))}
    assert english and all(key.split(".", 1)[1] == text for key, text in english.items())
    for lang, expected in (("zh", "错误：参数 --jurisdiction/-j"), ("en", "error: argument --jurisdiction/-j")):
        with pytest.raises(SystemExit):
            main(["deadlines", "-j", "hainan", "--certified-on", "2024-06-01", "--lang", lang])
        assert expected in capsys.readouterr().err


@pytest.mark.parametrize("content,chinese,english", [
    ('{"name": "x",\n "iip_rate": }', ":2: JSON 格式有误：此处缺少值（第 14 列）",
     ":2: malformed JSON: Expecting value (column 14)"),
    ("[1, 2]", ": 数组第 0 项（从 0 起数）是 number，不是 JSON 对象", ": item 0 is number, not a JSON object"),
    ('[{"name": "甲"}, null]', ": 数组第 1 项（从 0 起数）是 null，不是 JSON 对象", ": item 1 is null, not a JSON object"),
    ('{"name": "甲"}\n[1]\n', ":2: 应为 JSON 对象，而不是 array", ":2: a JSON object was expected, not array"),
    ("   \n", ": 输入为空", ": empty input"),
    ("name,iip_rate\n甲,25\n乙,30,7\n", ":3: 这一行有 3 个单元格，表头却有 2 列", ":3: 3 cells but the header names 2 columns"),
    ('name,iip_rate\n甲,25\n"乙,30\n', ":3: 引号未闭合：从这一行开始的带引号单元格没有结束",
     ":3: unterminated quote: the quoted cell opened on this line never closes"),
    (None, ": 没有这个文件", ": no such file"),
    ("dir", ": 是目录，不是文件", ": is a directory, not a file"),
])
def test_unreadable_input_is_said_in_the_runs_language(tmp_path, content, chinese, english):
    """evaluate speaks --lang (Chinese by default, whatever the locale), its input errors too:
    still one line beginning with the file and line."""
    path = tmp_path / "bad.txt"
    if content == "dir":
        path.mkdir()
    elif content is not None:
        path.write_text(content, encoding="utf-8")
    for argv, expected in ((), chinese), (("--lang", "en"), english):
        run = clusterbot("evaluate", str(path), "-j", "national", *argv)
        assert run.returncode == 2 and "Traceback" not in run.stderr
        (message,) = run.stderr.strip().splitlines()
        assert message == f"clusterbot evaluate: {path}{expected}"


@pytest.mark.parametrize("argv,chinese,english", [
    (("--until", "2024-01-01"), "clusterbot deadlines：错误：参数 --until：2024-01-01 早于 --from 2024-06-01",
     "clusterbot deadlines: error: argument --until: 2024-01-01 is before --from 2024-06-01"),
    (("--certified-on", "2999-01-01"), "clusterbot deadlines：错误：参数 --certified-on：认定日期2999年1月1日晚于今天",
     "clusterbot deadlines: error: argument --certified-on: The certification date 2999-01-01 is after today"),
])
def test_deadlines_errors_after_the_arguments_are_read_speak_lang(argv, chinese, english):
    """Found once the arguments are read, an error is said in --lang (the calendar's language),
    frame and all, as argparse's own errors are."""
    base = ["deadlines", "-j", "national", "--certified-on", "2024-06-01"]
    for lang, expected in (("zh", chinese), ("en", english)):
        run = clusterbot(*base, *argv, "--lang", lang)
        assert run.returncode == 2 and run.stderr.startswith(expected) and run.stderr.count("\n") == 1


@pytest.mark.parametrize("locale", ["C.UTF-8", "en_US.UTF-8", "zh_CN.UTF-8"])
def test_deadlines_says_every_error_in_the_language_it_prints_in(capsys, monkeypatch, locale):
    """A refused argument and an error found once the arguments are read are said alike: in
    --lang, Chinese without it whatever the locale, as the calendar itself (the first two were
    English under a C locale, beside a Chinese --until error). In process: the locale is read
    from the environment at each call."""
    from bot.cli import main

    for name in ("LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", locale)
    base = ["deadlines", "-j", "national", "--certified-on"]
    cases = [(["2022-02-30"], "clusterbot deadlines：错误：参数 --certified-on：“2022-02-30”不是日期",
              "clusterbot deadlines: error: argument --certified-on: '2022-02-30' is not a date"),
             (["2024-06-01", "--alarms", "400"], "clusterbot deadlines：错误：参数 --alarms：没有看懂提前天数“400”",
              "clusterbot deadlines: error: argument --alarms: I could not read the days “400”"),
             (["2024-06-01", "--until", "2024-01-01"], "clusterbot deadlines：错误：参数 --until：2024-01-01 早于 --from",
              "clusterbot deadlines: error: argument --until: 2024-01-01 is before --from")]
    for argv, chinese, english in cases:
        for lang, expected in ((), chinese), (("--lang", "en"), english):
            try:
                code = main(base + argv + list(lang))
            except SystemExit as exit_:
                code = exit_.code
            err = capsys.readouterr().err
            assert code == 2 and err.startswith(expected) and err.count("\n") == 1, err


def test_every_help_text_of_a_command_that_speaks_lang_has_its_chinese():
    """A help text is looked up by its English: one reworded without its entry in
    cli_help.yaml falls back to English in a Chinese --help (form check's once did)."""
    import argparse

    from bot.cli import build_parser
    from bot.commands import SPEAK_LANG
    from locales import messages

    words = {key.removeprefix("help_text.") for key in messages("zh") if key.startswith("help_text.")}
    missing = []

    def walk(parser, path):
        missing.extend((path, text) for text in (parser.description, parser.epilog) if text and text not in words)
        for action in parser._actions:
            if action.help and action.help != argparse.SUPPRESS and "-h" not in action.option_strings \
                    and action.help not in words:
                missing.append((path, action.help))
            if isinstance(action, argparse._SubParsersAction):
                missing.extend((path, c.help) for c in action._choices_actions if c.help not in words)
                for name, sub in action.choices.items():
                    walk(sub, f"{path} {name}")

    for command in sorted(SPEAK_LANG):
        parser = build_parser("en", [command])
        walk(next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices[command], command)
    assert missing == []
    zh = clusterbot("form", "check", "--help").stdout
    assert "检查已填写的申报表。退出状态" in zh and "Check filled forms" not in zh


@pytest.mark.parametrize("text", ['{"a": }', '{"a" 1}', '{"a": 1 "b": 2}', '{"a": "x', '{a: 1}', '{"a": "\\q"}',
                                  '{"a": "\\u12"}', '{"a": "x\ny"}', "[1] x"])
def test_every_message_of_jsons_own_is_said_in_chinese(text):
    """What json says of malformed JSON (json.JSONDecodeError.msg) is in the catalogues: a
    Chinese error is Chinese throughout, an English one json's words."""
    import json

    from locales import messages

    with pytest.raises(json.JSONDecodeError) as caught:
        json.loads(text)
    key = f"parser_error.{caught.value.msg}"
    assert messages("en")[key] == caught.value.msg and messages("zh")[key] != caught.value.msg
