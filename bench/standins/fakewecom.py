"""A fake WeCom (企业微信) on 127.0.0.1: the API the app calls (gettoken, message/send,
media/upload) and the users' side, which posts encrypted callbacks to the app's URL.

The callback cryptography is written here independently of wechatpy (which the adapter
uses), from WeCom's documentation of 加解密方案: msg_signature = SHA1 of the sorted
[token, timestamp, nonce, Encrypt]; Encrypt = base64(AES-256-CBC(key, iv=key[:16],
PKCS#7 padded to 32 bytes of random(16) + len(msg) as 4 bytes big-endian + msg + corp_id)),
key = base64decode(EncodingAESKey + "=")."""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import os
import time
from dataclasses import dataclass, field

import requests
from aiohttp import web
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from bench.standins.localserver import LocalServer

CORP_ID = "ww0123456789abcdef"
AGENT_ID = 1000002
SECRET = "app-secret-" + "s" * 32
TOKEN = "callbacktoken"
AES_KEY = base64.b64encode(bytes(range(32))).decode().rstrip("=")  # 43 characters


def signature(token: str, timestamp: str, nonce: str, encrypt: str) -> str:
    return hashlib.sha1("".join(sorted([token, timestamp, nonce, encrypt])).encode()).hexdigest()


def encrypt(plain: str, aes_key: str = AES_KEY, corp_id: str = CORP_ID) -> str:
    key = base64.b64decode(aes_key + "=")
    body = plain.encode()
    data = os.urandom(16) + len(body).to_bytes(4, "big") + body + corp_id.encode()
    pad = 32 - len(data) % 32
    data += bytes([pad]) * pad
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(encryptor.update(data) + encryptor.finalize()).decode()


def decrypt(encrypted: str, aes_key: str = AES_KEY) -> tuple[str, str]:
    key = base64.b64decode(aes_key + "=")
    decryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
    data = decryptor.update(base64.b64decode(encrypted)) + decryptor.finalize()
    data = data[:-data[-1]]
    length = int.from_bytes(data[16:20], "big")
    return data[20:20 + length].decode(), data[20 + length:].decode()


class Raw(str):
    """A field's XML as given (a nested element, say): for a test of a body WeCom would not send."""


def xml_of(fields: dict) -> str:
    """WeCom's XML: text as written inside CDATA (< and & not escaped); a "]]>" in it ends one
    CDATA section and opens the next, as XML writers do."""
    inner = "".join(f"<{k}>{v}</{k}>" if isinstance(v, (int, Raw))
                    else f"<{k}><![CDATA[{str(v).replace(']]>', ']]]]><![CDATA[>')}]]></{k}>"
                    for k, v in fields.items())
    return f"<xml>{inner}</xml>"


@dataclass
class Call:
    method: str
    query: dict
    body: dict = field(default_factory=dict)


class FakeWeCom(LocalServer):
    def __init__(self):
        super().__init__()
        self.calls: list[Call] = []
        self.sent: list[dict] = []          # message/send bodies accepted, in order
        self.files: dict[str, tuple[str, bytes]] = {}      # uploaded by the app
        self.user_files: dict[str, tuple[str, bytes]] = {}  # sent by users, for media/get
        self.faults: list[dict | None] = []  # the next message/send answers these, in turn (None: as usual)
        self.tokens = itertools.count(1)
        self.valid_tokens: set[str] = set()
        self.callback_url: str | None = None
        self.msg_ids = itertools.count(1)

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/cgi-bin/gettoken", self._gettoken)
        app.router.add_post("/cgi-bin/message/send", self._send)
        app.router.add_post("/cgi-bin/media/upload", self._upload)
        app.router.add_get("/cgi-bin/media/get", self._media)

    def _record(self, call: Call) -> None:
        with self._cond:
            self.calls.append(call)
            self._cond.notify_all()

    async def _gettoken(self, request: web.Request) -> web.Response:
        q = dict(request.query)
        self._record(Call("gettoken", q))
        if q.get("corpid") != CORP_ID or q.get("corpsecret") != SECRET:
            return web.json_response({"errcode": 40001, "errmsg": "invalid credential"})
        token = f"ACCESS{next(self.tokens):04d}-" + "t" * 40
        self.valid_tokens.add(token)
        return web.json_response({"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": 7200})

    def expire_tokens(self) -> None:
        self.valid_tokens.clear()

    async def _send(self, request: web.Request) -> web.Response:
        body = json.loads(await request.text())
        self._record(Call("message/send", dict(request.query), body))
        if request.query.get("access_token") not in self.valid_tokens:
            return web.json_response({"errcode": 42001, "errmsg": "access_token expired"})
        if self.faults and (fault := self.faults.pop(0)) is not None:
            if "status" in fault:
                return web.Response(status=fault["status"], text="<html>bad gateway</html>")
            return web.json_response(fault)
        if body.get("agentid") != AGENT_ID:
            return web.json_response({"errcode": 40056, "errmsg": "invalid agentid"})
        if body["msgtype"] == "text" and len(body["text"]["content"].encode()) > 2048:
            return web.json_response({"errcode": 44004, "errmsg": "text content too long"})
        if body["msgtype"] == "template_card" and len(body["template_card"]["button_list"]) > 6:
            return web.json_response({"errcode": 40058, "errmsg": "too many buttons"})
        if body["msgtype"] == "file" and body["file"]["media_id"] not in self.files:
            return web.json_response({"errcode": 40007, "errmsg": "invalid media_id"})
        msgid = f"msg{next(self.msg_ids)}"
        with self._cond:
            self.sent.append({**body, "msgid": msgid})
            self._cond.notify_all()
        return web.json_response({"errcode": 0, "errmsg": "ok", "msgid": msgid})

    async def _upload(self, request: web.Request) -> web.Response:
        self._record(Call("media/upload", dict(request.query)))
        if request.query.get("access_token") not in self.valid_tokens:
            return web.json_response({"errcode": 42001, "errmsg": "access_token expired"})
        form = await request.post()
        media = form["media"]
        media_id = f"media{len(self.files) + 1}"
        self.files[media_id] = (media.filename, media.file.read())
        return web.json_response({"errcode": 0, "type": "file", "media_id": media_id})

    async def _media(self, request: web.Request) -> web.Response:
        if request.query.get("access_token") not in self.valid_tokens:
            return web.json_response({"errcode": 42001, "errmsg": "access_token expired"})
        if request.query.get("media_id") not in self.user_files:
            return web.json_response({"errcode": 40007, "errmsg": "invalid media_id"})
        name, content = self.user_files[request.query["media_id"]]
        return web.Response(body=content, content_type="application/octet-stream",
                            headers={"Content-Disposition": f'attachment; filename="{name}"'})

    # --- the users' side -------------------------------------------------------------------
    def post_callback(self, fields: dict, token: str = TOKEN, aes_key: str = AES_KEY,
                      corp_id: str = CORP_ID) -> requests.Response:
        """What WeCom posts for one user message: the XML, encrypted and signed."""
        timestamp, nonce = str(int(time.time())), os.urandom(4).hex()
        encrypted = encrypt(xml_of({"ToUserName": CORP_ID, **fields}), aes_key, corp_id)
        envelope = xml_of({"ToUserName": CORP_ID, "AgentID": AGENT_ID, "Encrypt": encrypted})
        q = {"msg_signature": signature(token, timestamp, nonce, encrypted), "timestamp": timestamp, "nonce": nonce}
        return requests.post(self.callback_url, params=q, data=envelope.encode(), timeout=15)

    def user_sends(self, user: str, text: str, msg_id: int | None = None) -> requests.Response:
        return self.post_callback({"FromUserName": user, "CreateTime": int(time.time()), "MsgType": "text",
                                   "Content": text, "MsgId": msg_id or next(self.msg_ids) + 10**9,
                                   "AgentID": AGENT_ID})

    def user_sends_file(self, user: str, filename: str, content: bytes) -> requests.Response:
        media_id = f"usermedia{len(self.user_files) + 1}"
        self.user_files[media_id] = (filename, content)
        return self.post_callback({"FromUserName": user, "CreateTime": int(time.time()), "MsgType": "file",
                                   "MediaId": media_id, "MsgId": next(self.msg_ids) + 10**9, "AgentID": AGENT_ID})

    # What a user's message of each other kind carries (接收消息: 图片、语音、视频、位置、链接).
    KINDS = {"image": {"PicUrl": "https://wework.qpic.cn/p/1", "MediaId": "img-1"},
             "voice": {"MediaId": "voice-1", "Format": "amr"},
             "video": {"MediaId": "video-1", "ThumbMediaId": "thumb-1"},
             "location": {"Location_X": "32.06", "Location_Y": "118.79", "Scale": 15, "Label": "南京市鼓楼区"},
             "link": {"Title": "通知", "Description": "集群申报", "Url": "https://example.gov.cn/n",
                      "PicUrl": ""}}

    def user_sends_kind(self, user: str, kind: str) -> requests.Response:
        """A picture, voice note, video, location or link from `user`."""
        return self.post_callback({"FromUserName": user, "CreateTime": int(time.time()), "MsgType": kind,
                                   **self.KINDS[kind], "MsgId": next(self.msg_ids) + 10**9, "AgentID": AGENT_ID})

    def user_event(self, user: str, event: str, **fields) -> requests.Response:
        """An event of `user`'s that is no message (enter_agent, LOCATION…)."""
        return self.post_callback({"FromUserName": user, "CreateTime": int(time.time()), "MsgType": "event",
                                   "Event": event, "EventKey": "", **fields, "AgentID": AGENT_ID})

    def user_presses(self, user: str, card: dict, label: str) -> requests.Response:
        """A press of the button `label` on a template card sent to `user`."""
        tc = card["template_card"]
        key = next(b["key"] for b in tc["button_list"] if b["text"] == label)
        return self.post_callback({"FromUserName": user, "CreateTime": int(time.time() * 1000),
                                   "MsgType": "event", "Event": "template_card_event", "EventKey": key,
                                   "TaskId": tc["task_id"], "CardType": "button_interaction",
                                   "ResponseCode": os.urandom(8).hex(), "AgentID": AGENT_ID})

    def verify_url(self, echo: str = "echo-1234", token: str = TOKEN) -> requests.Response:
        timestamp, nonce = str(int(time.time())), "n0nce"
        encrypted = encrypt(echo)
        q = {"msg_signature": signature(token, timestamp, nonce, encrypted), "timestamp": timestamp,
             "nonce": nonce, "echostr": encrypted}
        return requests.get(self.callback_url, params=q, timeout=15)

    def messages_to(self, user: str) -> list[dict]:
        with self._cond:
            return [m for m in self.sent if m["touser"] == user]

    def wait_for(self, user: str, predicate, timeout: float = 15, start: int = 0) -> list[dict]:
        """The messages to `user` from index `start` up to the first that satisfies `predicate`."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                got = [m for m in self.sent if m["touser"] == user][start:]
                for i, m in enumerate(got):
                    if predicate(m):
                        return got[:i + 1]
                left = deadline - time.monotonic()
                assert left > 0, f"no such message to {user}; got {[text_of(m) for m in got]}"
                self._cond.wait(left)


def text_of(message: dict) -> str:
    if message["msgtype"] == "text":
        return message["text"]["content"]
    if message["msgtype"] == "template_card":
        return message["template_card"]["main_title"]["title"]
    return message["msgtype"]


def labels(message: dict) -> list[str]:
    if message["msgtype"] != "template_card":
        return []
    return [b["text"] for b in message["template_card"]["button_list"]]
