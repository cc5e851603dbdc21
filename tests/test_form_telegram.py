"""The form on Telegram, through the fake Bot API: /form sends the XLSX and DOCX, and a
filled form sent as a document is downloaded (getFile), checked and answered."""

from __future__ import annotations

from bot.clock import Clock
from dialogs.form_files import read_bytes
from engine.form import check_form
from bench.standins.form_helpers import passing, write_xlsx
from tests.test_telegram import User, bot, fake, shared_process, start_profile  # noqa: F401  (fixtures)


def test_form_documents_and_a_filled_form_sent_back(fake, bot, tmp_path):
    user = User(fake, 1101)
    start_profile(user, "壬集群", "江苏")
    user.send("/form", until=lambda m: m.get("document", {}).get("file_name", "").endswith(".docx"))
    docs = [m["document"] for m in fake.messages(1101) if "document" in m]
    assert [d["file_name"] for d in docs] == ["壬集群-申报表.xlsx", "壬集群-申报表.docx"]
    for d in docs:
        report = check_form(read_bytes(fake.documents[d["file_id"]], d["file_name"]), Clock().today())
        assert report.name == "壬集群"

    filled = write_xlsx(tmp_path / "filled.xlsx", {**passing(), "total_output": [45.0, "见附件", 52.9]})
    fake.user_sends_document(1101, "filled.xlsx", filled.read_bytes())
    got = user.read_until(lambda m: "集群总产值（亿元）" in m.get("text", ""))
    assert "2022年应填数字，填的是“见附件”" in got[-1]["text"]
    user.read_until(lambda m: m.get("document", {}).get("file_name") == "filled.md")

    fake.user_sends_document(1101, "notes.pdf", b"%PDF-1.4 not a form")
    got = user.read_until(lambda m: "无法检查文件" in m.get("text", ""))
    assert "不是 Excel（.xlsx）或 Word（.docx）文件" in got[-1]["text"]


def test_form_is_in_the_commands_menu(fake, bot):
    assert any(c["command"] == "form" and "申报表" in c["description"] for c in fake.commands(language_code=""))

