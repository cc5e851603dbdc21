"""A deployer's first start, as README's Deployment and docs/deployment.md tell it: a setting
that is wrong (the database, the address to listen on) is said in one line naming it and what
is expected, in the user's language, with a non-zero exit status and no traceback."""

from __future__ import annotations

import pytest

from bench.standins.ports import free_port


def run_cli(argv, monkeypatch, capsys, lang_env="C.UTF-8"):
    from bot.cli import main

    for name in ("LC_ALL", "LC_MESSAGES", "CLUSTERBOT_DB", "CLUSTERBOT_DEBUG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", lang_env)
    status = main(list(argv))
    out = capsys.readouterr()
    return status, out.out, out.err


def one_line(err: str) -> str:
    assert "Traceback" not in err and err.count("\n") == 1, err
    return err


@pytest.mark.parametrize("db,english,chinese", [
    # no PostgreSQL at that port (nothing listens on a port just freed)
    (f"postgresql+psycopg://clusterbot:pw@127.0.0.1:{free_port()}/clusterbot",
     "does not answer (connection failed", "连接不上（connection failed"),
    ("mysql://x@127.0.0.1/clusterbot", "is not one clusterbot can open", "无法识别"),
    ("foo://x", "expected postgresql+psycopg://USER:PASSWORD@HOST:PORT/NAME or a SQLite file's path",
     "应为 postgresql+psycopg://用户:口令@主机:端口/库名"),
])
def test_a_database_that_cannot_be_opened_is_one_line(db, english, chinese, monkeypatch, capsys):
    for action in ("upgrade", "current"):
        status, _, err = run_cli(["db", action, "--db", db], monkeypatch, capsys)
        assert status == 2 and english in one_line(err) and "(--db or CLUSTERBOT_DB)" in err
        assert ":pw@" not in err  # the password is never shown
        status, _, err = run_cli(["db", action, "--db", db], monkeypatch, capsys, lang_env="zh_CN.UTF-8")
        assert status == 2 and chinese in one_line(err) and "（--db 或 CLUSTERBOT_DB）" in err


def test_a_sqlite_file_that_cannot_be_made(tmp_path, monkeypatch, capsys):
    (tmp_path / "a-file").write_text("")
    for db in (tmp_path / "a-file" / "sub" / "x.db",  # its folder cannot be made
               tmp_path):  # a folder, not a file
        status, _, err = run_cli(["db", "upgrade", "--db", str(db)], monkeypatch, capsys)
        assert status == 2 and "the SQLite database" in one_line(err)
        assert "expected a file this user may read and write, in a folder it may write" in err


def test_the_variable_is_read_and_named(tmp_path, monkeypatch, capsys):
    """CLUSTERBOT_DB, as the systemd unit's EnvironmentFile gives it, for a server command too."""
    monkeypatch.setenv("CLUSTERBOT_DB", "mysql://x@127.0.0.1/clusterbot")
    from bot.cli import main

    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    assert main(["db", "upgrade"]) == 2
    assert "数据库 mysql://x@127.0.0.1/clusterbot（--db 或 CLUSTERBOT_DB）无法识别" in one_line(capsys.readouterr().err)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "12345:" + "a" * 35)
    assert main(["serve"]) == 2
    assert "无法识别" in one_line(capsys.readouterr().err)


def test_postgres_urls_as_libpq_writes_them_are_read_with_psycopg():
    from storage.db import normalise_url, shown_url

    assert normalise_url("postgres://u:p@h:5432/d") == "postgresql+psycopg://u:p@h:5432/d"
    assert normalise_url("postgresql://u@h/d") == "postgresql+psycopg://u@h/d"
    assert normalise_url("postgresql+psycopg://u@h/d") == "postgresql+psycopg://u@h/d"
    assert shown_url("postgresql+psycopg://u:p@ss@h/d") == "postgresql+psycopg://u:***@h/d"


def test_db_upgrade_on_a_new_and_an_existing_file_and_on_postgresql(tmp_path, postgres, monkeypatch, capsys):
    from storage.migrate import head

    url = postgres.database()
    try:
        for db in (str(tmp_path / "new" / "clusterbot.db"), str(tmp_path / "new" / "clusterbot.db"),
                   url.replace("postgresql+psycopg://", "postgres://")):
            status, out, err = run_cli(["db", "upgrade", "--db", db], monkeypatch, capsys)
            assert (status, out, err) == (0, f"database: {head()}; newest: {head()}\n", "")
    finally:
        postgres.drop(url)
