"""The DingTalk (钉钉) channel in Stream mode: the official `dingtalk-stream` SDK opens the
connection and keeps the websocket (no public URL needed); replies go out through the
robot's OpenAPI: text and markdown by `robot/oToMessages/batchSend` (a private chat) or
`robot/groupMessages/send` (a group), choices and actions on an interactive card
(`StandardCard`, its buttons calling back over the stream), files by media upload.

Thin: `to_incoming` and `card_incoming` turn what the stream pushes into an `Incoming`;
`DingTalkChannel.send` renders one neutral `Reply`. A chat id is `u:<staffId>` for a private
chat, `g:<openConversationId>` for a group. The endpoint comes from configuration
(`DINGTALK_OPENAPI_ENDPOINT` or `--endpoint`): a test points it at a gateway on 127.0.0.1.
Neither the app secret, an access token nor the stream ticket is logged.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import socket
import threading
import uuid
from dataclasses import dataclass
from urllib.parse import urlparse

import aiohttp
import dingtalk_stream
import dingtalk_stream.version
import requests
from dingtalk_stream import AckMessage, CallbackHandler, CallbackMessage, ChatbotMessage

from bot.channel import Later, Outcome, Refused, Sent, send_parts
from bot.openapi import PlatformApi, TooLarge, read_file
from bot.render import cut, headings_of, prompt_line, split_bytes
from dialogs.messages import Attachment, Incoming, Reply

log = logging.getLogger(__name__)

CHANNEL = "dingtalk"
DEFAULT_ENDPOINT = "https://api.dingtalk.com"
DEFAULT_OAPI = "https://oapi.dingtalk.com"   # the older API, where media are uploaded
CARD_TOPIC = dingtalk_stream.Card_Callback_Router_Topic
TEXT_BYTES = 6000   # a markdown message's text: kept well under DingTalk's limit
TITLE_CHARS = 60    # a card's header, a message's title in the chat list
OAPI_EXPIRED_TOKEN = {40001, 40014, 42001}   # oapi's errcodes of an invalid or expired access_token


@dataclass(frozen=True)
class DingTalkConfig:
    client_id: str        # the app's AppKey (Client ID); also the robot code of its robot
    client_secret: str    # the AppSecret
    endpoint: str = DEFAULT_ENDPOINT
    oapi: str = DEFAULT_OAPI
    robot_code: str = ""

    @property
    def robot(self) -> str:
        return self.robot_code or self.client_id


# --- incoming ------------------------------------------------------------------------------

@dataclass(frozen=True)
class FileToFetch:
    """A file message: the Incoming it becomes once the file is downloaded."""

    incoming: Incoming
    download_code: str
    filename: str


def to_incoming(message: ChatbotMessage) -> Incoming | FileToFetch | None:
    """A robot message from the stream as an Incoming: text, a file to fetch (the SDK keeps a
    file's `content` among its extensions), or any other kind (a picture, voice, video, rich
    text) `unreadable` (unsupported), which the dialog answers in a private chat and, in a
    group, as the group's rules say."""
    user = message.sender_staff_id or message.sender_id
    if not user:
        return None
    group = message.conversation_type == "2"
    base = Incoming(CHANNEL, user, f"g:{message.conversation_id}" if group else f"u:{user}",
                    message_id=f"msg:{message.message_id}", display_name=message.sender_nick or "",
                    group=group, mentioned=bool(message.is_in_at_list))
    if message.message_type == "text" and message.text is not None:
        return dataclasses.replace(base, text=(message.text.content or "").strip())
    content = message.extensions.get("content") or {}
    if message.message_type == "file" and content.get("downloadCode"):
        return FileToFetch(base, content["downloadCode"], content.get("fileName") or "document")
    if not message.message_type or message.message_type in ("text", "file"):
        return None  # without its content: nothing the user would know they sent
    return dataclasses.replace(base, unreadable="unsupported")


def card_incoming(callback: CallbackMessage) -> Incoming | None:
    """A press of a card button: the button's id is the reply's button data."""
    data = callback.data or {}
    content = json.loads(data.get("content") or "{}")
    private = content.get("cardPrivateData") or {}
    pressed = (private.get("actionIds") or [None])[0] or (private.get("params") or {}).get("data")
    user = data.get("userId")
    if not user or not pressed:
        return None
    conversation = data.get("openConversationId")
    return Incoming(CHANNEL, user, f"g:{conversation}" if conversation else f"u:{user}", button=pressed,
                    pressed=data.get("outTrackId"), message_id=f"card:{callback.headers.message_id}")


class _Handler(CallbackHandler):
    """Hands each message to `receive` and acknowledges it once the turn is committed; what
    cannot be read is acknowledged as a bad request (the stream does not redeliver it)."""

    def __init__(self, receive, parse):
        super().__init__()
        self.receive, self.parse = receive, parse

    async def process(self, callback: CallbackMessage):
        try:
            incoming = self.parse(callback)
        except (ValueError, TypeError, AttributeError, KeyError) as exc:
            log.warning("stream message %s unreadable: %s", callback.headers.message_id, type(exc).__name__)
            return AckMessage.STATUS_BAD_REQUEST, "unreadable"
        if incoming is not None:
            await self.receive(incoming)
        return AckMessage.STATUS_OK, "OK"


class StreamClient(dingtalk_stream.DingTalkStreamClient):
    """The SDK's client, pointed at the configured endpoint. The SDK reads its endpoint from
    the environment once, at import, into a class attribute: set from configuration here.
    Its `get_host_ip` finds the local address by a route to 8.8.8.8; here the route to the
    configured endpoint is used instead (no packet is sent either way: a UDP connect only
    picks the route), which on a private network or in a test stays inside it."""

    def __init__(self, config: DingTalkConfig, receive, refused=lambda status: None):
        quiet = logging.getLogger("bot.dingtalk.sdk")
        quiet.setLevel(logging.WARNING)  # the SDK logs the stream's ticket at INFO
        super().__init__(dingtalk_stream.Credential(config.client_id, config.client_secret), logger=quiet)
        self.config = config
        self.refused = refused  # (status): the gateway refused the credentials at the first connection
        self.opened = False
        dingtalk_stream.DingTalkStreamClient.OPEN_CONNECTION_API = \
            config.endpoint.rstrip("/") + "/v1.0/gateway/connections/open"
        self.register_callback_handler(ChatbotMessage.TOPIC,
                                       _Handler(receive, lambda cb: to_incoming(ChatbotMessage.from_dict(cb.data))))
        self.register_callback_handler(CARD_TOPIC, _Handler(receive, card_incoming))

    def open_connection(self) -> dict | None:
        """The SDK's request for the stream's endpoint and ticket, but with the answer's status
        seen (the SDK logs any failure alike and tries again every 10 s, forever): a 401 or
        403 before any connection opened means the credentials are wrong, which no retry
        mends (`refused`); a 5xx or a network error is tried again, as the SDK does. A 401
        later (the secret rotated while running) is tried again too."""
        version = dingtalk_stream.version.VERSION_STRING
        body = {"clientId": self.credential.client_id, "clientSecret": self.credential.client_secret,
                "subscriptions": [{"type": "CALLBACK", "topic": topic} for topic in self.callback_handler_map],
                "ua": f"dingtalk-sdk-python/v{version}-union", "localIp": self.get_host_ip()}
        try:
            headers = {"Accept": "application/json", "User-Agent": f"DingTalkStream/1.0 SDK/{version}"}
            response = requests.post(self.OPEN_CONNECTION_API, json=body, headers=headers, timeout=15)
        except requests.RequestException as exc:  # its text names the URL only; still, the kind
            log.warning("stream connection not opened: %s", type(exc).__name__)
            return None
        if response.status_code in (401, 403) and not self.opened:
            self.refused(response.status_code)
            threading.Event().wait()  # no retry, no SDK line: the process exits, this daemon with it
        if not response.ok:
            log.warning("stream connection not opened: HTTP %s", response.status_code)
            return None
        self.opened = True
        return response.json()

    def get_host_ip(self) -> str:
        url = urlparse(self.config.endpoint)
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.connect((url.hostname, url.port or 443))
                return s.getsockname()[0]
        except OSError:
            return ""


def start_stream(config: DingTalkConfig, receive, download, refused=lambda status: None) -> threading.Thread:
    """The SDK's client on a thread and event loop of its own: its connection requests block
    (requests), and it never stops once started (a cancellation is a network error to it: it
    reconnects), so it runs as a daemon thread that ends with the process. Each message is
    handed to `receive` on the caller's loop, a file first fetched by `download(code, name)`,
    and acknowledged when that returns (a failure leaves it unacknowledged: it comes again).
    `refused(status)` is called on the caller's loop when the gateway refuses the credentials."""
    loop = asyncio.get_running_loop()

    async def on_loop(item: Incoming | FileToFetch) -> None:
        if isinstance(item, FileToFetch):
            try:
                attachment = await download(item.download_code, item.filename)
            except TooLarge:  # the dialog says so
                item = dataclasses.replace(item.incoming, unreadable="too_large")
            else:
                # None: DingTalk refused it (an expired download code): said, not silence
                item = dataclasses.replace(item.incoming, attachment=attachment,
                                           unreadable=None if attachment else "not_downloaded")
        await receive(item)

    async def hand_over(item: Incoming | FileToFetch) -> None:
        await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(on_loop(item), loop))

    client = StreamClient(config, hand_over, lambda status: loop.call_soon_threadsafe(refused, status))
    thread = threading.Thread(target=lambda: asyncio.run(client.start()), name="dingtalk-stream", daemon=True)
    thread.start()
    return thread


# --- outgoing ------------------------------------------------------------------------------

class ApiError(Exception):
    def __init__(self, status: int, code: str = "", message: str = ""):
        super().__init__(f"HTTP {status} {code}: {message}".strip())
        self.status, self.code = status, code


class TokenError(ApiError):
    """The access token refused (a wrong AppKey or AppSecret): the replies wait."""


class DingTalkChannel(PlatformApi):
    """Renders and sends one neutral reply through the robot's OpenAPI (the `Channel` port)."""

    name = CHANNEL

    def __init__(self, config: DingTalkConfig, clock):
        super().__init__(clock)
        self.config = config
        self.api, self.oapi = config.endpoint.rstrip("/"), config.oapi.rstrip("/")

    @staticmethod
    async def _json(response: aiohttp.ClientResponse) -> dict:
        try:
            data = await response.json(content_type=None) or {}
        except ValueError:  # a proxy's HTML page: the status says what happened
            if response.status < 400:
                raise
            data = {}
        if response.status >= 400:
            raise ApiError(response.status, str(data.get("code", "")), str(data.get("message", "")))
        return data or {}

    async def fetch_token(self) -> tuple[str, int]:
        """oauth2/accessToken: valid `expireIn` seconds (7200)."""
        async with self.session.post(f"{self.api}/v1.0/oauth2/accessToken",
                                     json={"appKey": self.config.client_id, "appSecret": self.config.client_secret}) as r:
            try:
                data = await self._json(r)
            except ApiError as exc:
                raise TokenError(exc.status, exc.code, "access token refused: check the AppKey and AppSecret") from None
        return data["accessToken"], int(data.get("expireIn", 7200))

    def token_expired(self, exc: Exception) -> bool:
        return isinstance(exc, ApiError) and not isinstance(exc, TokenError) and exc.status == 401

    async def _post(self, path: str, body: dict) -> dict:
        async def call(token: str) -> dict:
            async with self.session.post(f"{self.api}{path}", json=body,
                                         headers={"x-acs-dingtalk-access-token": token}) as r:
                return await self._json(r)
        return await self.authorized(call)

    def _message(self, chat_id: str, msg_key: str, param: dict) -> tuple[str, dict]:
        kind, _, target = chat_id.partition(":")
        body = {"robotCode": self.config.robot, "msgKey": msg_key, "msgParam": json.dumps(param, ensure_ascii=False)}
        if kind == "g":
            return "/v1.0/robot/groupMessages/send", {**body, "openConversationId": target}
        return "/v1.0/robot/oToMessages/batchSend", {**body, "userIds": [target]}

    @staticmethod
    def card_data(reply: Reply) -> dict:
        """A StandardCard: headed by the line its buttons answer (`prompt_line`), the text as
        markdown, its headings in bold, one button per choice and action (a press calls back
        over the stream with the button's id: its data); an answer chosen on it is shown under
        the text, without buttons."""
        text = markdown(reply.text, headings_of(reply))
        if reply.chosen is not None:
            text += f"  \n  \n**→ {reply.chosen}**"
        contents = [{"type": "markdown", "text": text, "id": "text"}]
        buttons = [{"type": "button", "label": {"type": "text", "text": b.label, "id": f"label_{i}"},
                    "actionType": "request", "status": "primary" if b in reply.choices else "normal", "id": b.data}
                   for i, b in enumerate(reply.choices + reply.actions)]
        if buttons and reply.chosen is None:
            contents.append({"type": "action", "actions": buttons, "id": "actions"})
        return {"config": {"autoLayout": True, "enableForward": False},
                "header": {"title": {"type": "text", "text": cut(prompt_line(reply), TITLE_CHARS) or "…"}},
                "contents": contents}

    def card(self, chat_id: str, reply: Reply) -> dict:
        kind, _, target = chat_id.partition(":")
        body = {"cardTemplateId": "StandardCard", "robotCode": self.config.robot, "cardBizId": uuid.uuid4().hex,
                "cardData": json.dumps(self.card_data(reply), ensure_ascii=False), "callbackType": "STREAM",
                "sendOptions": {"atAll": False}}
        if kind == "g":
            body["openConversationId"] = target
        else:
            body["singleChatReceiver"] = json.dumps({"userId": target})
        return body

    def render(self, chat_id: str, reply: Reply) -> list[tuple[str, dict]]:
        """(path, body) of each call: a card when there are buttons; else plain text, or
        markdown when the reply has headings to set in bold (in parts of TEXT_BYTES)."""
        if reply.choices or reply.actions:
            return [("/v1.0/im/v1.0/robot/interactiveCards/send", self.card(chat_id, reply))]
        headings = headings_of(reply)
        calls, line = [], 0
        for part in split_bytes(reply.text, TEXT_BYTES):
            if headings:
                shifted = [h - line for h in headings if h >= line]
                calls.append(self._message(chat_id, "sampleMarkdown",
                                           {"title": title_of(reply), "text": markdown(part, shifted)}))
            else:
                calls.append(self._message(chat_id, "sampleText", {"content": part}))
            line += part.count("\n") + 1
        return calls

    async def download(self, download_code: str, filename: str) -> Attachment | None:
        """A file the user sent: its download URL from robot/messageFiles/download, then the
        file (None when DingTalk refuses it; TooLarge over MAX_FILE)."""
        try:
            data = await self._post("/v1.0/robot/messageFiles/download",
                                    {"downloadCode": download_code, "robotCode": self.config.robot})
        except ApiError as exc:
            log.warning("file %s not downloadable: %s", filename, exc)
            return None
        async with self.session.get(data["downloadUrl"]) as r:
            if 400 <= r.status < 500:  # the URL expired or refused: no redelivery mends it, say so
                log.warning("file %s not downloadable: HTTP %s", filename, r.status)
                return None
            if r.status >= 500:  # unacknowledged, the message comes again (no URL in the log)
                raise aiohttp.ClientResponseError(r.request_info, (), status=r.status)
            content = await read_file(r, f"file {filename}")
        return Attachment(filename, content, r.content_type or "")

    async def _upload(self, filename: str, content: bytes) -> str:
        async def call(token: str) -> str:
            data = await self.upload(f"{self.oapi}/media/upload", {"access_token": token, "type": "file"},
                                     filename, content)
            if data.get("errcode", 0) != 0 or "media_id" not in data:
                # the older API says an expired token by its errcode: as the newer one's 401
                status = 401 if data.get("errcode") in OAPI_EXPIRED_TOKEN else 400
                raise ApiError(status, str(data.get("errcode", "")), str(data.get("errmsg", "")))
            return data["media_id"]
        return await self.authorized(call)

    async def _update(self, card_biz_id: str, reply: Reply) -> None:
        body = {"cardBizId": card_biz_id, "cardData": json.dumps(self.card_data(reply), ensure_ascii=False)}

        async def call(token: str) -> None:
            async with self.session.put(f"{self.api}/v1.0/im/robots/interactiveCards", json=body,
                                        headers={"x-acs-dingtalk-access-token": token}) as r:
                await self._json(r)
        await self.authorized(call)

    async def send(self, chat_id: str, reply: Reply, edit_of: str | None = None, resume: Later | None = None) -> Outcome:
        """Send the reply, from the first part the last try (`resume`) did not deliver;
        `edit_of` (a card's id) updates that card in place: the prompt updated, or the answer
        chosen on it shown."""
        if edit_of is not None:
            async def update() -> str:
                await self._update(edit_of, reply)
                return edit_of
            return await send_parts([update], None, self.failed)

        async def message(path: str, body: dict) -> str | None:
            data = await self._post(path, body)
            return body.get("cardBizId") or data.get("processQueryKey")

        async def document(filename: str, content: bytes) -> None:
            media_id = await self._upload(filename, content)
            extension = filename.rpartition(".")[2] or "txt"
            await self._post(*self._message(chat_id, "sampleFile",
                                            {"mediaId": media_id, "fileName": filename, "fileType": extension}))
        parts = [lambda call=call: message(*call) for call in self.render(chat_id, reply)]
        parts += [lambda doc=doc: document(*doc) for doc in reply.documents]
        return await send_parts(parts, resume, self.failed)

    def failed(self, exc: Exception) -> Outcome | None:
        """What an error of the robot's API means for the reply (None: not DingTalk's)."""
        if isinstance(exc, TokenError):
            log.error("%s", exc)
            return Later(60, str(exc))
        if isinstance(exc, ApiError):
            if exc.status in (401, 403):
                self.forget_token()  # expired or revoked: a new one next time
                return Later(0.5, str(exc))
            if exc.status == 429 or exc.status >= 500:
                return Later(3 if exc.status >= 500 else 1, str(exc))  # 429: a per-second QPS limit
            return Refused(str(exc))
        if isinstance(exc, (aiohttp.ClientError, asyncio.TimeoutError, ValueError, KeyError)):
            return Later(3, type(exc).__name__)  # the text could carry a URL with the token
        return None


def title_of(reply: Reply) -> str:
    """What the chat list shows of a message: its first line."""
    return cut(reply.text.strip().split("\n", 1)[0], TITLE_CHARS) or "…"


def markdown(text: str, headings: list[int] = ()) -> str:
    """Plain text as DingTalk markdown: line breaks kept (a single newline would be joined),
    the heading lines in bold."""
    lines = text.split("\n")
    for n in headings:
        if n < len(lines) and lines[n].strip():
            lines[n] = f"**{lines[n].strip()}**"
    return "  \n".join(lines)
