"""The WeCom (企业微信) channel, callback mode: a self-built app's messages come to our URL
signed and AES-encrypted; replies go out through the app's `message/send`.

Thin: `to_incoming` turns a decrypted callback into an `Incoming`, `WeComChannel.send`
renders one neutral `Reply` (text, a `template_card` of buttons for choices, a file by
media upload). The cryptography is wechatpy's (`WeChatCrypto`: SHA1 signature, AES-256-CBC,
PKCS#7, the corp id checked inside the plaintext). The API base URL is configurable: a
私有化部署 or 政务微信 installation serves the same API at its own address. Neither the secret
nor an access token is ever logged (they travel in query strings: no URL is logged).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import uuid
from dataclasses import dataclass

import aiohttp
import xmltodict
from aiohttp import web
from wechatpy.enterprise.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidSignatureException

from bot.channel import Later, Outcome, Refused, Sent, send_parts
from bot.openapi import PlatformApi, TooLarge, read_file
from bot.render import clause_cut, numbered, prompt_line, split_bytes
from dialogs.messages import Attachment, Incoming, Reply

log = logging.getLogger(__name__)

CHANNEL = "wecom"
DEFAULT_API = "https://qyapi.weixin.qq.com"
TEXT_BYTES = 2048      # message/send truncates a text beyond 2048 bytes
CARD_BUTTONS = 6       # a button_interaction card holds at most six buttons
TITLE_CHARS = 26       # main_title.title: 建议不超过26个字 (a Latin letter is half one); longer is cut by the client
EXPIRED_TOKEN = {40001, 40014, 42001}   # invalid or expired access_token: fetch a new one
# Try again later: the system busy (seconds), or a frequency limit (WeCom counts per minute).
BUSY = {-1: 2.0, 45009: 60.0, 45033: 60.0, 45047: 60.0}


@dataclass(frozen=True)
class WeComConfig:
    corp_id: str
    agent_id: int
    secret: str            # the app's Secret (gettoken)
    token: str             # the callback Token (signature)
    aes_key: str           # the callback EncodingAESKey (43 characters)
    api_base_url: str = DEFAULT_API


class ApiError(Exception):
    def __init__(self, errcode: int, errmsg: str = ""):
        super().__init__(f"errcode {errcode}: {errmsg}")
        self.errcode = errcode


class TokenError(ApiError):
    """gettoken refused (a wrong corp id or secret): the replies wait, nothing is dropped."""


class NotMember(Exception):
    """message/send named the user invalid: not (or no longer) in the app's visible range."""


# --- incoming ------------------------------------------------------------------------------

# The fields read of a callback: each is text in what WeCom sends (xmltodict makes a nested
# element a dict, a repeated one a list, which no Incoming can hold).
FIELDS = ("FromUserName", "MsgType", "Content", "MsgId", "MediaId", "Event", "EventKey", "TaskId", "CreateTime")


def message_key(message: dict) -> str:
    """A message's id for handling it once: its MsgId; without one, a digest of the whole
    message (sender, CreateTime, content): WeCom's retries of a callback carry the same
    message and stay one, two different messages are two (a shared `msg:None` dropped the
    second). Only the same text sent twice within one second would be taken once."""
    if message.get("MsgId"):
        return f"msg:{message['MsgId']}"
    digest = hashlib.sha256(json.dumps(message, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    return f"msg:sha256:{digest[:32]}"


def to_incoming(message: dict, attachment: Attachment | None = None,
                unreadable: str | None = None) -> Incoming | None:
    """A decrypted callback (the XML as a dict) as an Incoming; None for an event that is no
    message of the user's (entering the app). A file message comes with its content,
    downloaded by the caller, or `unreadable` (too_large) when it could not be taken; a
    picture, voice note, video, location or link is `unreadable` (unsupported): the dialog
    says what it reads."""
    user = message.get("FromUserName") or ""
    kind = message.get("MsgType")
    if not user:
        return None
    if kind == "text":
        return Incoming(CHANNEL, user, user, text=message.get("Content") or "",
                        message_id=message_key(message))
    if kind == "file" and (attachment is not None or unreadable):
        return Incoming(CHANNEL, user, user, attachment=attachment, unreadable=unreadable,
                        message_id=message_key(message))
    if kind == "event" and message.get("Event") == "template_card_event":
        # A card button: its key is the reply's button data; WeCom retries a callback
        # unanswered within five seconds, so one press is recognised by its time and card.
        return Incoming(CHANNEL, user, user, button=message.get("EventKey") or "",
                        pressed=message.get("TaskId"),
                        message_id=f"card:{message.get('TaskId')}:{message.get('CreateTime')}:{message.get('EventKey')}")
    if kind == "event" and message.get("Event") == "subscribe":
        return Incoming(CHANNEL, user, user, text="/start", message_id=f"subscribe:{user}:{message.get('CreateTime')}")
    if kind and kind not in ("event", "file"):  # an app's chat is private: each is answered
        return Incoming(CHANNEL, user, user, unreadable="unsupported", message_id=message_key(message))
    return None


class Callback:
    """The callback URL: GET is WeCom's URL check (echo the decrypted echostr), POST a message.
    A bad signature is answered 403, anything unreadable 400, never with a traceback."""

    def __init__(self, config: WeComConfig, receive, download=None):
        self.crypto = WeChatCrypto(config.token, config.aes_key, config.corp_id)
        self.receive = receive  # async (Incoming) -> None: returns once the turn is committed
        self.download = download  # async (media_id) -> Attachment | None: a file the user sent

    async def verify(self, request: web.Request) -> web.Response:
        q = request.query
        try:
            echo = self.crypto.check_signature(q["msg_signature"], q["timestamp"], q["nonce"], q["echostr"])
        except KeyError as exc:
            return web.Response(status=400, text=f"missing query parameter {exc}")
        except InvalidSignatureException:
            log.warning("URL check with a bad signature refused")
            return web.Response(status=403, text="bad signature")
        except Exception as exc:  # noqa: BLE001  a garbled echostr
            log.warning("URL check not decryptable: %s", type(exc).__name__)
            return web.Response(status=400, text="echostr not decryptable")
        return web.Response(text=echo.decode() if isinstance(echo, bytes) else echo)

    async def message(self, request: web.Request) -> web.Response:
        q = request.query
        body = await request.text()
        try:
            plain = self.crypto.decrypt_message(body, q["msg_signature"], q["timestamp"], q["nonce"])
            message = xmltodict.parse(plain)["xml"]
            if not isinstance(message, dict):
                raise ValueError("no fields")
        except KeyError as exc:
            return web.Response(status=400, text=f"missing {exc}")
        except InvalidSignatureException:
            log.warning("callback with a bad signature refused")
            return web.Response(status=403, text="bad signature")
        except Exception as exc:  # noqa: BLE001  not XML, not base64, bad padding, another corp
            log.warning("callback not decryptable: %s", type(exc).__name__)
            return web.Response(status=400, text="body not decryptable")
        if nested := [name for name in FIELDS if not isinstance(message.get(name) or "", str)]:
            log.warning("callback unreadable: %s not text", ", ".join(nested))
            return web.Response(status=400, text="body unreadable")
        attachment = unreadable = None
        if message.get("MsgType") == "file" and self.download is not None:
            try:
                attachment = await self.download(message.get("MediaId") or "")
            except TooLarge:
                unreadable = "too_large"  # the dialog says so
            except (aiohttp.ClientError, asyncio.TimeoutError, ApiError) as exc:  # WeCom posts it again
                # ApiError: no access token (gettoken refused, the secret changed): not a traceback
                log.warning("file of message %s not downloaded: %s", message.get("MsgId"),
                            exc if isinstance(exc, ApiError) else type(exc).__name__)
                return web.Response(status=503, text="file not downloaded yet")
            if attachment is None and unreadable is None:
                unreadable = "not_downloaded"  # WeCom refused it (an expired media id): said, not silence
        incoming = to_incoming(message, attachment, unreadable)
        if incoming is not None:
            await self.receive(incoming)
        return web.Response(text="")  # WeCom wants an empty 200: the reply goes by message/send

    def routes(self, path: str) -> list:
        return [web.get(path, self.verify), web.post(path, self.message)]


# --- outgoing ------------------------------------------------------------------------------

def errcode_of(text: str) -> int | None:
    """The errcode of an error body (JSON), None when it is not one."""
    try:
        return int(json.loads(text).get("errcode"))
    except (ValueError, TypeError, AttributeError):
        return None


class WeComChannel(PlatformApi):
    """Renders and sends one neutral reply through message/send (the `Channel` port)."""

    name = CHANNEL

    def __init__(self, config: WeComConfig, clock):
        super().__init__(clock)
        self.config = config
        self.api = config.api_base_url.rstrip("/")

    async def fetch_token(self) -> tuple[str, int]:
        """gettoken: valid `expires_in` seconds (7200)."""
        async with self.session.get(f"{self.api}/cgi-bin/gettoken",
                                    params={"corpid": self.config.corp_id, "corpsecret": self.config.secret}) as r:
            try:
                data = await self._json(r)
            except ApiError as exc:
                raise TokenError(exc.errcode, "gettoken refused: check the corp id and the app secret") from None
        return data["access_token"], int(data.get("expires_in", 7200))

    @staticmethod
    async def _json(response: aiohttp.ClientResponse) -> dict:
        if response.status >= 500:
            raise aiohttp.ClientResponseError(response.request_info, (), status=response.status)
        data = await response.json(content_type=None)
        if data.get("errcode", 0) != 0:
            raise ApiError(int(data["errcode"]), str(data.get("errmsg", "")))
        return data

    def token_expired(self, exc: Exception) -> bool:
        return isinstance(exc, ApiError) and not isinstance(exc, TokenError) and exc.errcode in EXPIRED_TOKEN

    async def _post(self, method: str, body: dict) -> dict:
        async def call(token: str) -> dict:
            async with self.session.post(f"{self.api}/cgi-bin/{method}", params={"access_token": token},
                                         data=json.dumps(body, ensure_ascii=False).encode()) as r:
                return await self._json(r)
        return await self.authorized(call)

    async def download(self, media_id: str) -> Attachment | None:
        """A file the user sent, by media/get (None if WeCom refuses it: the dialog says it
        could not be fetched; TooLarge over MAX_FILE)."""
        async def call(token: str) -> Attachment | None:
            params = {"access_token": token, "media_id": media_id}
            async with self.session.get(f"{self.api}/cgi-bin/media/get", params=params) as r:
                if r.status >= 500:
                    raise aiohttp.ClientResponseError(r.request_info, (), status=r.status)
                if r.content_type in ("application/json", "text/plain"):  # an error, as JSON
                    error = await r.text()
                    if (code := errcode_of(error)) in EXPIRED_TOKEN:
                        raise ApiError(code, "access token expired")  # renewed and asked again
                    log.warning("media %s not downloadable: %s", media_id, error[:200])
                    return None
                content = await read_file(r, f"media {media_id}")
                filename = r.content_disposition.filename if r.content_disposition else None
                return Attachment(filename or "document", content, r.content_type or "")
        return await self.authorized(call)

    async def _upload(self, filename: str, content: bytes) -> str:
        async def call(token: str) -> str:
            data = await self.upload(f"{self.api}/cgi-bin/media/upload", {"access_token": token, "type": "file"},
                                     filename, content)
            if data.get("errcode", 0) != 0:
                raise ApiError(int(data["errcode"]), str(data.get("errmsg", "")))
            return data["media_id"]
        return await self.authorized(call)

    def render(self, user: str, reply: Reply) -> list[dict]:
        """message/send bodies: the text (in parts of at most 2048 bytes), then one card of at
        most six buttons, choices first, titled with the line they answer (`prompt_line`).
        Choices that do not fit become numbered lines (the dialog reads the number typed),
        actions that do not fit a line of the commands to type."""
        head = {"touser": user, "agentid": self.config.agent_id}
        choices = reply.choices if len(reply.choices) <= CARD_BUTTONS else []
        buttons = (choices + reply.actions)[:CARD_BUTTONS]
        lines = [reply.text]
        if reply.choices and not choices:
            lines.append(numbered(reply.choices))
        if left := [b for b in reply.actions if b not in buttons]:
            lines.append("   ".join(f"{b.label} {b.typed}" for b in left))
        bodies = [{**head, "msgtype": "text", "text": {"content": part}}
                  for part in split_bytes("\n".join(lines), TEXT_BYTES)]
        if buttons:
            title = clause_cut(prompt_line(reply), TITLE_CHARS) or "…"
            bodies.append({**head, "msgtype": "template_card", "template_card": {
                "card_type": "button_interaction",
                "main_title": {"title": title},
                "task_id": uuid.uuid4().hex,  # unique per card; a press reports it (Incoming.pressed)
                "button_list": [{"text": b.label, "style": 1, "key": b.data} for b in buttons],
            }})
        return bodies

    async def send(self, chat_id: str, reply: Reply, edit_of: str | None = None, resume: Later | None = None) -> Outcome:
        """Send the reply, from the first part the last try (`resume`) did not deliver. WeCom
        does not edit a sent text: an updated prompt is sent anew, and the answer chosen on a
        card is not repeated (the user just pressed it). The id of a reply with a card is the
        card's task id, which a press reports."""
        if reply.chosen is not None:
            return Sent(None)

        async def message(body: dict) -> str | None:
            data = await self._post("message/send", body)
            if data.get("invaliduser"):
                raise NotMember(data["invaliduser"])
            card = body.get("template_card", {}).get("task_id")
            return card or (str(data["msgid"]) if data.get("msgid") and body["msgtype"] == "text" else None)

        async def document(filename: str, content: bytes) -> None:
            media_id = await self._upload(filename, content)
            await message({"touser": chat_id, "agentid": self.config.agent_id, "msgtype": "file",
                           "file": {"media_id": media_id}})
        parts = [lambda body=body: message(body) for body in self.render(chat_id, reply)]
        parts += [lambda doc=doc: document(*doc) for doc in reply.documents]
        return await send_parts(parts, resume, self.failed)

    def failed(self, exc: Exception) -> Outcome | None:
        """What an error of message/send means for the reply (None: not WeCom's)."""
        if isinstance(exc, NotMember):
            return Refused(f"not a member of the app: {exc}")
        if isinstance(exc, TokenError):
            log.error("%s", exc)
            return Later(60, str(exc))
        if isinstance(exc, ApiError):
            if exc.errcode in EXPIRED_TOKEN:  # expired again at once
                self.forget_token()
                return Later(0.5, "access token expired")
            if exc.errcode in BUSY:
                return Later(BUSY[exc.errcode], str(exc))
            return Refused(str(exc))
        if isinstance(exc, (aiohttp.ClientError, asyncio.TimeoutError, ValueError)):
            # A 5xx, a timeout, a body that is not JSON. Only the kind is reported: the
            # exception's text can carry the URL, and the URL the token.
            status = getattr(exc, "status", "")
            return Later(3, f"{type(exc).__name__} {status}".strip())
        return None
