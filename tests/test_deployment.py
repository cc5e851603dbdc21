"""A deployer's first start, as README's Deployment and docs/deployment.md tell it: a setting
that is wrong (the database, the address to listen on) is said in one line naming it and what
is expected, in the user's language, with a non-zero exit status and no traceback."""

from __future__ import annotations

from pathlib import Path

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
    ("postgresql+psycopg://clusterbot:pw@127.0.0.1:{port}/clusterbot",
     "does not answer (connection failed", "连接不上（connection failed"),
    ("postgresql+psycopg://clusterbot@127.0.0.1:{port}/clusterbot?password=pw",  # libpq's form
     "does not answer (connection failed", "连接不上（connection failed"),
    ("mysql://x@127.0.0.1/clusterbot", "is not one clusterbot can open", "无法识别"),
    ("foo://x", "expected postgresql+psycopg://USER:PASSWORD@HOST:PORT/NAME or a SQLite file's path",
     "应为 postgresql+psycopg://用户:口令@主机:端口/库名"),
])
def test_a_database_that_cannot_be_opened_is_one_line(db, english, chinese, monkeypatch, capsys):
    db = db.format(port=free_port())  # here, not in the test's id: every xdist worker collects the same tests
    for action in ("upgrade", "current"):
        status, _, err = run_cli(["db", action, "--db", db], monkeypatch, capsys)
        assert status == 2 and english in one_line(err) and "(--db or CLUSTERBOT_DB)" in err
        assert ":pw@" not in err and "=pw" not in err  # the password is never shown
        status, _, err = run_cli(["db", action, "--db", db], monkeypatch, capsys, lang_env="zh_CN.UTF-8")
        assert status == 2 and chinese in one_line(err) and "（--db 或 CLUSTERBOT_DB）" in err


def test_a_sqlite_file_that_cannot_be_made(tmp_path, monkeypatch, capsys):
    (tmp_path / "a-file").write_text("")
    for db in (tmp_path / "a-file" / "sub" / "x.db",  # its folder cannot be made
               tmp_path):  # a folder, not a file
        status, _, err = run_cli(["db", "upgrade", "--db", str(db)], monkeypatch, capsys)
        assert status == 2 and "the SQLite database" in one_line(err)
        assert "expected a file this user may read and write, in a folder it may write" in err


def test_a_file_that_is_no_sqlite_database_is_one_line_and_left_alone(tmp_path, monkeypatch, capsys):
    """--db naming a text file or random bytes (a typo, the wrong file): one line naming it,
    not an internal error, and the file is not touched."""
    for name, content in (("notes.txt", b"hello, not a database\n"), ("random.bin", bytes(range(256)) * 20)):
        path = tmp_path / name
        path.write_bytes(content)
        status, _, err = run_cli(["chat", "--db", str(path)], monkeypatch, capsys)
        assert status == 2 and f"the file sqlite:///{path} (--db or CLUSTERBOT_DB) is not a SQLite database" in one_line(err)
        status, _, err = run_cli(["db", "upgrade", "--db", str(path)], monkeypatch, capsys, lang_env="zh_CN.UTF-8")
        assert status == 2 and "不是 SQLite 数据库，或已损坏" in one_line(err)
        assert path.read_bytes() == content


def test_a_sqlite_file_it_may_not_write_is_refused_at_start(tmp_path):
    """A database file on a read-only mount (or of mode 444 for a user other than root): SQLite
    opens it read-only without a word, and every answer then failed as an internal error. The
    start says so in one line instead, and the file is left as it was."""
    import os
    import shutil
    import sqlite3
    import subprocess
    import sys

    from storage.db import make_engine

    db = tmp_path / "c.db"
    make_engine(str(db)).dispose()
    reader = sqlite3.connect(db)  # another process's reader: the WAL's files stay, as after a kill -9
    reader.execute("SELECT count(*) FROM answers").fetchall()
    before = db.read_bytes()
    command = [sys.executable, "-m", "bot.cli", "chat", "--db", str(db)]
    if os.geteuid() != 0:
        db.chmod(0o444)
    elif shutil.which("unshare") and subprocess.run(["unshare", "-m", "true"]).returncode == 0:
        # root writes any mode: mount the folder read-only, for this process alone
        command = ["unshare", "-m", "sh", "-c", 'mount --bind -o ro "$0" "$0" && exec "$@"', str(tmp_path), *command]
    else:
        pytest.skip("root without mount namespaces: no file it may not write")
    env = {k: v for k, v in os.environ.items() if k not in ("LC_ALL", "LC_MESSAGES", "CLUSTERBOT_DB")}
    done = subprocess.run(command, input="/new 甲集群\n", capture_output=True, text=True, timeout=60,
                          env=dict(env, LANG="zh_CN.UTF-8"), cwd=str(Path(__file__).parents[1]))
    assert done.returncode == 2, done.stderr
    assert f"SQLite 数据库 sqlite:///{db}（--db 或 CLUSTERBOT_DB）无法打开" in one_line(done.stderr)
    assert "应为本用户可读写的文件" in done.stderr and done.stdout == ""
    assert db.read_bytes() == before
    reader.close()


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
    assert shown_url("postgresql+psycopg://u:p@s/s@h/d") == "postgresql+psycopg://u:***@h/d"
    assert (shown_url("postgresql+psycopg://u@/d?host=/run/postgresql&password=p&sslmode=require")
            == "postgresql+psycopg://u@/d?host=/run/postgresql&password=***&sslmode=require")


def test_db_upgrade_on_a_new_and_an_existing_file_and_on_postgresql(tmp_path, postgres, monkeypatch, capsys):
    from storage.migrate import head

    url = postgres.database()
    try:
        for db in (str(tmp_path / "new" / "clusterbot.db"), str(tmp_path / "new" / "clusterbot.db"),
                   url.replace("postgresql+psycopg://", "postgres://")):
            status, out, err = run_cli(["db", "upgrade", "--db", db], monkeypatch, capsys)
            assert (status, out, err) == (0, f"database: {head()}; newest: {head()}\n", "")
        # in the locale's language, as every command that takes no --lang
        status, out, err = run_cli(["db", "current", "--db", url], monkeypatch, capsys, "zh_CN.UTF-8")
        assert (status, out, err) == (0, f"数据库：{head()}；最新：{head()}\n", "")
        status, out, err = run_cli(["db", "current", "--db", str(tmp_path / "empty.db")], monkeypatch, capsys)
        assert (status, out) == (0, f"database: (none); newest: {head()}\n")
        status, out, err = run_cli(["db", "revision", "--db", url], monkeypatch, capsys, "zh_CN.UTF-8")
        assert (status, one_line(err)) == (2, "clusterbot db revision: 请用 -m 写明改了什么、为什么\n")
    finally:
        postgres.drop(url)



def test_a_password_with_unencoded_special_characters_is_one_line_and_not_shown(monkeypatch, capsys):
    """A password typed into the URL as it is (p@ss:w/rd#1): the URL cannot be parsed. Said in
    one line naming the encoding expected, no piece of the password shown (the parser's own
    words quote the bit it took for a port)."""
    db = "postgresql+psycopg://clusterbot:p@ss:w/rd#1%?@127.0.0.1:5432/clusterbot"
    for lang_env, expected in (("C.UTF-8", "an @ : / # ? or % in the user or password written as %40"),
                               ("zh_CN.UTF-8", "用户名或口令中的 @ : / # ? % 应写作 %40")):
        status, _, err = run_cli(["db", "upgrade", "--db", db], monkeypatch, capsys, lang_env)
        assert status == 2 and expected in one_line(err)
        assert "clusterbot:***@127.0.0.1:5432/clusterbot" in err
        assert not any(piece in err for piece in ("ss:w", "'w'", "rd#1"))


def test_a_user_without_create_rights_is_one_line(postgres, monkeypatch, capsys):
    """A role that may connect but not create tables (PostgreSQL 15's default for a user that
    does not own the database), on an empty database: the upgrade is refused in one line."""
    import uuid

    url = postgres.database()
    role = f"r_{uuid.uuid4().hex[:8]}"
    postgres._admin(f"CREATE ROLE {role} LOGIN")
    postgres._admin(f'REVOKE CREATE ON DATABASE "{url.rsplit("/", 1)[1]}" FROM PUBLIC')
    try:
        as_role = url.replace("://postgres@", f"://{role}:pw@")
        status, _, err = run_cli(["db", "upgrade", "--db", as_role], monkeypatch, capsys)
        assert status == 2 and "refuses this user the schema's upgrade (permission denied" in one_line(err)
        assert "expected a user that owns the database" in err and ":pw@" not in err
        status, _, err = run_cli(["db", "upgrade", "--db", as_role], monkeypatch, capsys, "zh_CN.UTF-8")
        assert status == 2 and "不允许该用户升级表结构" in one_line(err)
    finally:
        postgres.drop(url)
        postgres._admin(f"DROP ROLE {role}")


def test_a_database_a_newer_version_upgraded_is_refused_and_left_alone(postgres, postgres_template,
                                                                      monkeypatch, capsys):
    """A rollback: the database is at a revision this version has no file of. One line naming
    the revision, exit 2, for `db upgrade` as for a worker's start, and the database untouched."""
    import psycopg

    url = postgres.database(template=postgres_template)
    name = url.rsplit("/", 1)[1]
    try:
        with psycopg.connect(host="127.0.0.1", port=postgres.port, user="postgres", dbname=name,
                             autocommit=True) as conn:
            conn.execute("UPDATE alembic_version SET version_num = '9999'")
        for argv in (["db", "upgrade", "--db", url], ["web", "--listen", "127.0.0.1:0", "--db", url]):
            status, _, err = run_cli(argv, monkeypatch, capsys)
            assert status == 2 and "is at schema revision 9999, which a newer clusterbot made" in one_line(err)
        status, _, err = run_cli(["db", "upgrade", "--db", url], monkeypatch, capsys, "zh_CN.UTF-8")
        assert status == 2 and "的表结构版本为 9999，由更新版本的 clusterbot 建立" in one_line(err)
        with psycopg.connect(host="127.0.0.1", port=postgres.port, user="postgres", dbname=name) as conn:
            assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [("9999",)]
    finally:
        postgres.drop(url)


# --- the servers' settings ----------------------------------------------------------------------

WECOM_ENV = {"WECOM_CORP_ID": "ww0123456789", "WECOM_AGENT_ID": "1000002", "WECOM_SECRET": "s",
             "WECOM_TOKEN": "t", "WECOM_AES_KEY": "a" * 43}
TOKEN = "12345:" + "a" * 35


@pytest.fixture
def taken_port():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


@pytest.mark.parametrize("argv,env", [
    (["web"], {}),
    (["wecom"], WECOM_ENV),
    (["serve", "--token", TOKEN, "--webhook-url", "https://bot.example.gov.cn/tg"], {}),
])
def test_a_port_another_process_holds_is_one_line(argv, env, taken_port, tmp_path, monkeypatch, capsys):
    """Two workers given one port (a unit's 844%i mistyped): the second says so before it opens
    its database, not in its web framework's log or traceback."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    argv = [*argv, "--listen", f"127.0.0.1:{taken_port}", "--db", str(tmp_path / "x.db")]
    if argv[0] == "web":
        argv += ["--key-file", str(tmp_path / "web.key")]
    status, _, err = run_cli(argv, monkeypatch, capsys)
    assert status == 2 and f"clusterbot {argv[0]}: --listen 127.0.0.1:{taken_port}: " in one_line(err)
    assert "(Address already in use)" in err and "a port no other process holds" in err
    assert not (tmp_path / "x.db").exists()
    status, _, err = run_cli(argv, monkeypatch, capsys, lang_env="zh_CN.UTF-8")
    assert status == 2 and "无法在该地址监听" in one_line(err) and "没有其他进程占用的端口" in err


@pytest.mark.parametrize("argv,env,chinese", [
    (["serve"], {}, "clusterbot serve: 缺少令牌：请用 --token 给出，或设置 TELEGRAM_BOT_TOKEN"),
    (["serve", "--token", "1:x"], {}, "令牌格式不对"),
    (["serve", "--token", TOKEN, "--listen", "127.0.0.1:8441"], {}, "--listen 和 --max-connections 只用于 webhook"),
    (["web", "--listen", "0.0.0.0:8080"], {}, "0.0.0.0 可从其他机器访问"),
    (["web", "--listen", "nowhere"], {}, "--listen “nowhere”：应为 主机:端口，如 127.0.0.1:8080"),
    # the header names the user: the secret would never be asked, whoever reaches the port
    (["web", "--user-header", "X-Remote-User", "--secret", "s3cret"], {}, "--user-header X-Remote-User 与访问口令"),
    (["web", "--user-header", "X-Remote-User"], {"CLUSTERBOT_WEB_SECRET": "s3cret"}, "只能用其一"),
    (["wecom"], {}, "缺少 --corp-id / WECOM_CORP_ID、--agent-id / WECOM_AGENT_ID、WECOM_SECRET"),
    (["wecom"], dict(WECOM_ENV, WECOM_AES_KEY="short"), "WECOM_AES_KEY 格式不对"),
    (["dingtalk"], {"DINGTALK_CLIENT_SECRET": "s"}, "缺少 --client-id / DINGTALK_CLIENT_ID"),
    (["dingtalk", "--client-id", "ding1", "--endpoint", "api.dingtalk.com"], {"DINGTALK_CLIENT_SECRET": "s"},
     "--endpoint “api.dingtalk.com”：应为 http:// 或 https:// 开头的网址"),
])
def test_the_servers_settings_are_refused_in_the_locales_language(argv, env, chinese, monkeypatch, capsys):
    for name in ("TELEGRAM_BOT_TOKEN", "CLUSTERBOT_WEB_SECRET", *WECOM_ENV, "DINGTALK_CLIENT_ID",
                 "DINGTALK_CLIENT_SECRET", "DINGTALK_OPENAPI_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    status, _, err = run_cli(argv, monkeypatch, capsys, lang_env="zh_CN.UTF-8")
    assert status == 2 and chinese in one_line(err)
    status, _, err = run_cli(argv, monkeypatch, capsys)
    assert status == 2 and not any("\u4e00" <= ch <= "\u9fff" for ch in one_line(err).replace("企业微信", ""))


def test_a_reminder_interval_that_is_no_positive_number(monkeypatch, capsys):
    for command in ("serve", "web", "wecom", "dingtalk"):
        with pytest.raises(SystemExit) as stop:
            run_cli([command, "--reminder-interval", "0"], monkeypatch, capsys, lang_env="zh_CN.UTF-8")
        assert stop.value.code == 2
        assert "参数 --reminder-interval：“0”：应为正数（秒）" in capsys.readouterr().err


@pytest.mark.parametrize("content", [b"", b"short", "密钥".encode() * 20, bytes(range(40, 80)) + b"\xff"])
def test_a_key_file_that_holds_no_key_is_refused(content, tmp_path, monkeypatch, capsys):
    """An empty or short key would sign every browser's cookie with a key anyone can guess."""
    key_file = tmp_path / "web-session.key"
    key_file.write_bytes(content)
    status, _, err = run_cli(["web", "--db", str(tmp_path / "x.db"), "--key-file", str(key_file),
                              "--listen", f"127.0.0.1:{free_port()}"], monkeypatch, capsys, lang_env="zh_CN.UTF-8")
    assert status == 2 and f"--key-file {key_file} 中没有可用的密钥" in one_line(err)
    assert not (tmp_path / "x.db").exists()


def test_a_key_file_written_once_is_read_again(tmp_path):
    import secrets

    from bot.web import session_key

    made = session_key(tmp_path / "k")
    assert session_key(tmp_path / "k") == made and len(made) == 43
    (tmp_path / "own").write_text(secrets.token_hex(16) + "\n")  # an operator's own: 32 hex digits
    assert session_key(tmp_path / "own") == (tmp_path / "own").read_text().strip()


def test_every_server_takes_the_log_options():
    """docs/deployment.md's units pass --log-format json; the web workers' unit is the serve one
    with another ExecStart."""
    from bot.cli import build_parser

    for command in ("serve", "web", "wecom", "dingtalk"):
        argv = [command, "--log-format", "json", "--log-level", "WARNING"]
        args = build_parser("en", argv).parse_args(argv)
        assert (args.log_format, args.log_level) == ("json", "WARNING")


def test_a_web_worker_logs_json_and_answers_its_health(tmp_path):
    import json

    from bench.standins.workers import WebWorker
    from tests.conftest import migrated_sqlite

    worker = WebWorker("web1", f"sqlite:///{migrated_sqlite(tmp_path / 'web.db')}", tmp_path / "web.key",
                       tmp_path / "web.log", "--log-format", "json").start()
    try:
        assert worker.get("/healthz") == (200, {"status": "alive"})
        assert worker.get("/readyz") == (200, {"status": "ready"})
    finally:
        assert worker.stop() == 0
    entries = [json.loads(line) for line in worker.log.read_text(encoding="utf-8").splitlines()]
    # every line one JSON object, named by the worker's default lease name (host:web:PORT)
    assert entries and {e["worker"].split(":", 1)[1] for e in entries} == {f"web:{worker.port}"}


@pytest.mark.parametrize("command", ["serve", "web", "wecom", "dingtalk", "db", "chat"])
def test_the_servers_help_speaks_chinese_in_a_chinese_locale(command):
    """README: `clusterbot --help`, `chat` and the servers speak the locale's language."""
    import argparse

    from bot.cli import build_parser
    from bot.commands import HELP

    parser = build_parser("zh", [command])
    (subparsers,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    sub = subparsers.choices[command]
    texts = [sub.description, *(a.help for a in sub._actions if a.help and a.dest != "help"),
             *(c.help for c in subparsers._choices_actions if c.dest in HELP)]
    untranslated = [text for text in texts if not any("\u4e00" <= ch <= "\u9fff" for ch in text)]
    assert not untranslated


def test_the_faults_a_database_refuses_a_write_for_are_told_from_a_bug(tmp_path):
    """storage.db.storage_fault on SQLite's own errors (a full database, a read-only one, a lock
    held), as SQLAlchemy wraps them and bare; anything else is a bug (None)."""
    import sqlite3

    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import OperationalError

    from dialogs.conversation import failure_text
    from storage.db import storage_fault

    db = tmp_path / "f.db"
    con = sqlite3.connect(db, isolation_level=None)
    con.execute("CREATE TABLE t (x)")

    def fault_of(connection, sql):
        try:
            connection.execute(sql)
        except sqlite3.Error as exc:
            return storage_fault(exc)
        raise AssertionError(sql)

    con.execute(f"PRAGMA max_page_count = {con.execute('PRAGMA page_count').fetchone()[0]}")
    assert fault_of(con, "INSERT INTO t VALUES (zeroblob(100000))") == "full"
    reader = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    assert fault_of(reader, "INSERT INTO t VALUES (1)") == "readonly"
    con.execute("BEGIN EXCLUSIVE")
    other = sqlite3.connect(db, timeout=0, isolation_level=None)
    assert fault_of(other, "BEGIN IMMEDIATE") == "locked"
    engine = create_engine(f"sqlite:///{db}", connect_args={"timeout": 0})
    with pytest.raises(OperationalError) as wrapped, engine.connect() as connection:
        connection.execute(text("INSERT INTO t VALUES (1)"))
    assert storage_fault(wrapped.value) == "locked"
    assert failure_text("zh", wrapped.value).startswith("数据库正被另一程序长时间占用，本条消息未保存")
    assert failure_text("en", wrapped.value).startswith("Another program has held the database")
    con.execute("ROLLBACK")
    assert fault_of(con, "SELECT * FROM no_such_table") is None  # ours
    assert storage_fault(ValueError("x")) is None
    assert failure_text("zh", ValueError("x")).startswith("内部错误")
    engine.dispose()


def test_a_sqlite_file_another_process_keeps_locked_is_one_line_at_start(tmp_path, monkeypatch, capsys):
    """Another program holding the write lock past the wait (a sqlite3 shell with a
    transaction open) at start: one line saying so (was an internal error, exit 70). The wait
    is cut from 10 s to 0.2 s: the path is the same."""
    import sqlite3

    from storage.db import make_engine

    monkeypatch.setattr("storage.db.BUSY_TIMEOUT_MS", 200)

    db = tmp_path / "c.db"
    make_engine(str(db)).dispose()
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        status, out, err = run_cli(["chat", "--db", str(db)], monkeypatch, capsys, lang_env="zh_CN.UTF-8")
    finally:
        holder.execute("ROLLBACK")
    assert status == 2 and out == ""
    assert f"SQLite 数据库 sqlite:///{db}（--db 或 CLUSTERBOT_DB）正被另一进程锁定" in one_line(err)
