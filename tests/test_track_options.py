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
    chat.say("2023-10-15")  # certified under both: the province's own date is asked too
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


def test_deadlines_ics_is_one_calendar_of_all_tracked_clusters_with_their_reminder_days(conversation):
    import icalendar
    from datetime import timedelta

    chat = Chat(conversation)
    chat.say("/track 甲集群 国家 2024-06-01")
    chat.say("/track 乙集群 国家 2024-06-01")     # certified the same day
    chat.say("/remind #2 14,3 8:30")
    chat.say("/deadlines ics")
    (name, content), = chat.last[0].documents
    assert name == "集群认定期限.ics" and "2 个集群" in chat.last[0].text
    events = icalendar.Calendar.from_ical(content.decode("utf-8")).walk("VEVENT")
    by_cluster = {c: [e for e in events if str(e["SUMMARY"]).startswith(c + "：")] for c in ("甲集群", "乙集群")}
    assert by_cluster["甲集群"] and len(by_cluster["甲集群"]) == len(by_cluster["乙集群"])
    assert len({str(e["UID"]) for e in events}) == len(events)
    # the days before, at the reminder time (the all-day event starts at its midnight)
    assert [a.decoded("TRIGGER") for a in by_cluster["乙集群"][0].walk("VALARM")] == [
        timedelta(days=-14, hours=8, minutes=30), timedelta(days=-3, hours=8, minutes=30)]
    assert [a.decoded("TRIGGER") for a in by_cluster["甲集群"][0].walk("VALARM")] == [
        timedelta(days=-30, hours=9), timedelta(days=-7, hours=9), timedelta(days=-1, hours=9)]


def test_the_files_sent_back_are_named_to_stay_in_their_folder_and_under_the_name_limit(conversation):
    """A cluster's name becomes a file's name: a / or .. in it cannot write outside the folder
    (a tracked `../../evil` wrote evil.ics two folders up), and 100 Chinese characters (300
    bytes) stay under a file name's 255 bytes with the suffix."""
    chat = Chat(conversation)
    chat.say("/track ../../evil 国家 2024-06-01")
    chat.say("/deadlines ics")
    ((name, _),) = chat.last[0].documents
    assert name == "evil.ics"
    long = "甲" * 100
    chat.say(f"/new {long}")
    chat.say("江苏")
    for command in ("/export", "/form"):
        chat.say(command)
        names = [n for reply in chat.last for n, _ in reply.documents]
        assert names and all("/" not in n and len(n.encode("utf-8")) <= 200 for n in names), names


def test_the_calendar_written_says_one_cluster_in_the_singular(conversation):
    chat = Chat(conversation)
    chat.say("/lang en")
    chat.say("/track X national 2024-06-01")
    chat.say("/deadlines ics")
    assert "Calendar file written (1 cluster, 1 deadline, " in chat.last[0].text  # was "1 clusters, 1 deadlines"
    chat.say("/lang zh")
    chat.say("/deadlines ics")
    assert "（1 个集群、" in chat.last[0].text
