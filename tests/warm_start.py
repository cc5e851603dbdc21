"""The product's processes in the tests, forked from a warm interpreter.

A test that runs `python -m bot.cli …` as a process (`subprocess.run`, `subprocess.Popen`, or
`pexpect.spawn` on a pseudo-terminal) gets a process of its own as before: its own pid,
standard streams, working folder, environment, exit status and signals. What it is spared is
the interpreter's start and the imports: some 130 such processes spent 1–1.3 s of CPU each
importing SQLAlchemy, python-telegram-bot and the rest, a third of the suite's CPU on a 2-core
machine. A "zygote" process (one a run, started by its first process before the xdist workers)
imports them once and forks a child for each command, which runs `bot.cli` as
`python -m bot.cli` runs it (runpy, as __main__).

Only an exact `[sys.executable, "-m", "bot.cli", …]` with nothing unusual (no preexec_fn,
pass_fds, user or group; the same PYTHON* and locale variables the zygote started with) is
forked; every other command (`-X importtime`, another locale, `unshare …`), and every command
when CLUSTERBOT_TEST_COLD=1 is set, starts cold as before: `.ci/run` runs the suite warm, and
the tests that start the product cold keep its start itself tested.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COLD = "CLUSTERBOT_TEST_COLD"  # set: every process of the product starts from nothing
SHARED = "CLUSTERBOT_TEST_ZYGOTE"  # the run's zygote's socket, inherited by its xdist workers
# The environment as `install` found it, before any test changed it: the zygote's, and what a
# command's start variables are compared with.
_BASE_ENV: dict[str, str] = {}
# What the zygote imports: each command's own heavy imports (what `run` imports on demand, and
# what its libraries import when they first serve: uvicorn's protocols, httpx's transport).
PRELOAD = ("bot.cli", "bot.commands.chat", "bot.commands.evaluate", "bot.commands.serve", "bot.commands.web",
           "bot.commands.wecom", "bot.commands.dingtalk", "bot.commands.form", "bot.terminal", "bot.telegram",
           "bot.web", "bot.wecom", "bot.dingtalk", "bot.im_port", "bot.logs", "storage.db", "storage.migrate",
           "sqlite3", "babel.dates", "babel.lists", "babel.numbers", "httpcore", "anyio", "websockets.server",
           "uvicorn.loops.asyncio", "uvicorn.lifespan.on", "uvicorn.protocols.http.h11_impl",
           "uvicorn.protocols.websockets.websockets_sansio_impl")


def _start_environment(env: dict) -> dict:
    """The variables read once as the interpreter starts (its flags, paths, locale): a child
    forked from the zygote has the zygote's, so only a command with the same is forked."""
    return {k: v for k, v in env.items() if k.startswith(("PYTHON", "LC_")) or k in ("LANG", "LANGUAGE")}


# --- the test's side ---------------------------------------------------------------------------

_ColdPopen = subprocess.Popen


class _Zygote:
    """The run's warm interpreter: started by the run's first process (`start`), which its
    xdist workers find by SHARED; a process without one starts its own at its first use."""

    def __init__(self, path: str | None = None) -> None:
        self.process = None
        self.path = path or str(Path(_BASE_ENV.get("TMPDIR") or "/tmp") / f"zygote-{os.getpid()}.sock")
        if path is None:  # its standard input is how it knows this process is gone (end of file: it exits)
            self.process = _ColdPopen([sys.executable, __file__, self.path], cwd=ROOT, env=_BASE_ENV,
                                      stdin=subprocess.PIPE, close_fds=True)

    def _connect(self) -> socket.socket:
        """A connection, once the zygote listens (after its imports: a second or two)."""
        deadline = time.monotonic() + 120
        while True:
            conn = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            try:
                conn.connect(self.path)
                return conn
            except (FileNotFoundError, ConnectionRefusedError):
                conn.close()
                if (self.process and self.process.poll() is not None) or time.monotonic() > deadline:
                    raise RuntimeError("the zygote did not start") from None
                time.sleep(0.01)  # polling for it to come up, bounded by the deadline

    def spawn(self, request: dict, fds: list[int]) -> tuple[int, socket.socket]:
        conn = self._connect()
        socket.send_fds(conn, [json.dumps(request).encode()], fds)
        reply = conn.recv(64)
        if not reply:
            conn.close()
            raise OSError("the zygote did not fork")
        return int(reply), conn


_zygote: list[_Zygote] = []
_zygote_lock = threading.Lock()


def _the_zygote() -> _Zygote:
    with _zygote_lock:
        if not _zygote:
            _zygote.append(_Zygote(os.environ.get(SHARED)))
        return _zygote[0]


def start() -> None:
    """The run's zygote started now, its imports made while the workers start and collect, and
    one for the whole run (each worker's own cost 2 s of CPU more)."""
    if subprocess.Popen is WarmPopen and not os.environ.get(SHARED):
        os.environ[SHARED] = _the_zygote().path


def _request(args, env, cwd, new_session: bool, tty: bool = False) -> dict | None:
    """What the zygote is asked to run, or None for a command it does not run (started cold)."""
    if not isinstance(args, (list, tuple)) or not all(isinstance(a, (str, bytes, os.PathLike)) for a in args):
        return None
    argv = [os.fsdecode(a) for a in args]
    environment = {os.fsdecode(k): os.fsdecode(v) for k, v in (os.environ if env is None else env).items()}
    if argv[:3] != [sys.executable, "-m", "bot.cli"]:
        return None
    if _start_environment(environment) != _start_environment(_BASE_ENV):  # not what the zygote started with
        return None
    return {"argv": argv[3:], "cwd": os.path.abspath(os.fsdecode(cwd) if cwd is not None else os.getcwd()),
            "env": environment, "new_session": new_session or tty, "tty": tty}


def _status_of(conn: socket.socket, block: bool) -> int | None:
    """The wait status of a forked child as the zygote sends it when the child ends; None while
    it runs (not blocking)."""
    conn.setblocking(block)
    try:
        data = conn.recv(64)
    except BlockingIOError:
        return None
    conn.close()
    return int(data) if data else 255 << 8  # the zygote gone: a failure


class WarmPopen(subprocess.Popen):
    """subprocess.Popen, with the product's command forked from the zygote: waited for through
    the zygote (it is the zygote's child), killed and signalled by its pid as any process."""

    _warm: socket.socket | None = None
    _warm_status: int | None = None

    def _execute_child(self, args, executable, preexec_fn, close_fds, pass_fds, cwd, env, startupinfo,
                       creationflags, shell, p2cread, p2cwrite, c2pread, c2pwrite, errread, errwrite,
                       restore_signals, gid, gids, uid, umask, start_new_session, process_group):
        request = _request(args, env, cwd, start_new_session)
        if (request is None or executable is not None or shell or preexec_fn is not None or pass_fds
                or not close_fds or gid is not None or gids is not None or uid is not None or umask >= 0
                or process_group not in (None, -1)):
            return super()._execute_child(args, executable, preexec_fn, close_fds, pass_fds, cwd, env, startupinfo,
                                          creationflags, shell, p2cread, p2cwrite, c2pread, c2pwrite, errread,
                                          errwrite, restore_signals, gid, gids, uid, umask, start_new_session,
                                          process_group)
        sys.audit("subprocess.Popen", sys.executable, args, cwd, env)
        fds = [p2cread if p2cread != -1 else 0, c2pwrite if c2pwrite != -1 else 1, errwrite if errwrite != -1 else 2]
        try:
            self.pid, self._warm = _the_zygote().spawn(request, fds)
            self._child_created = True
        finally:
            self._close_pipe_fds(p2cread, p2cwrite, c2pread, c2pwrite, errread, errwrite)

    def _warm_waitpid(self, pid: int, flags: int) -> tuple[int, int]:
        """os.waitpid of a forked child."""
        if self._warm_status is None:
            self._warm_status = _status_of(self._warm, block=not flags & os.WNOHANG)
            if self._warm_status is None:
                return 0, 0
        return pid, self._warm_status

    def _internal_poll(self, _deadstate=None, **kwargs):
        if self._warm is not None:
            kwargs["_waitpid"] = self._warm_waitpid
        return super()._internal_poll(_deadstate, **kwargs)

    def _try_wait(self, wait_flags):
        if self._warm is not None:
            return self._warm_waitpid(self.pid, wait_flags)
        return super()._try_wait(wait_flags)


def _pexpect_spawn():
    """pexpect.spawn, with the product's command forked from the zygote on the pseudo-terminal
    (its controlling terminal, in a session of its own, as pty.fork makes it)."""
    import pexpect
    import ptyprocess
    from ptyprocess.ptyprocess import _setecho, _setwinsize

    class WarmPty(ptyprocess.PtyProcess):
        _warm: socket.socket

        @classmethod
        def spawn_warm(cls, request: dict, echo: bool = True, dimensions=(24, 80)) -> "WarmPty":
            master, terminal = os.openpty()
            try:
                _setwinsize(terminal, *dimensions)
                if not echo:
                    _setecho(terminal, False)
                pid, conn = _the_zygote().spawn(request, [terminal] * 3)
            finally:
                os.close(terminal)
            inst = cls(pid, master)
            inst._warm, inst.argv, inst.env, inst.launch_dir = conn, request["argv"], request["env"], request["cwd"]
            return inst

        def _ended(self, status: int) -> None:
            self.status, self.terminated = status, True
            self.exitstatus = os.WEXITSTATUS(status) if os.WIFEXITED(status) else None
            self.signalstatus = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None

        def isalive(self) -> bool:
            if self.terminated:
                return False
            status = _status_of(self._warm, block=self.flag_eof)  # at EOF it is ending: waited for
            if status is None:
                return True
            self._ended(status)
            return False

        def wait(self):
            if not self.terminated:
                self._ended(_status_of(self._warm, block=True))
            return self.exitstatus

    class WarmSpawn(pexpect.spawn):
        def _spawnpty(self, args, **kwargs):
            request = _request(args, self.env, self.cwd, new_session=True, tty=True)
            if request is None or kwargs.get("preexec_fn") is not None or kwargs.get("pass_fds"):
                return super()._spawnpty(args, **kwargs)
            return WarmPty.spawn_warm(request, kwargs.get("echo", True), kwargs.get("dimensions", (24, 80)))

    return WarmSpawn


def _can_fork_warm() -> bool:
    """Linux 5.3 or later (the zygote waits for its children by pidfd); else every start is cold."""
    try:
        os.close(os.pidfd_open(os.getpid()))
        return True
    except (AttributeError, OSError):
        return False


def install() -> None:
    """Every `subprocess.Popen` (and `subprocess.run`) and `pexpect.spawn` of this test process
    through the zygote where it runs the product; the zygote started (at its first use) with
    the environment as it is now, before any test changes it."""
    if not os.environ.get(COLD) and _can_fork_warm():
        import pexpect

        _BASE_ENV.update(os.environ)
        subprocess.Popen = WarmPopen
        pexpect.spawn = _pexpect_spawn()


# --- the zygote's side -------------------------------------------------------------------------

def _serve(path: str) -> None:
    import importlib
    import selectors

    before = dict(os.environ)
    for name in PRELOAD:
        importlib.import_module(name)
    sys.modules.pop("bot.cli")  # run as __main__ by each child, as `-m` runs it: not imported
    # what the imports set (PTB_TIMEDELTA): a child's environment has it, as an import would set it
    added = {k: v for k, v in os.environ.items() if k not in before}
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    listener.bind(path)
    listener.listen(64)
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ)
    selector.register(sys.stdin.buffer, selectors.EVENT_READ)
    children: dict[int, tuple[int, socket.socket]] = {}  # pidfd: (pid, its test's connection)
    try:
        while True:
            for key, _ in selector.select():
                if key.fileobj is listener:
                    conn, _ = listener.accept()
                    message, fds, _, _ = socket.recv_fds(conn, 1 << 20, 3)
                    pid = os.fork()
                    if pid == 0:  # the zygote's own files closed: none is the command's
                        selector.close()
                        for sock in (listener, conn, *(c for _, c in children.values())):
                            os.close(sock.detach())
                        for fd in (*children, 0):
                            os.close(fd)
                        _child(json.loads(message), fds, added)  # never returns
                    for fd in fds:
                        os.close(fd)
                    conn.send(str(pid).encode())
                    pidfd = os.pidfd_open(pid)
                    children[pidfd] = pid, conn
                    selector.register(pidfd, selectors.EVENT_READ)
                elif key.fileobj is sys.stdin.buffer:
                    if not os.read(0, 4096):
                        return  # the test process is gone
                else:
                    pidfd = key.fileobj
                    pid, conn = children.pop(pidfd)
                    selector.unregister(pidfd)
                    os.close(pidfd)
                    _, status = os.waitpid(pid, 0)
                    try:
                        conn.send(str(status).encode())
                    except OSError:  # the test no longer waits
                        pass
                    conn.close()
    finally:
        Path(path).unlink(missing_ok=True)  # or removed with the run's folder already


def _child(request: dict, fds: list[int], added: dict) -> None:
    """The forked child: the command's streams, folder, environment and argv, then `bot.cli` as
    `python -m bot.cli` runs it, and its end as the interpreter's (exit status, threads joined,
    atexit, streams flushed)."""
    import atexit
    import runpy
    import signal
    import tempfile
    import traceback

    try:
        if request["new_session"]:
            os.setsid()
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
        for fd in set(fds) - {0, 1, 2}:
            os.close(fd)
        if request["tty"]:  # the terminal its controlling terminal, as pty.fork makes it
            import fcntl
            import termios

            fcntl.ioctl(0, termios.TIOCSCTTY, 0)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update({**added, **request["env"]})
        time.tzset()
        tempfile.tempdir = None  # TMPDIR as this command's environment has it
        sys.stdin, sys.stdout, sys.stderr = sys.__stdin__, sys.__stdout__, sys.__stderr__ = _stdio()
        sys.argv = [str(ROOT / "bot" / "cli.py"), *request["argv"]]
        sys.path[0] = request["cwd"]  # as `python -m` puts it
        signal.signal(signal.SIGINT, signal.default_int_handler)
    except BaseException:
        traceback.print_exc()
        os._exit(255)
    status = 0
    try:
        runpy.run_module("bot.cli", run_name="__main__", alter_sys=True)
    except SystemExit as exc:
        if exc.code is None:
            status = 0
        elif isinstance(exc.code, int):
            status = exc.code & 0xFF
        else:
            print(exc.code, file=sys.stderr)
            status = 1
    except KeyboardInterrupt:  # as the interpreter: the traceback, then killed by SIGINT
        traceback.print_exc()
        status = -signal.SIGINT
    except BaseException:
        sys.excepthook(*sys.exc_info())
        status = 1
    try:
        threading._shutdown()  # non-daemon threads joined, as at the interpreter's end
    except BaseException:
        traceback.print_exc()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            if status == 0:
                status = 120  # the interpreter's status when its output could not be flushed
    if status < 0:
        signal.signal(-status, signal.SIG_DFL)
        os.kill(os.getpid(), -status)
    os._exit(status)


def _stdio():
    """Standard streams as the interpreter makes them (Python/pylifecycle.c create_stdio): newline
    "\\n" (no translation); stdout and stderr unbuffered under -u or PYTHONUNBUFFERED, else
    line-buffered on a terminal (stderr always); the zygote's encoding and error handlers (the
    same locale and PYTHON* variables)."""
    import io

    def stream(fd: int, mode: str, errors: str):
        unbuffered = _UNBUFFERED and mode == "wb"
        binary = io.open(fd, mode, buffering=0 if unbuffered else -1, closefd=False)
        return io.TextIOWrapper(binary, encoding=_ENCODING, errors=errors, newline="\n",
                                line_buffering=not unbuffered and (os.isatty(fd) or fd == 2),
                                write_through=unbuffered)

    return (stream(0, "rb", _STDIN_ERRORS), stream(1, "wb", _STDOUT_ERRORS), stream(2, "wb", "backslashreplace"))


if __name__ == "__main__":
    sys.path[0] = str(ROOT)  # as `python -m bot.cli` from the repository finds the product
    _ENCODING, _STDIN_ERRORS, _STDOUT_ERRORS = sys.stdout.encoding, sys.stdin.errors, sys.stdout.errors
    _UNBUFFERED = sys.stdout.write_through  # -u or PYTHONUNBUFFERED, which the zygote shares
    _serve(sys.argv[1])
