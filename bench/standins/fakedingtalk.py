"""A fake DingTalk on 127.0.0.1: the Stream gateway (the connection-open endpoint and the
websocket that pushes robot messages and card callbacks and takes their ACKs) and the
OpenAPI the robot replies through (access token, batchSend, groupMessages, interactive
cards, media upload), in one aiohttp server.

Frames as the dingtalk-stream SDK reads them (dingtalk_stream/frames.py): `{"specVersion",
"type": "CALLBACK", "headers": {"topic", "messageId", "contentType", "time"}, "data": JSON
text}`; the SDK answers each with `{"code", "headers": {"messageId", ...}, "message",
"data"}`."""

from __future__ import annotations

import itertools
import json
import time
import uuid

from aiohttp import WSMsgType, web

from bench.standins.localserver import LocalServer

CLIENT_ID = "dingappkey0123456789"
CLIENT_SECRET = "dingsecret-" + "x" * 40
BOT_TOPIC = "/v1.0/im/bot/messages/get"
CARD_TOPIC = "/v1.0/card/instances/callback"


class FakeDingTalk(LocalServer):
    def __init__(self):
        super().__init__()
        self.opened: list[dict] = []          # connection-open request bodies
        self.open_faults: list[int] = []      # the next connection-opens answer these statuses, in turn
        self.acks: dict[str, dict] = {}       # messageId -> the SDK's ACK
        self.sent: list[dict] = []            # every message the robot sent, normalised
        self.files: dict[str, tuple[str, bytes]] = {}       # uploaded by the robot
        self.user_files: dict[str, tuple[str, bytes]] = {}  # sent by users: downloadCode -> file
        self.downloaded: list[str] = []                      # the downloadCodes fetched
        self.expired_urls: set[str] = set()                  # downloadCodes whose file URL answers 403
        self.faults: list = []                # the next robot calls answer these, in turn: a status, (status, JSON), or None (as usual)
        self.token_calls = 0
        self.valid_tokens: set[str] = set()
        self.ticket = "TICKET-" + uuid.uuid4().hex
        self._ids = itertools.count(1)
        self._sockets: list[web.WebSocketResponse] = []

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/v1.0/gateway/connections/open", self._open)
        app.router.add_get("/connect", self._stream)
        app.router.add_post("/v1.0/oauth2/accessToken", self._token)
        app.router.add_post("/v1.0/robot/oToMessages/batchSend", self._private)
        app.router.add_post("/v1.0/robot/groupMessages/send", self._group)
        app.router.add_post("/v1.0/im/v1.0/robot/interactiveCards/send", self._card)
        app.router.add_put("/v1.0/im/robots/interactiveCards", self._update_card)
        app.router.add_post("/media/upload", self._upload)
        app.router.add_post("/v1.0/robot/messageFiles/download", self._file_url)
        app.router.add_get("/files/{code}", self._file)

    def _notify(self, fn) -> None:
        with self._cond:
            fn()
            self._cond.notify_all()

    # --- the Stream gateway ----------------------------------------------------------------
    async def _open(self, request: web.Request) -> web.Response:
        body = json.loads(await request.text())
        self._notify(lambda: self.opened.append(body))
        if self.open_faults:
            return web.json_response({"code": "ServiceUnavailable", "message": "try again later"},
                                     status=self.open_faults.pop(0))
        if body.get("clientId") != CLIENT_ID or body.get("clientSecret") != CLIENT_SECRET:
            return web.json_response({"code": "InvalidAuthentication", "message": "bad credentials"}, status=401)
        return web.json_response({"endpoint": f"ws://127.0.0.1:{self.port}/connect", "ticket": self.ticket})

    async def _stream(self, request: web.Request) -> web.WebSocketResponse:
        if request.query.get("ticket") != self.ticket:
            raise web.HTTPForbidden()
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._notify(lambda: self._sockets.append(ws))
        async for message in ws:
            if message.type == WSMsgType.TEXT:
                ack = json.loads(message.data)
                self._notify(lambda: self.acks.__setitem__(ack["headers"]["messageId"], ack))
        self._notify(lambda: self._sockets.remove(ws))
        return ws

    def connected(self, timeout: float = 30) -> None:
        self._wait(lambda: self._sockets, timeout, "the client did not connect")

    def disconnect_all(self) -> None:
        async def close():
            for ws in list(self._sockets):
                await ws.close()
        self.run(close())

    def push(self, topic: str, data: dict | str, message_id: str | None = None) -> str:
        """Push one CALLBACK frame to the connected client; returns its messageId."""
        message_id = message_id or f"frame-{next(self._ids)}"
        frame = {"specVersion": "1.0", "type": "CALLBACK",
                 "headers": {"topic": topic, "messageId": message_id, "contentType": "application/json",
                             "time": str(int(time.time() * 1000)), "appId": CLIENT_ID},
                 "data": data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)}
        self.connected()
        self.run(self._sockets[-1].send_str(json.dumps(frame, ensure_ascii=False)))
        return message_id

    def user_sends(self, staff_id: str, text: str, msg_id: str | None = None, group: str | None = None,
                   frame_id: str | None = None) -> str:
        data = {"conversationId": group or f"cid-private-{staff_id}", "conversationType": "2" if group else "1",
                "msgId": msg_id or f"msg{next(self._ids)}", "senderNick": "官员", "senderStaffId": staff_id,
                "senderId": f"$:LWCP_v1:${staff_id}", "robotCode": CLIENT_ID, "chatbotUserId": "bot",
                "msgtype": "text", "text": {"content": text}, "isInAtList": bool(group),
                "sessionWebhook": f"{self.base_url}/robot/sendBySession?session=x", "createAt": int(time.time() * 1000)}
        return self.push(BOT_TOPIC, data, frame_id)

    def user_sends_file(self, staff_id: str, filename: str, content: bytes) -> str:
        code = f"dlcode{len(self.user_files) + 1}"
        self.user_files[code] = (filename, content)
        data = {"conversationId": f"cid-private-{staff_id}", "conversationType": "1", "msgId": f"msg{next(self._ids)}",
                "senderNick": "官员", "senderStaffId": staff_id, "robotCode": CLIENT_ID, "msgtype": "file",
                "content": {"downloadCode": code, "fileName": filename}, "createAt": int(time.time() * 1000)}
        return self.push(BOT_TOPIC, data)

    # The `content` of a robot message of each other kind (picture, audio, video, richText).
    KINDS = {"picture": {"downloadCode": "pic-code", "pictureDownloadCode": "pic-code"},
             "audio": {"duration": "3000", "downloadCode": "audio-code", "recognition": "你好"},
             "video": {"duration": "5", "downloadCode": "video-code", "videoType": "mp4"},
             "richText": {"richText": [{"text": "看图"}, {"type": "picture", "downloadCode": "pic-code",
                                                         "pictureDownloadCode": "pic-code"}]}}

    def user_sends_kind(self, staff_id: str, kind: str, group: str | None = None, at: bool = True) -> str:
        """A picture, voice note, video or rich text; in a group, @ the robot or not."""
        data = {"conversationId": group or f"cid-private-{staff_id}", "conversationType": "2" if group else "1",
                "msgId": f"msg{next(self._ids)}", "senderNick": "官员", "senderStaffId": staff_id,
                "robotCode": CLIENT_ID, "msgtype": kind, "content": self.KINDS[kind],
                "isInAtList": bool(group) and at, "createAt": int(time.time() * 1000)}
        return self.push(BOT_TOPIC, data)

    def user_presses(self, staff_id: str, card: dict, label: str) -> str:
        button = next(b for b in card["buttons"] if b["label"]["text"] == label)
        content = {"cardPrivateData": {"actionIds": [button["id"]], "params": {}}}
        return self.push(CARD_TOPIC, {"outTrackId": card["cardBizId"], "userId": staff_id, "corpId": "ding-corp",
                                      "type": "actionCallback", "content": json.dumps(content), "extension": "{}"})

    def ack_of(self, message_id: str, timeout: float = 15) -> dict:
        self._wait(lambda: message_id in self.acks, timeout, f"no ACK of {message_id}")
        return self.acks[message_id]

    # --- the OpenAPI -----------------------------------------------------------------------
    async def _token(self, request: web.Request) -> web.Response:
        body = json.loads(await request.text())
        self.token_calls += 1
        if body.get("appKey") != CLIENT_ID or body.get("appSecret") != CLIENT_SECRET:
            return web.json_response({"code": "invalidClientIdOrSecret", "message": "无效的clientId或者clientSecret"},
                                     status=400)
        token = f"DTOKEN{self.token_calls:03d}-" + "k" * 30
        self.valid_tokens.add(token)
        return web.json_response({"accessToken": token, "expireIn": 7200})

    def expire_tokens(self) -> None:
        self.valid_tokens.clear()

    async def _robot_call(self, request: web.Request, robot: bool = True) -> dict | web.Response:
        if request.headers.get("x-acs-dingtalk-access-token") not in self.valid_tokens:
            return web.json_response({"code": "InvalidAuthentication", "message": "token invalid"}, status=401)
        if self.faults and (fault := self.faults.pop(0)) is not None:
            if isinstance(fault, tuple):
                return web.json_response(fault[1], status=fault[0])
            return web.Response(status=fault, text="<html>busy</html>")
        body = json.loads(await request.text())
        if robot and body.get("robotCode") != CLIENT_ID:
            return web.json_response({"code": "invalidParameter", "message": "robotCode"}, status=400)
        return body

    def _record(self, message: dict) -> web.Response:
        self._notify(lambda: self.sent.append(message))
        return web.json_response({"processQueryKey": f"pqk{next(self._ids)}"})

    async def _private(self, request: web.Request) -> web.Response:
        body = await self._robot_call(request)
        if isinstance(body, web.Response):
            return body
        param = json.loads(body["msgParam"])
        if body["msgKey"] == "sampleFile" and param["mediaId"] not in self.files:
            return web.json_response({"code": "invalidParameter", "message": "mediaId"}, status=400)
        return self._record({"to": body["userIds"][0], "kind": body["msgKey"], **param})

    async def _group(self, request: web.Request) -> web.Response:
        body = await self._robot_call(request)
        if isinstance(body, web.Response):
            return body
        return self._record({"to": "group:" + body["openConversationId"], "kind": body["msgKey"],
                             **json.loads(body["msgParam"])})

    async def _card(self, request: web.Request) -> web.Response:
        body = await self._robot_call(request)
        if isinstance(body, web.Response):
            return body
        data = json.loads(body["cardData"])
        receiver = ("group:" + body["openConversationId"] if "openConversationId" in body
                    else json.loads(body["singleChatReceiver"])["userId"])
        text = next(c["text"] for c in data["contents"] if c["type"] == "markdown")
        buttons = next(c["actions"] for c in data["contents"] if c["type"] == "action")
        assert body["callbackType"] == "STREAM" and body["cardTemplateId"] == "StandardCard"
        return self._record({"to": receiver, "kind": "card", "text": text, "buttons": buttons,
                             "cardBizId": body["cardBizId"]})

    async def _update_card(self, request: web.Request) -> web.Response:
        """The card sent as `cardBizId` shows new data (its record here changes in place)."""
        body = await self._robot_call(request, robot=False)
        if isinstance(body, web.Response):
            return body
        data = json.loads(body["cardData"])
        card = next((m for m in self.sent if m.get("cardBizId") == body["cardBizId"]), None)
        if card is None:
            return web.json_response({"code": "cardNotExist", "message": "no such card"}, status=400)

        def update():
            card["text"] = next(c["text"] for c in data["contents"] if c["type"] == "markdown")
            card["buttons"] = next((c["actions"] for c in data["contents"] if c["type"] == "action"), [])
            card["updates"] = card.get("updates", 0) + 1
        self._notify(update)
        return web.json_response({"success": True})

    def wait_for_update(self, card: dict, updates: int, timeout: float = 15) -> dict:
        self._wait(lambda: card.get("updates", 0) >= updates, timeout, "the card was not updated")
        return card

    async def _file_url(self, request: web.Request) -> web.Response:
        body = await self._robot_call(request)
        if isinstance(body, web.Response):
            return body
        if body.get("downloadCode") not in self.user_files:
            return web.json_response({"code": "invalidParameter", "message": "downloadCode"}, status=400)
        return web.json_response({"downloadUrl": f"{self.base_url}/files/{body['downloadCode']}"})

    async def _file(self, request: web.Request) -> web.Response:
        code = request.match_info["code"]
        if code in self.expired_urls:  # as OSS answers a signed URL past its expiry
            return web.Response(status=403, text="<Error><Code>AccessDenied</Code></Error>", content_type="application/xml")
        self._notify(lambda: self.downloaded.append(code))
        return web.Response(body=self.user_files[code][1], content_type="application/octet-stream")

    async def _upload(self, request: web.Request) -> web.Response:
        if request.query.get("access_token") not in self.valid_tokens:
            return web.json_response({"errcode": 40014, "errmsg": "invalid access_token"})
        form = await request.post()
        media_id = f"@media{len(self.files) + 1}"
        self.files[media_id] = (form["media"].filename, form["media"].file.read())
        return web.json_response({"errcode": 0, "errmsg": "ok", "type": "file", "media_id": media_id})

    # --- waiting ---------------------------------------------------------------------------
    def _wait(self, condition, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        with self._cond:
            while not condition():
                left = deadline - time.monotonic()
                assert left > 0, what
                self._cond.wait(left)

    def messages_to(self, to: str) -> list[dict]:
        with self._cond:
            return [m for m in self.sent if m["to"] == to]

    def wait_for(self, to: str, predicate, timeout: float = 15, start: int = 0) -> list[dict]:
        found: list[dict] = []

        def seen() -> bool:
            got = [m for m in self.sent if m["to"] == to][start:]
            for i, m in enumerate(got):
                if predicate(m):
                    found[:] = got[:i + 1]
                    return True
            return False
        self._wait(seen, timeout, f"no such message to {to}; got {[text_of(m) for m in self.messages_to(to)][start:]}")
        return found


def text_of(message: dict) -> str:
    return message.get("text") or message.get("content") or message.get("fileName") or ""


def labels(message: dict) -> list[str]:
    return [b["label"]["text"] for b in message.get("buttons", [])]
