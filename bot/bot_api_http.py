"""The Bot API's HTTP client: python-telegram-bot's `BaseRequest` (its request building,
its answers and errors) on asyncio's own streams, HTTP/1.1 on kept-alive connections.

PTB's default client, httpx over httpcore, anyio and h11, spends 0.5 to 1 ms of CPU on a
call, as much as the dialog's turn, for what every call here is: one small form POST and
one JSON answer (bench/telegram_bench.py). An upload (a document, multipart) still goes
through PTB's `HTTPXRequest`, and so does everything when a proxy is set in the
environment (`client`): httpx reads HTTPS_PROXY and the others, this client does not.
"""

from __future__ import annotations

import asyncio
import ssl
import urllib.request
from urllib.parse import urlsplit

from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, HTTPXRequest

_Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]


class Disconnected(ConnectionError):
    """The server closed the connection before its answer began."""


def client(**options) -> BaseRequest:
    """This module's client, or PTB's own when the environment sets a proxy."""
    return HTTPXRequest(**options) if urllib.request.getproxies() else StreamRequest(**options)


class StreamRequest(BaseRequest):
    """At most `connection_pool_size` calls at once, each on a connection of its own;
    a call that finds none free waits up to `pool_timeout`. Timeouts raise `TimedOut`, a
    broken connection or answer `NetworkError`, as PTB's own client does."""

    def __init__(self, connection_pool_size: int = 1, read_timeout: float | None = 5.0,
                 write_timeout: float | None = 5.0, connect_timeout: float | None = 5.0,
                 pool_timeout: float | None = 1.0):
        self.options = dict(connection_pool_size=connection_pool_size, read_timeout=read_timeout,
                            write_timeout=write_timeout, connect_timeout=connect_timeout, pool_timeout=pool_timeout)
        self.slots = asyncio.Semaphore(connection_pool_size)
        self.idle: list[tuple[tuple, _Connection]] = []  # (scheme, host, port), its connection
        self._uploads: HTTPXRequest | None = None
        self._tls: ssl.SSLContext | None = None

    @property
    def read_timeout(self) -> float | None:
        return self.options["read_timeout"]

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        while self.idle:
            self.idle.pop()[1][1].close()
        if self._uploads is not None:
            await self._uploads.shutdown()

    def _default(self, value, name: str):
        return self.options[name] if value is BaseRequest.DEFAULT_NONE else value

    async def do_request(self, url, method, request_data=None, read_timeout=BaseRequest.DEFAULT_NONE,
                         write_timeout=BaseRequest.DEFAULT_NONE, connect_timeout=BaseRequest.DEFAULT_NONE,
                         pool_timeout=BaseRequest.DEFAULT_NONE) -> tuple[int, bytes]:
        if request_data is not None and request_data.contains_files:
            if self._uploads is None:
                self._uploads = HTTPXRequest(**self.options)
                await self._uploads.initialize()
            return await self._uploads.do_request(url, method, request_data, read_timeout, write_timeout,
                                                  connect_timeout, pool_timeout)
        body = request_data.url_encoded_parameters().encode() if request_data is not None else b""
        timeouts = (self._default(read_timeout, "read_timeout"), self._default(write_timeout, "write_timeout"),
                    self._default(connect_timeout, "connect_timeout"))
        if self.slots.locked():
            try:
                await asyncio.wait_for(self.slots.acquire(), self._default(pool_timeout, "pool_timeout"))
            except TimeoutError:
                raise TimedOut("Pool timeout: every connection is busy; the request was not sent") from None
        else:
            await self.slots.acquire()
        try:
            return await self._call(urlsplit(url), method, body, *timeouts)
        finally:
            self.slots.release()

    async def _call(self, url, method: str, body: bytes, read_timeout, write_timeout, connect_timeout):
        origin = (url.scheme, url.hostname, url.port or (443 if url.scheme == "https" else 80))
        head = (f"{method} {url.path}{'?' + url.query if url.query else ''} HTTP/1.1\r\n"
                f"Host: {url.netloc}\r\nUser-Agent: {self.USER_AGENT}\r\nAccept: */*\r\n"
                + ("Content-Type: application/x-www-form-urlencoded\r\n" if body else "")
                + f"Content-Length: {len(body)}\r\n\r\n").encode("latin-1") + body
        kept = self._take(origin)
        try:
            if kept is not None:
                try:
                    return await self._exchange(origin, kept, head, read_timeout, write_timeout)
                except Disconnected:
                    # Closed without an answer, as a server closes a connection left idle
                    # (the usual case; a failure here would be sent again later anyway): once more, anew.
                    pass
            connection = await asyncio.wait_for(self._connect(origin), connect_timeout)
            return await self._exchange(origin, connection, head, read_timeout, write_timeout)
        except TimeoutError as exc:
            raise TimedOut from exc
        except (OSError, EOFError, ValueError) as exc:  # ssl.SSLError is an OSError; EOFError: IncompleteReadError
            raise NetworkError(f"{type(exc).__name__}: {exc}") from exc

    def _take(self, origin) -> _Connection | None:
        """An idle connection to `origin` that the server has not closed meanwhile (the
        newest first; those it closed are let go on the way)."""
        for i in range(len(self.idle) - 1, -1, -1):
            found_origin, (reader, writer) = self.idle[i]
            if found_origin != origin:
                continue
            del self.idle[i]
            if not reader.at_eof() and not writer.is_closing():
                return reader, writer
            writer.close()
        return None

    async def _connect(self, origin) -> _Connection:
        scheme, host, port = origin
        if scheme != "https":
            return await asyncio.open_connection(host, port)
        if self._tls is None:  # made on first use: some 30 ms of every start otherwise
            import certifi  # httpx's certificates, as PTB's own client uses them

            self._tls = ssl.create_default_context(cafile=certifi.where())
        return await asyncio.open_connection(host, port, ssl=self._tls, server_hostname=host)

    async def _exchange(self, origin, connection: _Connection, head: bytes, read_timeout, write_timeout):
        """One request and its answer; the connection is kept for the next call when both
        sides allow it, else (and after any failure) closed."""
        reader, writer = connection
        kept = False
        try:
            writer.write(head)
            async with asyncio.timeout(write_timeout):
                await writer.drain()
            async with asyncio.timeout(read_timeout):
                status, body, kept = await _answer(reader)
            return status, body
        finally:
            if kept:
                self.idle.append((origin, connection))
            else:
                writer.close()


async def _answer(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    """An HTTP/1.1 answer: status, body (by Content-Length, chunked, or to the end), and
    whether the connection may be used again."""
    line = await reader.readline()
    if not line:
        raise Disconnected("the server closed the connection without an answer")
    version, status = line.split(None, 2)[:2]
    headers = {}
    while (line := await reader.readline()) not in (b"\r\n", b"\n"):
        if not line:
            raise EOFError("the answer's headers were cut short")
        name, _, value = line.partition(b":")
        headers[name.strip().lower()] = value.strip().lower()
    kept = version == b"HTTP/1.1" and headers.get(b"connection") != b"close"
    code = int(status)
    if code in (204, 304) or code < 200:
        body = b""
    elif headers.get(b"transfer-encoding", b"").endswith(b"chunked"):
        body = await _chunks(reader)
    elif b"content-length" in headers:
        body = await reader.readexactly(int(headers[b"content-length"]))
    else:
        body, kept = await reader.read(), False
    return code, body, kept


async def _chunks(reader: asyncio.StreamReader) -> bytes:
    parts = []
    while size := int((await reader.readline()).split(b";", 1)[0], 16):
        parts.append(await reader.readexactly(size))
        await reader.readexactly(2)  # the chunk's CRLF
    while (await reader.readline()) not in (b"\r\n", b"\n", b""):
        pass  # trailers
    return b"".join(parts)
