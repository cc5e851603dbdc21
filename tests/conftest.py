"""Shared fixtures: an eligible cluster to vary, and evaluation helpers."""

from __future__ import annotations

import atexit
import compileall
import copy
import datetime as dt
import io
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from engine import catalogue, evaluate, load_rulesets, validate_facts
from tests import warm_start

DATA = Path(__file__).parent / "data"
ON = dt.date(2026, 1, 15)  # 近三年 = 2023–2025, the fixture's years; Shaanxi's term has ended (a notice)

# The tests' files (tmp_path: SQLite databases, logs; the PostgreSQL servers' data) on tmpfs
# where there is one: each SQLite commit waits for an fsync (synchronous=FULL), 4 ms on this
# machine's disk, nothing in memory. What the tests check of a kill does not need it: a
# killed process's writes are in the page cache; only a machine's crash would lose them.
#
# All of it in one folder of the run's, which the run removes at its end: TMPDIR, so that the
# processes the tests start and the xdist workers (started after this runs) use it too. The
# lock files that keep a worker's name (bot.delivery._hold), one a database, were left behind
# by the thousand in /tmp and /dev/shm at every run. Readable by all: the test PostgreSQL
# runs as its own user below it.
_RUN_TMP = "CLUSTERBOT_TEST_TMP"  # set by the run's first process, inherited by its workers
if os.environ.get(_RUN_TMP):
    tempfile.tempdir = os.environ[_RUN_TMP]
elif not os.environ.get("PYTEST_DEBUG_TEMPROOT"):
    tempfile.tempdir = tempfile.mkdtemp(prefix="clusterbot-tests-",
                                        dir="/dev/shm" if os.access("/dev/shm", os.W_OK) else None)
    os.chmod(tempfile.tempdir, 0o755)
    os.environ[_RUN_TMP] = os.environ["TMPDIR"] = tempfile.tempdir
    atexit.register(shutil.rmtree, tempfile.tempdir, True)
# The locale chooses the language of the command line and of a new terminal chat when none is
# given: the tests expect the product's default (Chinese) on any machine, en_US.UTF-8 too; a
# test of another locale sets its own. Inherited by the workers and the processes they start.
for _name in ("LC_ALL", "LC_MESSAGES", "LANGUAGE"):
    os.environ.pop(_name, None)
os.environ["LANG"] = "C.UTF-8"
warm_start.install()  # the product's processes forked from a warm interpreter (tests/warm_start.py)
# pytest keeps the test modules it rewrote (assertions) in __pycache__ only when bytecode may
# be written: with PYTHONDONTWRITEBYTECODE set (as on this machine) every worker rewrote all
# of them again, 3 s of CPU each. __pycache__ is git-ignored.
sys.dont_write_bytecode = False


def eligible_facts() -> dict:
    """A cluster that meets every criterion of all four measures (tests vary one fact)."""
    raw = json.loads((DATA / "eligible.json").read_text(encoding="utf-8"))
    raw.pop("name")
    return raw


def evaluate_with(jurisdiction: str, on: dt.date = ON, drop: tuple = (), **changes):
    """Evaluate the eligible cluster with some facts changed or dropped."""
    raw = copy.deepcopy(eligible_facts())
    raw.update(changes)
    for fact in drop:
        raw.pop(fact, None)
    facts, errors = validate_facts(raw, catalogue())
    assert not errors, errors
    return evaluate(facts, load_rulesets()[jurisdiction], on)


def run_cli(*argv: str, stdin: str = "", env: dict[str, str | None] | None = None) -> subprocess.CompletedProcess:
    """A command run as a process runs it (bot.cli.main, its errors and exit status), here:
    standard streams of UTF-8 bytes as a pipe gives, read back as `subprocess.run(text=True)`
    reads a process's (universal newlines); `env` set (None: unset) for the run, and the
    80 columns argparse wraps its help to on a pipe. A process start is 0.3 s of CPU, and the
    suite ran some hundred of them for commands that need no process of their own; the tests
    of the real process (its streams, a pipe of bytes, its entry point) keep one."""
    from bot.cli import main

    environ = dict(os.environ)
    for name, value in {"COLUMNS": "80", **(env or {})}.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    streams = sys.stdin, sys.stdout, sys.stderr
    sys.stdin = io.TextIOWrapper(io.BytesIO(stdin.encode("utf-8")), encoding="utf-8")
    out = sys.stdout = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", write_through=True)
    err = sys.stderr = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", write_through=True)
    try:
        status = main(list(argv))
    except SystemExit as exc:  # argparse's usage errors and --help
        status = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        sys.stdin, sys.stdout, sys.stderr = streams
        os.environ.clear()
        os.environ.update(environ)

    def text(stream) -> str:
        written = stream.buffer.getvalue().decode("utf-8")
        return written.replace("\r\n", "\n").replace("\r", "\n")
    return subprocess.CompletedProcess(list(argv), status, text(out), text(err))


def series_as_of(on: dt.date) -> dict:
    """The fixture's series moved to the 近三年 of another evaluation date."""
    shift = on.year - 1 - 2025
    return {fact: {str(int(y) + shift): v for y, v in value.items()}
            for fact, value in eligible_facts().items() if isinstance(value, dict)}


def status_of(jurisdiction: str, criterion: str, **changes) -> str:
    return evaluate_with(jurisdiction, **changes).by_id(criterion).status


@pytest.fixture
def eligible():
    return eligible_facts()


# --- the order and the spread of the run (pytest-xdist, `-n auto --dist loadgroup`) -----------

# The modules whose tests take longest (--durations) start first, so that none of them starts
# last and runs alone while the other workers wait; the rest follow in their usual order. In
# this order, not xdist's (--no-loadscope-reorder: its own hands out the largest groups first,
# and so every worker began in a channel's group, waiting on its timeouts with the CPU idle): a
# group waiting on timeouts (web, Telegram, DingTalk, WeCom) alternates with modules that keep
# the CPU busy (the form's workbooks, the property tests): 2 min 09 s–2 min 13 s in three runs
# alternating with the order before (2 min 16 s–2 min 26 s).
SLOW_FIRST = ["test_web.py", "test_form.py", "test_telegram.py", "test_batch_fast.py", "test_workers.py",
              "test_dingtalk.py", "test_fuzz.py", "test_web_workers.py", "test_telegram_faults.py", "test_dialog.py",
              "test_wecom.py", "test_chat_process.py", "test_dialog_flow.py", "test_form_telegram.py",
              "test_terminal_session.py", "test_cli_evaluate.py"]
# The module-scoped fixtures of a process that several tests share (a web server, a browser,
# a Telegram, WeCom or DingTalk bot): a module's tests that take one run on one worker, which
# starts it once.
SHARED_PROCESSES = {"server", "browser", "shared_process"}


def pytest_collection_modifyitems(config, items):
    rank = {name: i for i, name in enumerate(SLOW_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(SLOW_FIRST)))  # stable: in order
    if getattr(config.option, "loadgroup", False):  # an xdist worker of --dist loadgroup
        for item in items:
            if SHARED_PROCESSES & set(getattr(item, "fixturenames", ())):
                join_group(item, item.path.stem)


def join_group(item, group: str) -> None:
    """What xdist does for an `xdist_group` mark: the group after an @ in the node id, which
    --dist loadgroup hands to one worker as a whole. Done here because xdist 3.8 writes the
    id into an attribute pytest 9.2 no longer reads (pytest-xdist issue 1386): the marks were
    ignored, and each of the four workers started its own web server and browser."""
    nodeid = f"{item.nodeid}@{group}"
    if hasattr(item, "_id"):  # pytest >= 9.2: a structured node id
        from _pytest.nodeid import NodeId

        item._id = NodeId.parse(nodeid)
    else:
        item._nodeid = nodeid


def pytest_configure(config):
    """The project's modules compiled once, before the workers start: where
    PYTHONDONTWRITEBYTECODE is set (as on this machine) each of the ~130 processes the tests
    start would compile them again, 0.3 s of CPU each. Only what changed is compiled."""
    if not hasattr(config, "workerinput"):
        root = Path(__file__).parents[1]
        for package in ("bot", "dialogs", "engine", "storage", "locales", "bench"):
            compileall.compile_dir(root / package, quiet=1)
        if getattr(config.option, "dist", "no") != "no":  # workers will start
            rewrite_test_modules(config)
            warm_start.start()  # one zygote for the workers, importing while they collect


def rewrite_test_modules(config) -> None:
    """The test modules' rewritten asserts cached once, before the workers start: on a fresh
    clone every worker rewrote all of them at the same time, 2 s of CPU each. What pytest's
    import hook does on a cache miss (its functions are internal: without them, the workers
    rewrite as before)."""
    try:
        from _pytest.assertion import assertstate_key
        from _pytest.assertion.rewrite import PYC_TAIL, _read_pyc, _rewrite_test, _write_pyc, get_cache_dir
    except ImportError:
        return
    if assertstate_key not in config.stash:  # --assert=plain: nothing is rewritten
        return
    for source in sorted(Path(__file__).parent.glob("test_*.py")):
        cache = get_cache_dir(source)
        pyc = cache / (source.name[:-3] + PYC_TAIL)
        if _read_pyc(source, pyc) is None:
            cache.mkdir(parents=True, exist_ok=True)
            source_hash, code = _rewrite_test(source, config)
            _write_pyc(config.stash[assertstate_key], code, source_hash, pyc)


def pytest_xdist_auto_num_workers(config):
    """Twice the cores: most of the suite waits (on processes it started, on fsync, on the
    timeouts it provokes), so two workers a core keep the cores busy."""
    return 2 * (os.cpu_count() or 1)


# --- the databases: every test taking `db_url` runs on SQLite and on PostgreSQL ---------------

@pytest.fixture(scope="session")
def postgres():
    """One PostgreSQL server for the whole run (about 2 s to start)."""
    from bench.standins.postgres import PostgresServer, binaries

    bin_dir = binaries()
    if bin_dir is None:
        pytest.fail("PostgreSQL is not installed: .ci/run installs it (apt-get install postgresql)")
    server = PostgresServer(bin_dir).start()
    yield server
    server.stop()


_sqlite_template: list[Path] = []


def migrated_sqlite(path: Path) -> Path:
    """Put a SQLite database at the newest revision at `path` (unless one is there): a copy of
    a template made once a process. Migrating a new file costs 0.1–0.3 s of CPU, copying it a
    millisecond; the processes the tests start are given one too (their first start making the
    schema is test_migrations' and the terminal tests' business)."""
    if not _sqlite_template:
        from storage.db import make_engine

        folder = tempfile.mkdtemp(prefix="clusterbot-template-")
        atexit.register(shutil.rmtree, folder, True)
        template = Path(folder) / "clusterbot.db"
        make_engine(f"sqlite:///{template}").dispose()
        with sqlite3.connect(template) as con:  # everything in the main file, none left in the WAL
            con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        _sqlite_template.append(template)
    if not path.exists():
        shutil.copyfile(_sqlite_template[0], path)
    return path


@pytest.fixture(scope="session")
def postgres_template(postgres) -> str:
    """The same on PostgreSQL: a database at the newest revision that CREATE DATABASE copies."""
    from storage.db import make_engine

    url = postgres.database()
    make_engine(url).dispose()  # no connection may stay open on a template
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """A fresh database, a SQLite file or a new database on the session's server, at the newest
    revision (a copy of a template: what `make_engine` would have made); empty for a test marked
    `empty_database` (the migrations' own tests)."""
    empty = request.node.get_closest_marker("empty_database") is not None
    if request.param == "sqlite":
        path = tmp_path / "clusterbot.db"
        if not empty:
            migrated_sqlite(path)
        yield f"sqlite:///{path}"
        return
    server = request.getfixturevalue("postgres")
    url = server.database(template=None if empty else request.getfixturevalue("postgres_template"))
    yield url
    server.drop(url)  # and the connections the test's engines still hold


def pytest_sessionfinish(session, exitstatus):
    """"No tests ran" (exit status 5) is never this suite's result: under xdist it is also what
    a worker's failed collection (a path that does not exist) comes back as. It is reported as
    the usage error it is (4), whatever selected nothing."""
    if exitstatus == pytest.ExitCode.NO_TESTS_COLLECTED and not hasattr(session.config, "workerinput"):
        session.exitstatus = pytest.ExitCode.USAGE_ERROR
