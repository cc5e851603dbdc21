"""/form (填表) in the chat writes the form pre-filled with the answers, which `form check`
reads back with the same figures; a filled form sent as a file is answered with the report."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import pytest

from bot.clock import ManualClock
from dialogs.conversation import Conversation
from dialogs.form_files import read_bytes
from dialogs.forms import report_text
from dialogs.messages import Attachment
from engine.form import check_form
from storage.db import make_engine
from tests.conftest import eligible_facts
from bench.standins.form_helpers import NAME, passing, write_docx, write_xlsx
from tests.test_dialog import Chat, start

NOW = dt.datetime(2024, 6, 1, 10, 0)  # 近三年 is 2021-2023, the form's years


def in_form_years(facts: dict) -> dict:
    """The eligible cluster's figures moved from 2023-2025 to 2021-2023."""
    return {k: ({str(int(y) - 2): v for y, v in value.items()} if isinstance(value, dict) else value)
            for k, value in facts.items()}


@pytest.fixture
def chat(tmp_path):
    return Chat(Conversation(make_engine(f"sqlite:///{tmp_path / 'chat.db'}"), ManualClock(NOW)))


def test_form_is_prefilled_with_the_answers_and_reads_back_the_same(chat):
    facts = in_form_years(eligible_facts())
    start(chat, "江苏")
    asked = chat.answer_all(facts)
    text = chat.say("/form")
    reply = next(r for r in chat.last if r.documents)
    names = [name for name, _ in reply.documents]
    assert [n.rsplit(".", 1)[-1] for n in names] == ["xlsx", "docx"]
    assert "已按您的回答预填" in text and "尚待填写" in text and "「联系人」" in text
    # a three-year average answered in the chat cannot be split into the form's yearly rates
    assert "「集群中小企业近三年研发经费增速（%）」" in text
    prefilled = ["area_km2", "priority_chain", "total_output", "sme_output_share", "leading_output_share",
                 "leading_output_growth", "srdi_sme_count", "hitech_count", "patent_growth",
                 "invention_patents", "sme_employees", "iip_rate", "pilot_projects", "co2_intensity",
                 "high_energy_industry", "water_efficiency_ok", "innovation_incentive", "key_tech_tackling"]
    assert len(set(prefilled) & set(asked)) >= 15
    for name, content in reply.documents:
        report = check_form(read_bytes(content, name), NOW.date())
        assert report.name == "示例县机械集群"
        for fact in set(prefilled) & set(asked):
            assert report.facts.get(fact) == facts[fact], (name, fact)
        # what the answers cannot fill is reported as still to fill, never invented
        assert any(f.code == "required" and f.field == "联系人" for f in report.findings)


def test_form_without_a_cluster_says_what_to_do(chat):
    chat.say("/start")
    assert "/new" in chat.say("填表")


def test_a_filled_form_sent_as_a_file_is_answered_with_the_report(chat, tmp_path):
    start(chat, "江苏")
    asked_before = chat.current_fact()
    content = write_xlsx(tmp_path / "filled.xlsx", {**passing(), "total_output": [45.0, "见附件", 52.9]}).read_bytes()
    chat.last = chat.conversation.handle(chat.user, attachment=Attachment("申报表.xlsx", content))
    report, *rest = chat.last
    assert report.kind == "result"
    assert "二、主导产业情况「集群总产值（亿元）」2022年应填数字，填的是“见附件”。" in report.text
    assert report.documents[0][0] == "申报表.md"
    # the question being asked is asked again, and nothing about it changed
    assert rest and rest[-1].kind == "question" and chat.current_fact() == asked_before


def test_the_chat_answers_stand_in_for_what_the_form_does_not_ask(chat, tmp_path):
    start(chat, "江苏", name=NAME)  # the form's own cluster
    content = write_xlsx(tmp_path / "filled.xlsx", passing()).read_bytes()
    facts = in_form_years(eligible_facts())
    chat.answer_all({**facts, "accident_level": "larger"})
    chat.last = chat.conversation.handle(chat.user, attachment=Attachment("filled.xlsx", content))
    assert "集群及集群内企业近三年未发生较大及以上安全、质量和环境污染等事故" in chat.last[0].text
    assert "承诺与已知情况不符" in chat.last[0].text


@pytest.mark.parametrize("lang, colon", [("zh", "："), ("en", ": ")])
def test_each_measures_verdict_is_a_line_of_its_own_not_a_column(tmp_path, lang, colon):
    """A table's columns padded with spaces set a verdict under another measure's heading in a
    chat's proportional font (the web page, Telegram): the verdicts are lines, each named."""
    from locales import t

    report = check_form(read_bytes(write_xlsx(tmp_path / "filled.xlsx", passing()).read_bytes(), "filled.xlsx"),
                        NOW.date(), extra_facts={**in_form_years(eligible_facts()), "key_tech_breakthrough": False})
    assert len({ev.verdict for ev in report.evaluations}) > 1  # verdicts that differ: where a column misleads
    text = report_text(report, lang, "filled.xlsx")
    for i, ev in enumerate(report.evaluations):
        role = t(lang, "form.report.own_measure" if i == 0 else "form.report.comparison")
        assert f"\n  {ev.ruleset.short.get(lang)}{role}{colon}{t(lang, f'verdict.{ev.verdict}')}\n" in text, text
    assert not any(set(line) <= {"-", " "} and "--" in line for line in text.splitlines()), text


def test_a_form_for_another_cluster_is_checked_alone_and_said_so(chat, tmp_path):
    """In 「乙集群」 with a 较大 accident answered, the form of 示例市示例县精密机械产业 is checked
    on its own, as `form check` checks it: the 承诺函 is not held against 乙集群's accident."""
    start(chat, "江苏", name="乙集群")
    chat.answer_all({**in_form_years(eligible_facts()), "accident_level": "larger"})
    path = write_xlsx(tmp_path / "filled.xlsx", passing())
    chat.last = chat.conversation.handle(chat.user, attachment=Attachment("filled.xlsx", path.read_bytes()))
    text = chat.last[0].text
    assert text.startswith("这份申报表的集群名称是“示例市示例县精密机械产业”，不是当前集群“乙集群”：未使用当前集群的回答，只按申报表本身检查。")
    assert "承诺与已知情况不符" not in text and "申报表检查通过。" in text
    alone = report_text(check_form(read_bytes(path.read_bytes(), "filled.xlsx"), NOW.date()), "zh", "filled.xlsx")
    assert text.endswith(alone)


ANSWERS = {"accident_level": "larger", "cloud_or_identifier_rate": 30.0, "standards_count": 3,
           "total_output": {"2023": 45.0, "2024": 48.2, "2025": 52.9}}  # a later cluster's answers


@pytest.mark.parametrize("cluster, same", [
    ("乙集群", False), (NAME, True), (f" {NAME[:3]} {NAME[3:]}\u3000", True)])
def test_the_chat_answers_are_used_only_for_the_forms_own_cluster(tmp_path, cluster, same):
    """The answers (上云 30, standards 3, the years 2023-2025, a 较大 accident) are the form's
    cluster's only when the names agree, white space and full-width forms aside; else the form's
    own figures and years decide alone."""
    from dialogs.forms import check_attachment

    content = write_xlsx(tmp_path / "filled.xlsx", passing()).read_bytes()
    reply = check_attachment(Attachment("filled.xlsx", content), ANSWERS, dt.date(2026, 6, 1), "zh", cluster)
    mixed = ["承诺与已知情况不符", "已知为 3，表内各项合计 1", "年度栏为 2021、2022、2023 年，应为 2023、2024、2025 年"]
    assert all(m in reply.text for m in mixed) if same else not any(m in reply.text for m in mixed), reply.text
    assert ("不是当前集群" in reply.text) is not same


def test_names_compare_in_half_width(tmp_path):
    from dialogs.forms import check_attachment

    content = write_xlsx(tmp_path / "filled.xlsx", {**passing(), "cluster_name": ["示例县 ＡＢ１２ 机械集群"]}).read_bytes()
    reply = check_attachment(Attachment("filled.xlsx", content), ANSWERS, NOW.date(), "zh", "示例县AB12机械集群")
    assert "承诺与已知情况不符" in reply.text and "不是当前集群" not in reply.text


def test_a_form_naming_no_cluster_is_checked_alone_and_said_so(tmp_path):
    from dialogs.forms import check_attachment

    content = write_xlsx(tmp_path / "filled.xlsx", {**passing(), "cluster_name": [""]}).read_bytes()
    reply = check_attachment(Attachment("filled.xlsx", content), ANSWERS, NOW.date(), "en", "乙集群")
    assert reply.text.startswith("This form gives no cluster name, so it cannot be taken for the current cluster “乙集群”")
    assert "the promise contradicts what is known" not in reply.text and "“集群名称” is empty." in reply.text


@pytest.mark.parametrize("name,content,reason", [
    ("report.pdf", b"%PDF-1.4", "不是 Excel（.xlsx）或 Word（.docx）文件"),
    ("form.xlsm", b"PK\x03\x04", "含宏的文件"),
    ("form.xlsx", b"PK\x03\x04 broken", "文件已损坏"),
    # An empty file is said to be one, as `form check` says it: no channel hands on an empty
    # file for one over its limit (each says that itself), so "or too large" would mislead.
    ("empty.xlsx", b"", "文件是空的（0 字节）"),
])
def test_a_file_that_cannot_be_read_gets_a_clear_reply(chat, name, content, reason):
    start(chat, "江苏")
    replies = chat.conversation.handle(chat.user, attachment=Attachment(name, content))
    assert replies[0].kind == "error" and f"无法检查文件「{name}」" in replies[0].text and reason in replies[0].text


def test_a_form_sent_while_a_new_cluster_awaits_its_name_is_checked_and_the_name_asked_again(chat, tmp_path):
    # a form uploaded on the web page right after 新建预审 was said to be 不是当前集群“” (the
    # cluster being named has no name yet), and the name was not asked again
    from locales import t

    chat.say("/new")
    content = write_xlsx(tmp_path / "filled.xlsx", passing()).read_bytes()
    replies = chat.conversation.handle(chat.user, attachment=Attachment("filled.xlsx", content))
    assert replies[0].text.startswith(t("zh", "form.report.title", name=NAME)), replies[0].text
    assert "“”" not in replies[0].text and replies[-1].text == t("zh", "dialog.ask_name")
    assert chat.say("网页上传集群").startswith(t("zh", "dialog.named", name="网页上传集群"))


def test_an_english_speaker_gets_the_report_in_english(chat, tmp_path):
    start(chat, "江苏")
    chat.say("/lang en")
    content = write_xlsx(tmp_path / "filled.xlsx", passing()).read_bytes()
    replies = chat.conversation.handle(chat.user, attachment=Attachment("filled.xlsx", content))
    assert "The form passes the check." in replies[0].text


def test_the_forms_counts_are_singular_for_one_in_english():
    from dialogs.forms import form_documents

    text = form_documents("甲", {}, "en").text  # the name alone fills one field
    assert "1 field filled from your answers" in text and "91 fields are still to fill:" in text
    assert "2 fields filled" in form_documents("甲", {"area_km2": 80}, "en").text


def test_a_name_typed_as_a_formula_is_written_and_read_back_as_text(chat):
    """openpyxl stores a text starting with "=" as a formula Excel or WPS would run: the
    pre-filled form keeps what was typed as text, and the check reads the name as typed."""
    name = '=HYPERLINK("http://evil.example","点此核对")'
    start(chat, "江苏", name=name)
    chat.say("/form")
    reply = next(r for r in chat.last if r.documents)
    xlsx = next(content for file, content in reply.documents if file.endswith(".xlsx"))
    with zipfile.ZipFile(io.BytesIO(xlsx)) as archive:
        sheets = [archive.read(n) for n in archive.namelist() if n.startswith("xl/worksheets/")]
    assert sheets and not any(b"<f>" in sheet or b"<f " in sheet for sheet in sheets)
    report = check_form(read_bytes(xlsx, "form.xlsx"), NOW.date())
    assert report.name == name
    assert not any(f.code == "formula" for f in report.findings)


@pytest.mark.parametrize("name,written", [("乙集群", "我市本次申报的乙集群主导产业"),
                                          ("示例县机械", "我市本次申报的示例县机械集群主导产业")])
def test_the_promise_names_the_cluster_once(name, written):
    """The 承诺函 reads 我市本次申报的XXX集群主导产业: a name ending in 集群 does not get it twice."""
    from dialogs.forms import form_documents

    xlsx = next(content for file, content in form_documents(name, {}, "zh").documents if file.endswith(".xlsx"))
    text = "".join(str(c) for table in read_bytes(xlsx, "form.xlsx") for row in table for c in row if c)
    assert written in text and "集群集群" not in text
    report = check_form(read_bytes(xlsx, "form.xlsx"), NOW.date())
    assert not any(f.code == "statement_missing" for f in report.findings)


def test_form_writes_the_champions_of_every_level_in_their_row():
    """The form's 单项冠军 row has no level: /form writes the national and provincial answers' sum."""
    from dialogs.forms import form_documents

    reply = form_documents("乙集群", {"champion_count": 1, "leading_provincial_champion_count": 1}, "zh")
    for name, content in reply.documents:
        report = check_form(read_bytes(content, name), NOW.date())
        assert report.values["champions"] == {"2023": 2}, name
        assert report.facts["leading_provincial_champion_count"] == 2
    # one level unknown: the row's total is not known, and it is left to fill
    reply = form_documents("乙集群", {"champion_count": 1}, "zh")
    assert "「主导产业相关的制造业单项冠军企业数量」" in reply.text


def test_boxes_the_answers_cannot_choose_are_asked_for_and_noted_when_left_empty(chat):
    """国际合作=是, 公共服务体系=是, 资源共享 2 项: several boxes declare each, so /form ticks none and
    lists them to tick; sent back so, each row notes that its ticks contradict the answer."""
    start(chat, "江苏", name="乙集群")
    chat.answer_all(in_form_years(eligible_facts()))
    text = chat.say("/form")
    for row in ("六、开放合作情况「集群内机构或法人已开展的国际合作交流活动」（已答“是”，请勾选具体做法）",
                "七、治理和服务水平「集群中小企业公共服务平台建设情况」（已答“是”，请勾选具体做法）",
                "二、主导产业情况「集群已开展的产业链资源协同协作工作」（已答 2 项，请勾选具体做法）"):
        assert row in text
    reply = next(r for r in chat.last if r.documents)
    xlsx = next(content for file, content in reply.documents if file.endswith(".xlsx"))
    chat.last = chat.conversation.handle(chat.user, attachment=Attachment("乙集群-申报表.xlsx", xlsx))
    text = chat.last[0].text
    assert ("[提示] 六、开放合作情况「集群内机构或法人已开展的国际合作交流活动」与已知情况不符：参与主导产业国际合作机制或交流活动"
            "已答“是”，表内勾选为“否”（按表内勾选评估）。") in text
    assert "[提示] 七、治理和服务水平「集群中小企业公共服务平台建设情况」与已知情况不符：" in text
    assert "[提示] 二、主导产业情况「集群已开展的产业链资源协同协作工作」与已知情况不符：已开展的集群制造资源共享工作项数已答“2项”，表内勾选为“0项”" in text


@pytest.mark.parametrize("writer", [write_xlsx, write_docx], ids=["xlsx", "docx"])
def test_a_forms_cells_are_quoted_without_control_characters(chat, tmp_path, writer):
    """A cell's text loses its terminal escapes and control characters where it is read, as
    typed text does: the report and the other cluster's name quote it without them (XML keeps
    ESC out of a file, not C1's CSI \\x9b, OSC \\x9d or DEL)."""
    start(chat, "江苏")
    cells = {**passing(), "cluster_name": ["甲\x9b2J集群\x7f"], "total_output": [45.0, "见\x9d0;title\x9c附件\x9b31m", 52.9]}
    content = writer(tmp_path / f"filled.{writer.__name__[-4:]}", cells).read_bytes()
    chat.last = chat.conversation.handle(chat.user, attachment=Attachment(f"申报表.{writer.__name__[-4:]}", content))
    text = chat.last[0].text
    assert "这份申报表的集群名称是“甲集群”" in text
    assert "二、主导产业情况「集群总产值（亿元）」2022年应填数字，填的是“见附件”。" in text
    shown = text + "".join(doc.decode("utf-8") for _, doc in chat.last[0].documents)
    assert not any("\x7f" <= ch <= "\x9f" or ch < " " and ch not in "\t\n" for ch in shown)


def test_a_form_with_chinese_numerals_sent_in_the_chat_is_read_as_the_chat_reads_them(chat, tmp_path):
    """三百家 and 百分之八十点五 in a filled form sent as a file: read as when typed in the chat."""
    start(chat, "江苏")
    cells = {"enterprises": ["三百家", 320, 350], "sme_output_share": ["百分之八十点五", 81.0, 82.3]}
    path = write_xlsx(tmp_path / "filled.xlsx", {**passing(), **cells})
    chat.last = chat.conversation.handle(chat.user, attachment=Attachment("filled.xlsx", path.read_bytes()))
    text = chat.last[0].text
    assert "应填数字" not in text and "申报表检查通过。" in text, text
