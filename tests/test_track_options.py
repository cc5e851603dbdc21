"""/track offers only what a certification can be (the national measure, one province's, or
both) and refuses an option it did not offer; /remind names each wrong part of a setting."""

from __future__ import annotations

from tests.test_tracking import Chat, conversation, db, snapshot, tracked  # noqa: F401  (fixtures)


def test_track_refuses_an_option_not_offered_and_two_provinces(conversation):
    chat = Chat(conversation)
    chat.say("/track")
    chat.say("甲集群")
    assert [b.label for b in chat.last[-1].choices] == ["国家（工信部）", "江苏", "广东", "陕西"]
    before = snapshot(conversation)
    for typed in ("5", "1,7", "全部", "江苏 广东", "2,3"):
        text = chat.say(typed)
        assert ("没有这个选项" in text or "一个集群只能由国家和一个省认定" in text), typed
        assert "按哪些办法认定" in text and snapshot(conversation)[1:] == before[1:]
    chat.say("1,2")
    chat.say("2024-06-01")
    assert [c.jurisdictions for c in tracked(conversation)] == [["national", "jiangsu"]]


def test_one_line_track_refuses_two_provinces(conversation):
    chat = Chat(conversation)
    assert "一个集群只能由国家和一个省认定" in chat.say("/track 甲集群 江苏,广东 2024-06-01")
    assert tracked(conversation) == []


def test_remind_names_each_wrong_part_of_a_setting(conversation):
    chat = Chat(conversation)
    chat.say("/track 甲集群 国家 2024-06-01")
    before = snapshot(conversation)
    text = chat.say("/remind 400,-1 25:00")
    assert "没有看懂提前天数“400、-1”" in text and "没有看懂时间“25:00”" in text
    assert "没有找到跟踪的集群" not in text and text.count("未作任何更改") == 1
    assert "没有看懂提前天数“400”" in chat.say("/remind 30,400")
    assert snapshot(conversation) == before
