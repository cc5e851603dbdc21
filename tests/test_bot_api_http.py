"""The Bot API's HTTP client (bot/bot_api_http.py) against a bare HTTP server on 127.0.0.1
that answers as servers and proxies do: kept-alive, chunked, closing, slow, gone."""

from __future__ import annotations

import asyncio

import pytest
from telegram.error import NetworkError, TimedOut
from telegram.request import HTTPXRequest, RequestData
from telegram.request._requestparameter import RequestParameter

from bot.bot_api_http import StreamRequest, client


class Server:
    """Reads each request whole; `answer(request_number, connection_number)` gives the
    raw bytes to write back (None: close without answering; a float: wait that long first;
    a tuple (bytes, "close"): close after writing them)."""

    def __init__(self, answer):
        self.answer = answer
        self.requests: list[tuple[bytes, bytes]] = []  # (head, body)
        self.connections = 0

    async def __aenter__(self):
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/bot123:abc/sendMessage"
        return self

    async def __aexit__(self, *exc):
        self.server.close()

    async def _serve(self, reader, writer):
        self.connections += 1
        number = self.connections
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = int(next((line.split(b":")[1] for line in head.split(b"\r\n")
                                   if line.lower().startswith(b"content-length")), b"0"))
                self.requests.append((head, await reader.readexactly(length)))
                answer = self.answer(len(self.requests), number)
                if isinstance(answer, float):
                    await asyncio.sleep(answer)
                    answer = ok(b'{"ok":true,"result":true}')
                if answer is None:
                    break
                closing = isinstance(answer, tuple)
                writer.write(answer[0] if closing else answer)
                await writer.drain()
                if closing:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        writer.close()


def ok(body: bytes, *headers: str) -> bytes:
    extra = "".join(f"{h}\r\n" for h in headers)
    return f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n{extra}\r\n".encode() + body


def params(**values) -> RequestData:
    return RequestData([RequestParameter.from_input(name, value) for name, value in values.items()])


def run(coro):
    return asyncio.run(coro)


def test_calls_share_one_kept_alive_connection_and_send_ptbs_form_encoding():
    async def go():
        async with Server(lambda n, c: ok(b'{"ok":true,"result":%d}' % n)) as server:
            request = StreamRequest()
            first = await request.do_request(server.url, "POST", params(chat_id=7, text="你好 & more"))
            second = await request.do_request(server.url, "POST", params(chat_id=7, text="again"))
            await request.shutdown()
            return server, first, second
    server, first, second = run(go())
    assert first == (200, b'{"ok":true,"result":1}') and second == (200, b'{"ok":true,"result":2}')
    assert server.connections == 1
    head, body = server.requests[0]
    assert head.startswith(b"POST /bot123:abc/sendMessage HTTP/1.1\r\n")
    assert b"content-type: application/x-www-form-urlencoded" in head.lower()
    assert body == params(chat_id=7, text="你好 & more").url_encoded_parameters().encode()


def test_a_chunked_answer_is_joined_and_the_connection_kept():
    chunked = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
               b"5\r\n{\"ok\"\r\n11;ext=1\r\n:true,\"result\":1}\r\n0\r\n\r\n")

    async def go():
        async with Server(lambda n, c: chunked) as server:
            request = StreamRequest()
            answers = [await request.do_request(server.url, "POST", params(a=1)) for _ in range(2)]
            return server, answers
    server, answers = run(go())
    assert answers == [(200, b'{"ok":true,"result":1}')] * 2
    assert server.connections == 1


def test_connection_close_and_an_answer_without_length_are_not_reused():
    def answer(n, c):
        if n == 1:
            return ok(b'{"ok":true,"result":1}', "Connection: close")
        return b"HTTP/1.0 502 Bad Gateway\r\nContent-Type: text/html\r\n\r\n<html>proxy</html>", "close"

    async def go():
        async with Server(answer) as server:
            request = StreamRequest()
            first = await request.do_request(server.url, "POST", params(a=1))
            second = await request.do_request(server.url, "POST", params(a=1))
            third = await request.do_request(server.url, "POST", params(a=1))
            return server, first, second, third
    server, first, second, third = run(go())
    assert first[0] == 200
    assert second == (502, b"<html>proxy</html>") == third  # the body read to the end of the connection
    assert server.connections == 3


def test_a_kept_connection_the_server_dropped_is_replaced_once_without_a_failure():
    async def go():
        # The first connection answers once, then is dropped at the next request, unanswered.
        async with Server(lambda n, c: ok(b'{"ok":true,"result":%d}' % n) if c > 1 or n == 1 else None) as server:
            request = StreamRequest()
            first = await request.do_request(server.url, "POST", params(a=1))
            second = await request.do_request(server.url, "POST", params(a=2))
            return server, first, second
    server, first, second = run(go())
    assert first == (200, b'{"ok":true,"result":1}') and second == (200, b'{"ok":true,"result":3}')
    assert server.connections == 2


def test_a_new_connection_closed_unanswered_is_a_network_error():
    async def go():
        async with Server(lambda n, c: None) as server:
            with pytest.raises(NetworkError):
                await StreamRequest().do_request(server.url, "POST", params(a=1))
    run(go())


def test_timeouts_and_refusals_raise_what_ptbs_own_client_raises():
    async def go():
        async with Server(lambda n, c: 1.0) as server:
            request = StreamRequest(connection_pool_size=1)
            with pytest.raises(TimedOut):
                await request.do_request(server.url, "POST", params(a=1), read_timeout=0.2)
            # The one connection busy with a slow call: the next waits for it, then gives up.
            slow = asyncio.ensure_future(request.do_request(server.url, "POST", params(a=2)))
            await asyncio.sleep(0.05)
            with pytest.raises(TimedOut, match="Pool timeout"):
                await request.do_request(server.url, "POST", params(a=3), pool_timeout=0.1)
            assert (await slow)[0] == 200
            port = server.server.sockets[0].getsockname()[1]
        with pytest.raises(NetworkError):  # nobody listens there any more
            await StreamRequest().do_request(f"http://127.0.0.1:{port}/x", "POST", params(a=1))
    run(go())


def test_a_proxy_in_the_environment_gets_ptbs_own_client(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:3128")
    assert isinstance(client(connection_pool_size=2), HTTPXRequest)
    monkeypatch.delenv("HTTPS_PROXY")
    for name in ("https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    assert isinstance(client(connection_pool_size=2), StreamRequest)


def self_signed(tmp_path):
    """A certificate for 127.0.0.1 signed by itself, and its key, as files."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


def test_https_verifies_the_servers_certificate(tmp_path):
    import ssl

    cert_file, key_file = self_signed(tmp_path)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert_file, key_file)

    async def go():
        async def serve(reader, writer):
            try:
                await reader.readuntil(b"\r\n\r\n")
                writer.write(ok(b'{"ok":true,"result":1}'))
                await writer.drain()
            except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
                pass
            writer.close()
        server = await asyncio.start_server(serve, "127.0.0.1", 0, ssl=server_tls)
        url = f"https://127.0.0.1:{server.sockets[0].getsockname()[1]}/bot1:a/getMe"
        with pytest.raises(NetworkError, match="CERTIFICATE_VERIFY_FAILED"):  # not among the trusted roots
            await StreamRequest().do_request(url, "POST", params(a=1))
        trusting = StreamRequest()
        trusting._tls = ssl.create_default_context(cafile=cert_file)  # as if a trusted root had signed it
        answer = await trusting.do_request(url, "POST", params(a=1))
        server.close()
        return answer
    assert run(go()) == (200, b'{"ok":true,"result":1}')
