"""An English-speaking user going through a pre-screening, typing as an English speaker would."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import eligible_facts

from tests.test_dialog import Chat, conversation  # noqa: F401  (the fixture)


def english_chat(conversation) -> Chat:  # noqa: F811
    chat = Chat(conversation)
    chat.say("/lang en")
    chat.say("/new Oak Park")
    chat.say("national")
    return chat


@pytest.mark.parametrize("typed", ["skip", "Skip", "don't know", "Don’t know.", "not sure", "I don't know"])
def test_english_words_for_skip_skip_as_skip_does(conversation, typed):  # noqa: F811
    chat = english_chat(conversation)
    assert chat.current_fact() == "county_level"
    text = chat.say(typed)
    assert "Skipped: The cluster lies within one county-level division" in text
    assert chat.current_fact() != "county_level"


def test_a_name_beginning_with_skip_is_a_name(conversation):  # noqa: F811
    chat = Chat(conversation)
    chat.say("/lang en")
    chat.say("/new")
    chat.say("Skip Valley Park")
    assert "Skip Valley Park" in chat.say("/list")


@pytest.mark.parametrize("typed", ["31 December 2023", "Dec 31 2023", "December 31, 2023", "31st Dec. 2023"])
def test_track_reads_a_date_with_its_month_in_english_words(conversation, typed):  # noqa: F811
    chat = Chat(conversation)
    chat.say("/lang en")
    text = chat.say(f"/track Oak Park national {typed}")
    assert "certified 2023-12-31" in text


def test_a_numeric_day_first_date_is_refused_naming_the_forms_read(conversation):  # noqa: F811
    chat = Chat(conversation)
    chat.say("/lang en")
    chat.say("/track Oak Park")
    chat.say("national")
    text = chat.say("31/12/2023")
    assert "could not read the date “31/12/2023”" in text and "1 June 2024" in text and "年" not in text
    assert "certified 2023-12-31" in chat.say("31 Dec 2023")


@pytest.mark.parametrize("typed", ["RMB 4.5 billion, 4.8 billion, 5.2 billion", "¥4.5bn, ¥4.8bn, ¥5.2bn",
                                   "CNY 4.5bn, 4.8bn and 5.2bn", "人民币45亿、48亿、52亿"])
def test_a_currency_written_before_the_figures_is_read(typed):
    from dialogs.parse import parse_answer
    from engine.facts import load_catalogue
    assert parse_answer(load_catalogue()["total_output"], typed, 2025).value == {"2023": 45.0, "2024": 48.0, "2025": 52.0}


def test_a_currency_sign_is_no_unit_of_a_count_nor_read_in_a_cell_of_another_fact():
    from dialogs.parse import ParseError, parse_answer, read_figure
    from engine.facts import load_catalogue
    cat = load_catalogue()
    with pytest.raises(ParseError):
        parse_answer(cat["little_giant_count"], "¥5", 2025)
    assert read_figure(cat["total_output"], "RMB 4.5 billion") == 45.0


def test_one_answer_kept_after_a_change_of_measures_is_singular(conversation):  # noqa: F811
    chat = english_chat(conversation)
    chat.say("yes")
    chat.say("/measures")
    text = chat.say("jiangsu")
    assert "1 answer kept;" in text and "1 answers" not in text


def test_one_pending_question_is_singular(conversation):  # noqa: F811
    chat = english_chat(conversation)
    chat.say("/skip")
    text = chat.say("/pending")
    assert "the pending one follows" in text and "1 pending ones" not in text


def test_a_batch_table_counts_one_unknown_criterion_in_the_singular():
    facts = {"name": "Oak Park", **eligible_facts()}
    del facts["brand_recognition"]  # national 认定标准一 alone lacks it
    run = subprocess.run([sys.executable, "-m", "bot.cli", "evaluate", "-", "-j", "national", "-f", "table",
                          "--lang", "en", "--on", "2026-11-23"], input=json.dumps(facts), capture_output=True,
                         text=True, cwd=Path(__file__).parents[1], timeout=60)
    assert "National (MIIT) unknown: 1 criterion lacks figures" in run.stdout, run.stdout + run.stderr


def test_the_counts_a_per_10000_figure_is_computed_from_carry_thousands_separators_in_english():
    from tests.conftest import run_cli
    facts = {"name": "Oak Park", **eligible_facts(), "invention_patents": 1200, "sme_employees": 50000}
    facts.pop("patents_per_10k", None)
    run = run_cli("evaluate", "-", "-j", "national", "-f", "json", "--lang", "en", "--on", "2026-11-23",
                  stdin=json.dumps(facts))
    text = run.stdout
    assert "the cluster's SMEs 1,200 and People employed by the cluster's SMEs 50,000," in text, text
    zh = run_cli("evaluate", "-", "-j", "national", "-f", "json", "--on", "2026-11-23", stdin=json.dumps(facts))
    assert "1200" in zh.stdout and "50000" in zh.stdout  # 申报表 writes Chinese figures without separators


@pytest.mark.parametrize("jurisdiction", ["national", "jiangsu", "guangdong", "shaanxi"])
def test_each_standing_duty_and_ground_for_revocation_is_said_in_english_beside_its_quotation(jurisdiction):
    """A reader of no Chinese is told what each duty is, not only given the article in Chinese."""
    from tests.conftest import run_cli
    run = run_cli("deadlines", "--lang", "en", "-j", jurisdiction, "--certified-on", "2024-06-01")
    duties = [line for line in run.stdout.splitlines() if line.startswith("· [")]
    assert len(duties) == 3, run.stdout
    assert "a false application" in duties[0] and "a major change" in duties[1] and "accident" in duties[2], duties
    assert all(line.split("“")[0].rstrip(" —:").split(": ", 1)[1].isascii() for line in duties), duties
    ask = run_cli("ask", "--lang", "en", f"grounds for revocation {jurisdiction}").stdout
    grounds = [line for line in ask.splitlines() if line.startswith("  第")]
    assert len(grounds) == 5 and "re-review" in grounds[0] and "annual" in grounds[2], ask
    zh = run_cli("deadlines", "-j", jurisdiction, "--certified-on", "2024-06-01").stdout
    assert "false" not in zh  # the Chinese reader has the article itself


@pytest.mark.parametrize("locale, english", [("en_US.UTF-8", True), ("en_GB.UTF-8", True), ("zh_CN.UTF-8", False),
                                             ("C.UTF-8", False)])
def test_the_terminal_chat_greets_a_new_user_in_an_english_locales_language(tmp_path, locale, english):
    """README: `chat` speaks the locale's language; an English locale is one way to choose English
    (the others /lang and --lang), a locale of no language (C) keeps the default, Chinese."""
    import os
    env = {k: v for k, v in os.environ.items() if k not in ("LC_ALL", "LC_MESSAGES")}
    done = subprocess.run([sys.executable, "-m", "bot.cli", "chat", "--db", str(tmp_path / "c.db"), "--user", "ann"],
                          input="/new Oak Park\n", capture_output=True, text=True, timeout=60,
                          cwd=Path(__file__).parents[1], env=dict(env, LANG=locale))
    assert done.returncode == 0, done.stderr
    assert ("Which measures should “Oak Park” be checked against?" in done.stdout) == english, done.stdout


def test_the_facts_a_form_check_still_needs_are_listed_apart_though_their_labels_hold_commas(tmp_path):
    """“…contributes substantially to local output, jobs and the like, Standing in its market
    segment, A sound chain layout, strong supporting capacity…”: labels that hold commas (、 in
    Chinese) were joined with commas, so no reader could tell where one ended."""
    from bench.standins.form_helpers import passing, write_xlsx
    from tests.conftest import run_cli
    form = write_xlsx(tmp_path / "form.xlsx", passing())
    en = run_cli("form", "check", str(form), "--on", "2024-06-01", "--lang", "en").stdout
    needs = next(line for line in en.splitlines() if line.startswith("Jiangsu still needs"))
    assert "local output, jobs and the like; Standing in its market segment; " in needs, needs
    zh = run_cli("form", "check", str(form), "--on", "2024-06-01").stdout
    assert "主导产业对当地经济、就业等具有较大贡献；发展水平在细分领域的位次；" in zh, zh


def test_a_batch_tables_failed_criterion_is_named_in_english_beside_its_quotation():
    """The table's line under a cluster named the failed criterion by its article alone, in
    Chinese (fail: 认定标准（2022年版）一 近三年产值均在40亿元以上): an English reader could not tell
    what failed."""
    from tests.conftest import run_cli
    facts = {"name": "Oak Park", **eligible_facts(), "total_output": {"2023": 45, "2024": 48, "2025": 38.5}}
    run = run_cli("evaluate", "-", "-j", "national", "-f", "table", "--lang", "en", "--on", "2026-11-23",
                  stdin=json.dumps(facts))
    assert ("National (MIIT) fail: 认定标准（2022年版）一 Total output, each of the last three years: "
            "“近三年产值均在40亿元以上”") in run.stdout, run.stdout
    zh = run_cli("evaluate", "-", "-j", "national", "-f", "table", "--on", "2026-11-23", stdin=json.dumps(facts))
    assert "国家（工信部） 不符合：认定标准（2022年版）一 近三年产值均在40亿元以上" in zh.stdout, zh.stdout


def test_tracked_clusters_are_listed_with_english_quotation_marks(conversation):  # noqa: F811
    """/remind alone and /pause among two clusters listed them as #1「Oak Park」：…, Chinese
    brackets and colon in an English reply."""
    chat = Chat(conversation)
    chat.say("/lang en")
    chat.say("/track Oak Park national 1 June 2024")
    text = chat.say("/remind")
    assert "#1 “Oak Park”: reminders 30, 7, 1 days before" in text and "「" not in text, text
    chat.say("/track Elm Vale national 1 June 2024")
    text = chat.say("/pause")
    assert "#1 “Oak Park”" in text and "#2 “Elm Vale”" in text and "「" not in text, text
    chat.say("/lang zh")
    assert "#1「Oak Park」：" in chat.say("/remind")


def test_a_single_reminder_day_of_one_is_said_in_the_singular(conversation):  # noqa: F811
    chat = Chat(conversation)
    chat.say("/lang en")
    chat.say("/track Oak Park national 1 June 2024")
    assert "reminders 1 day before, at 09:00" in chat.say("/remind 1 9:00")
    assert "reminders 7, 1 days before" in chat.say("/remind 7,1")
    assert "reminders 0 days before" in chat.say("/remind 0")


@pytest.mark.parametrize("fact, typed, value", [("accident_level", "None.", "none"), ("accident_level", "General.", "general"),
                                               ("cyber_incident_level", "No incidents.", "none"),
                                               ("segment_rank", "National.", "national"),
                                               ("segment_rank", "Provincial!", "provincial")])
def test_an_option_typed_as_a_sentence_with_its_full_stop_is_read(fact, typed, value):
    """Yes. and No. were read, 一般。 too, but None. or National. were “could not read”."""
    from dialogs.parse import parse_answer
    from engine.facts import load_catalogue
    assert parse_answer(load_catalogue()[fact], typed, 2025).value == value


@pytest.mark.parametrize("fact, typed, value", [("sme_employees", "50,000 employees", 50000),
                                               ("sme_employees", "about 50000 workers", 50000),
                                               ("sme_employees", "50,000 staff", 50000),
                                               ("invention_patents", "900 invention patents", 900),
                                               ("srdi_sme_count", "12 SMEs", 12)])
def test_a_count_with_the_english_noun_its_question_uses_is_read(fact, typed, value):
    """How many people do the SMEs employ? 50,000 employees was refused as a unit not the row's;
    only “people” and “persons” were read."""
    from dialogs.parse import parse_answer
    from engine.facts import load_catalogue
    assert parse_answer(load_catalogue()[fact], typed, 2025).value == value


@pytest.mark.parametrize("fact, typed, value", [
    ("total_output", "45 in 2023, 48 in 2024 and 52 in 2025", {"2023": 45.0, "2024": 48.0, "2025": 52.0}),
    ("total_output", "4.5 billion in 2023, 4.8 billion in 2024, 5.2 billion in 2025", {"2023": 45.0, "2024": 48.0, "2025": 52.0}),
    ("sme_output_share", "85% in 2023, 85% in 2024 and 86% in 2025", {"2023": 85.0, "2024": 85.0, "2025": 86.0})])
def test_figures_written_before_their_years_as_english_writes_them_are_read(fact, typed, value):
    """45 in 2023, 48 in 2024 and 52 in 2025: the English order of a report's sentence (the
    Chinese one, 2023年为45亿元, was read) was refused as no series."""
    from dialogs.parse import parse_answer
    from engine.facts import load_catalogue
    assert parse_answer(load_catalogue()[fact], typed, 2025).value == value


def test_edit_by_an_english_name_of_several_words_then_the_answer(conversation):  # noqa: F811
    """/edit total output 45, 48, 52: the name was taken to be its first word alone (total,
    which two answered questions hold) and the rest, output 45, …, as the answer."""
    from tests.test_dialog import answer_until
    chat = english_chat(conversation)
    answer_until(chat, "leading_output_share")  # total output and the SMEs' share of it answered
    text = chat.say("/edit total output 45 in 2023, 48 in 2024 and 52 in 2025")
    assert "Saved: Total output of the cluster = 2023: 45.00" in text, text
    text = chat.say("/edit area of the cluster 90 km2")
    assert "Saved: Area of the cluster = 90.00 km²" in text, text
    text = chat.say("/edit cluster yes")  # a word several names hold, none first, with an answer: not guessed
    assert "names hold “cluster”" in text and "Saved" not in text, text


def test_the_two_counts_a_figure_far_too_large_is_computed_from_are_named_as_two(tmp_path):
    """computed from “A”, “B”, “C” is 1,800,000.00 patents: the two counts and the figure
    computed read as a list of three."""
    from tests.conftest import run_cli
    facts = {"name": "Oak", **eligible_facts(), "sme_employees": 5}
    facts.pop("patents_per_10k", None)
    run = run_cli("evaluate", "-", "-j", "national", "-f", "json", "--lang", "en", "--on", "2026-11-23",
                  stdin=json.dumps(facts))
    assert ("computed from “Valid invention patents held by the cluster's SMEs” and “People employed by the "
            "cluster's SMEs”, “Valid invention patents per 10,000 employees” is") in run.stderr, run.stderr


def test_the_english_help_gives_its_answer_examples_in_english_units_and_each_is_read(conversation):  # noqa: F811
    from dialogs.parse import parse_answer
    from engine.facts import load_catalogue
    chat = english_chat(conversation)
    help_text = chat.say("/help")
    answers = next(line for line in help_text.splitlines() if line.startswith("Answers:"))
    assert "4.5 billion yuan" in answers and "4.5, 4.8, 5.2 billion yuan" in answers, answers
    assert "亿" not in answers.split("Chinese units")[0], answers  # English first; the Chinese ones said to work too
    cat = load_catalogue()
    assert parse_answer(cat["total_output"], "4.5, 4.8, 5.2 billion yuan", 2025).value == {
        "2023": 45.0, "2024": 48.0, "2025": 52.0}
    assert parse_answer(cat["area_km2"], "90 km2", 2025).value == 90.0


@pytest.mark.parametrize("typed", ["Correct", "Absolutely.", "Of course", "Certainly!", "Indeed"])
def test_an_english_word_of_agreement_is_a_yes(typed):
    """Is the cluster's brand well known? — Of course: was “could not read”."""
    from dialogs.parse import parse_answer, yes_or_no
    from engine.facts import load_catalogue
    assert yes_or_no(typed) is True
    assert parse_answer(load_catalogue()["brand_recognition"], typed, 2025).value is True
