"""What the WeCom and DingTalk channels share: one HTTP session, and an access token kept
until shortly before it expires (by the clock), fetched again when the platform says it is
no longer valid."""

from __future__ import annotations

import datetime as dt
import logging

import aiohttp

from dialogs.messages import MAX_FILE

log = logging.getLogger(__name__)

TOKEN_MARGIN = dt.timedelta(minutes=5)  # renew this long before the platform's expiry
TIMEOUT = aiohttp.ClientTimeout(total=15)


class PlatformApi:
    def __init__(self, clock):
        self.clock = clock
        self._session: aiohttp.ClientSession | None = None
        self._token: str | None = None
        self._token_until = dt.datetime.min.replace(tzinfo=dt.timezone.utc)

    async def fetch_token(self) -> tuple[str, int]:
        """A new access token and how many seconds it is valid."""
        raise NotImplementedError

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=TIMEOUT)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def access_token(self) -> str:
        if self._token and self.clock.now() < self._token_until:
            return self._token
        token, seconds = await self.fetch_token()
        self._token, self._token_until = token, self.clock.now() + dt.timedelta(seconds=seconds) - TOKEN_MARGIN
        return token

    def forget_token(self) -> None:
        self._token = None

    def token_expired(self, exc: Exception) -> bool:
        """Whether the platform's error says the access token is no longer valid."""
        return False

    async def authorized(self, call):
        """`call(token)`, and once more with a new token when the platform says the one it was
        given expired: a token can lapse before its `expires_in` (renewed elsewhere, revoked),
        and a user's file or a reply's later part must not be lost or sent twice for that."""
        try:
            return await call(await self.access_token())
        except Exception as exc:  # noqa: BLE001  re-raised unless it is the token's expiry
            if not self.token_expired(exc):
                raise
        self.forget_token()
        return await call(await self.access_token())

    async def upload(self, url: str, params: dict, filename: str, content: bytes) -> dict:
        """A file as the `media` field of a multipart form (both platforms' media/upload); the
        file name is sent as UTF-8, which they read, not %-quoted."""
        form = aiohttp.FormData(quote_fields=False)
        form.add_field("media", content, filename=filename, content_type="application/octet-stream")
        async with self.session.post(url, params=params, data=form) as r:
            return await r.json(content_type=None)


class TooLarge(Exception):
    """A user's file over MAX_FILE: not taken, and the dialog says so (Incoming.unreadable)."""


async def read_file(response: aiohttp.ClientResponse, what: str) -> bytes:
    """The body of a user's file; TooLarge (logged) once it passes MAX_FILE: never read whole
    (nor at all when its length says so)."""
    content = b""
    if (response.content_length or 0) <= MAX_FILE:
        async for chunk in response.content.iter_chunked(1 << 16):
            content += chunk
            if len(content) > MAX_FILE:
                break
        else:
            return content
    log.warning("%s over %s bytes: not taken", what, MAX_FILE)
    raise TooLarge(what)
