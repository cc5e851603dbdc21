"""The web chat end to end: `clusterbot web` as a separate process on 127.0.0.1, driven by
a real headless Chromium (Debian's chromium and chromium-driver, through Selenium), and by
plain HTTP for what a browser would not send (forged and malformed requests)."""

from __future__ import annotations

import asyncio
import base64
import http.client
import http.cookiejar
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import aiohttp
import httpx
import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from bench.standins.localserver import LocalServer
from engine import load_rulesets
from locales import t
from tests.chat_helpers import asked_fact, chat_answer
from tests.conftest import eligible_facts, migrated_sqlite

ROOT = Path(__file__).parents[1]
NOW = "2026-11-23T10:00:00"
CHROMIUM, CHROMEDRIVER = shutil.which("chromium") or "/usr/bin/chromium", shutil.which("chromedriver") or "/usr/bin/chromedriver"
os.environ["SE_OFFLINE"] = "true"  # Selenium Manager must not look for drivers on the network


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`clusterbot web` in its own process, on a free port of 127.0.0.1."""

    def __init__(self, tmp: Path, *extra: str, env: dict | None = None, port: int | None = None):
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.db, self.log = migrated_sqlite(tmp / "web.db"), tmp / "web.log"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "web", "--listen", f"127.0.0.1:{self.port}", "--db", str(self.db),
             "--key-file", str(tmp / "web.key"), *extra],
            cwd=ROOT, env={**os.environ, "CLUSTERBOT_FAKE_NOW": NOW, **(env or {})},
            stdout=open(self.log, "ab"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while True:
            assert self.proc.poll() is None, self.log.read_text(errors="replace")
            assert time.monotonic() < deadline, "the web server did not start"
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)  # polling for the port to open, bounded by the deadline

    def stop(self) -> str:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        return self.log.read_text(errors="replace")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    running = Server(tmp_path_factory.mktemp("web"))
    yield running
    log = running.stop()
    assert "Traceback" not in log, log


def answers_in_db(db: Path, profile: str) -> dict:
    with sqlite3.connect(db) as con:
        rows = con.execute("select a.fact, a.value_json from answers a join profiles p on p.id = a.profile_id "
                           "where p.name = ? order by a.id", (profile,))
        return {fact: json.loads(value) for fact, value in rows}


def new_browser(downloads: Path) -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--lang=zh-CN",
                "--window-size=1000,1100", "--disable-gpu"):
        options.add_argument(arg)
    options.add_experimental_option("prefs", {"intl.accept_languages": "zh-CN,zh",
                                              "download.default_directory": str(downloads),
                                              "download.prompt_for_download": False})
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    return driver


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    driver = new_browser(tmp_path_factory.mktemp("downloads"))
    yield driver
    driver.quit()


class Page:
    """The chat page in one browser: what the bot said, and the user's typing and clicks."""

    def __init__(self, driver: webdriver.Chrome, base: str, fresh: bool = True):
        self.driver, self.base = driver, base
        if fresh:  # a new browser session: a new user
            driver.get(base + "/static/chat.css")
            driver.delete_all_cookies()
        driver.get(base + "/")
        self.wait(lambda: self.body("connected") == "1" and self.body("pending") == "0" and self.bots())

    def body(self, name: str) -> str | None:
        return self.driver.find_element(By.TAG_NAME, "body").get_attribute(f"data-{name}")

    def wait(self, condition, timeout: float = 15):
        # polled every 50 ms, not Selenium's default 500 ms: most answers take far less
        return WebDriverWait(self.driver, timeout, poll_frequency=0.05,
                             ignored_exceptions=[StaleElementReferenceException]).until(lambda _d: condition())

    def bots(self):
        return self.driver.find_elements(By.CSS_SELECTOR, "#log .msg.bot")

    def last(self):
        return self.bots()[-1]

    def last_text(self) -> str:
        return self.last().find_element(By.CSS_SELECTOR, ":scope > div").text

    def act(self, do) -> str:
        """Do something and wait for the bot's answer to it; the last message's text."""
        before = self.last().get_attribute("id")
        do()
        self.wait(lambda: self.body("pending") == "0" and self.last().get_attribute("id") != before)
        return self.last_text()

    def type(self, text: str) -> str:
        box = self.driver.find_element(By.ID, "text")
        return self.act(lambda: box.send_keys(text, Keys.ENTER))

    def forge(self, body: str, wait: bool = True) -> tuple[int, dict]:
        """Post what the page would never send, from inside it (its cookie, its origin)."""
        before = self.last().get_attribute("id")
        status, text = self.driver.execute_async_script("""
            const done = arguments[arguments.length - 1];
            fetch("/send", {method: "POST", body: arguments[0], headers: {"Content-Type": "application/json"}})
              .then(async r => done([r.status, await r.text()]));""", body)
        if wait:
            self.wait(lambda: self.last().get_attribute("id") != before)
        return status, json.loads(text)

    def buttons(self, where: str = ".choices") -> dict:
        return {b.text: b for b in self.last().find_elements(By.CSS_SELECTOR, f"{where} button")}

    def press(self, label: str, where: str = ".choices") -> str:
        button = self.buttons(where)[label]
        return self.act(button.click)

    def start_jiangsu(self, name: str) -> str:
        self.press(t("zh", "action.new"), ".actions")
        self.type(name)
        self.press(load_rulesets()["jiangsu"].short.get("zh"))
        return self.press(t("zh", "dialog.confirm_measures", n=1))

    def answer(self, fact: str, facts: dict) -> str:
        answer = chat_answer(fact, facts[fact])
        return self.press(answer) if answer in self.buttons() else self.type(answer)


def test_a_whole_jiangsu_prescreening_by_clicks_and_typing_resumes_after_a_reload(server, browser, tmp_path):
    page = Page(browser, server.base)
    assert "预审助手" in page.last_text() and browser.title == "产业集群认定预审助手"
    text = page.start_jiangsu("网页甲集群")
    facts, answered = eligible_facts(), []
    for _ in range(80):
        if page.last().get_attribute("data-kind") == "result":
            break
        if len(answered) == 5:  # a reload in the middle: the page greets and asks the same again
            browser.refresh()
            page = Page(browser, server.base, fresh=False)
            assert "网页甲集群" in page.driver.find_element(By.ID, "log").text
            assert asked_fact(page.last_text()) == answered[-1][1]
            answered.append(("reload", None))
        fact = asked_fact(text)
        assert fact, text
        text = page.answer(fact, facts)
        answered.append((fact, asked_fact(text)))
    else:
        raise AssertionError("too many questions")
    assert "符合条件" in text and "江苏" in text, text
    stored = answers_in_db(server.db, "网页甲集群")  # every acknowledged answer is in the database
    assert set(stored) == {fact for fact, _ in answered if fact != "reload"}
    assert stored["total_output"] == {str(y): v for y, v in facts["total_output"].items()}
    assert page.last().find_elements(By.CSS_SELECTOR, ".heading")  # the result's heading stands out
    shot = tmp_path / "result.png"
    browser.save_screenshot(str(shot))
    if os.environ.get("CLUSTERBOT_SCREENSHOTS"):  # for a person to look at the page
        shutil.copy(shot, Path(os.environ["CLUSTERBOT_SCREENSHOTS"]) / "web-result.png")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_export_is_downloaded(server, browser, tmp_path):
    page = Page(browser, server.base)
    page.type("/new 导出集群")
    page.press(t("zh", "dialog.all_measures"))
    page.press(t("zh", "yes"))  # 是否县域: 是
    page.type("/export")
    links = {a.text: a for a in browser.find_elements(By.CSS_SELECTOR, "#log .documents a")}
    report = f"导出集群-{t('zh', 'dialog.report_suffix')}.md"
    assert set(links) == {t("zh", "web.download", name="导出集群.json"), t("zh", "web.download", name=report)}
    browser.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(tmp_path)})
    links[t("zh", "web.download", name="导出集群.json")].click()
    links[t("zh", "web.download", name=report)].click()
    got, md = tmp_path / "导出集群.json", tmp_path / report
    page.wait(lambda: got.exists() and md.exists() and not list(tmp_path.glob("*.crdownload")))
    assert json.loads(got.read_text(encoding="utf-8")) == {"name": "导出集群", "county_level": True}
    assert "导出集群" in md.read_text(encoding="utf-8")


def test_a_double_click_presses_a_button_once(server, browser):
    page = Page(browser, server.base)
    page.type("/new 双击集群")
    page.press(load_rulesets()["jiangsu"].short.get("zh"))
    page.press(t("zh", "dialog.confirm_measures", n=1))
    ActionChains(browser).double_click(page.buttons()[t("zh", "yes")]).perform()
    page.wait(lambda: page.body("pending") == "0" and asked_fact(page.last_text()) == "area_km2")
    time.sleep(0.5)  # a second press would be answered by now (its answer follows the first's)
    pressed = [m.text for m in browser.find_elements(By.CSS_SELECTOR, "#log .msg.me")]
    assert pressed.count(t("zh", "yes")) == 1, pressed
    assert t("zh", "dialog.stale_button") not in browser.find_element(By.ID, "log").text


def test_a_double_click_on_a_language_button_switches_once(server, browser):
    # the header's buttons posted /lang at each click: two "Language set to English." and the
    # question asked twice
    page = Page(browser, server.base)
    page.type("/new 双击语言集群")
    ActionChains(browser).double_click(browser.find_element(By.CSS_SELECTOR, "header .lang:last-child")).perform()
    page.wait(lambda: page.body("pending") == "0")
    page.type("/list")  # answered after any second /lang: the posts go one at a time, in order
    said = [m.text for m in page.bots()]
    assert sum(t("en", "dialog.lang_set") in text for text in said) == 1, said


def test_on_a_phone_the_composer_stays_readable_and_the_upload_is_reachable_by_keyboard(server, browser):
    browser.set_window_size(375, 700)
    try:
        page = Page(browser, server.base)
        size = lambda css: browser.find_element(By.CSS_SELECTOR, css).size  # noqa: E731
        # the upload's label and the send button on one line each, not a character a line;
        # the text box wide enough for its hint (it ends with /help)
        assert size(".upload")["height"] < 40 and size("#send")["height"] < 40
        assert size("#text")["width"] > 300
        box = browser.find_element(By.ID, "text")
        box.click()
        box.send_keys(Keys.SHIFT, Keys.TAB)  # the control before the text box: the file chooser
        assert browser.switch_to.active_element.get_attribute("id") == "file"
        # a result taller than the window is shown from its start, where its verdicts are, not its end
        page.type("/new 手机集群")
        page.press(t("zh", "dialog.all_measures"))
        page.type("/result")
        top, height, log_top, log_height = browser.execute_script(
            "const r = document.querySelector('#log .msg.bot:last-child').getBoundingClientRect(),"
            " l = document.getElementById('log').getBoundingClientRect();"
            " return [r.top, r.height, l.top, l.height];")
        assert height > log_height and log_top <= top < log_top + 20, (top, height, log_top, log_height)
    finally:
        browser.set_window_size(1000, 1100)


def test_a_link_from_another_site_opens_the_same_users_page(server, browser):
    # The cookie was SameSite=Strict: followed from another site's link, the page came without
    # it, made a new user and replaced the cookie: /list said 还没有集群, for good.
    page = Page(browser, server.base)
    page.type("/new 链接集群")
    browser.get(f"data:text/html,<a id=go href='{server.base}/'>clusterbot</a>")  # another site
    browser.find_element(By.ID, "go").click()
    page = Page(browser, server.base, fresh=False)
    assert "链接集群" in page.type("/list")


def contrast(color: str, background: str) -> float:
    """WCAG's contrast ratio of two computed colours (rgb or rgba on the header's red)."""
    def luminance(css: str) -> float:
        r, g, b, *alpha = (float(x) for x in css[css.index("(") + 1:-1].split(","))
        if alpha:  # over the header's #9b1c1c
            r, g, b = (c * alpha[0] + h * (1 - alpha[0]) for c, h in zip((r, g, b), (0x9b, 0x1c, 0x1c)))
        lin = [(c / 255 / 12.92) if c / 255 <= 0.03928 else ((c / 255 + 0.055) / 1.055) ** 2.4 for c in (r, g, b)]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]
    light, dark = sorted((luminance(color), luminance(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_every_button_stays_readable_under_the_mouse(server, browser):
    # the header's 中文/English turned white on the buttons' light pink hover: unreadable
    page = Page(browser, server.base)
    for button in browser.find_elements(By.CSS_SELECTOR, "header button, #composer button, #log button"):
        ActionChains(browser).move_to_element(button).perform()
        color, background = browser.execute_script(
            "const s = getComputedStyle(arguments[0]); return [s.color, s.backgroundColor];", button)
        assert contrast(color, background) >= 4.5, (button.text, color, background)
    assert page.body("connected") == "1"


def test_two_browser_sessions_never_see_each_others_clusters(server, browser, tmp_path):
    first = Page(browser, server.base)
    first.type("/new 甲方集群")
    theirs_button = first.buttons()[t("zh", "dialog.all_measures")].get_attribute("data-data")
    other = new_browser(tmp_path)
    try:
        second = Page(other, server.base)
        second.type("/new 乙方集群")
        mine, theirs = first.type("/list"), second.type("/list")
        assert "甲方集群" in mine and "乙方集群" not in mine
        assert "乙方集群" in theirs and "甲方集群" not in theirs
        # The first session's button, posted from the second: refused, nothing chosen.
        status, _ = second.forge(json.dumps({"button": theirs_button}))
        assert status == 200 and second.last_text() == t("zh", "dialog.not_yours")
        assert "甲方集群" not in other.find_element(By.ID, "log").text
    finally:
        other.quit()


def test_an_upload_reaches_the_dialog(server, browser, tmp_path):
    page = Page(browser, server.base)
    page.type("/new 上传集群")
    form = tmp_path / "申报书.json"
    form.write_text(json.dumps({"name": "上传集群", "county_level": True}, ensure_ascii=False), encoding="utf-8")
    answer = page.act(lambda: page.driver.find_element(By.ID, "file").send_keys(str(form)))
    assert t("zh", "web.uploaded", name="申报书.json") in page.driver.find_element(By.ID, "log").text
    # the button names the 申报表 as the dialog, /form and the form's own title do (not 申报书)
    assert page.driver.find_element(By.CSS_SELECTOR, ".upload span").text == "上传申报表"
    assert answer  # the dialog's answer to the file, whatever it is until the dialog reads forms
    big = tmp_path / "太大.json"
    big.write_bytes(b"0" * ((5 << 20) + 1))
    refused = page.act(lambda: page.driver.find_element(By.ID, "file").send_keys(str(big)))
    # said at once, nothing sent; the file too large, not an upload "unreadable" for want of a form field
    assert refused == t("zh", "web.too_large", name="太大.json", limit=5)


def test_bad_and_forged_input_is_answered_in_the_users_language(server, browser):
    page = Page(browser, server.base)
    for body in ("not json", "[1, 2]", json.dumps({"text": 5}), json.dumps({}),
                 json.dumps({"text": "a", "button": "b"})):
        status, answer = page.forge(body, wait=False)
        assert status == 400 and answer["error"] == t("zh", "web.bad_request"), (body, answer)
    status, answer = page.forge(json.dumps({"text": "x" * 20000}), wait=False)
    assert status == 413 and answer["error"] == t("zh", "dialog.too_long")
    # A pasted text longer than a message may be is sent whole and refused in words, never cut
    # by the box to its first 2000 characters (and read as an answer).
    box = page.driver.find_element(By.ID, "text")
    page.driver.execute_script("arguments[0].value = arguments[1]", box, "4" * 2001)
    assert page.act(lambda: box.send_keys(Keys.ENTER)).startswith(t("zh", "dialog.too_long"))
    status, _ = page.forge(json.dumps({"button": "c:999999:forged:1"}))
    assert status == 200 and page.last_text() == t("zh", "dialog.not_yours")
    page.type("/lang en")
    status, answer = page.forge("{", wait=False)
    assert status == 400 and answer["error"] == t("en", "web.bad_request")
    assert page.driver.find_element(By.ID, "send").text == t("en", "web.send")  # the labels follow /lang


# --- over plain HTTP: the access modes, and what a browser would not send ----------------------

class Client:
    """An HTTP client with its own cookies, and the event stream of its chat."""

    def __init__(self, base: str, headers: dict | None = None):
        self.base, self.headers = base, {"Accept-Language": "zh-CN", **(headers or {})}
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.stream = None

    def request(self, path: str, data: bytes | None = None, content_type: str = "application/json",
                headers: dict | None = None) -> tuple[int, str]:
        req = urllib.request.Request(self.base + path, data=data, headers={**self.headers, **(headers or {})})
        if data is not None:
            req.add_header("Content-Type", content_type)
        try:
            with self.opener.open(req, timeout=15) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def say(self, text: str) -> tuple[int, dict]:
        status, body = self.request("/send", json.dumps({"text": text}).encode())
        return status, json.loads(body)

    def listen(self) -> int:
        """Open the event stream (with this client's cookie); its status."""
        host = urllib.parse.urlsplit(self.base)
        self.stream = http.client.HTTPConnection(host.hostname, host.port, timeout=15)
        cookie = "; ".join(f"{c.name}={c.value}" for c in self.jar)
        self.stream.request("GET", "/events", headers={**self.headers, "Cookie": cookie})
        self.response = self.stream.getresponse()
        return self.response.status

    def read_until(self, predicate) -> dict:
        """The next event the predicate accepts (the stream's timeout bounds the wait)."""
        while True:
            line = self.response.readline().decode()
            assert line, "the stream ended"
            if line.startswith("data: ") and predicate(event := json.loads(line[6:])):
                return event


def test_the_shared_secret_is_required_and_never_logged(tmp_path):
    secret = "口令-7f3a9c1e2b"
    server = Server(tmp_path, env={"CLUSTERBOT_WEB_SECRET": secret})
    try:
        anonymous = Client(server.base)
        status, page = anonymous.request("/")
        assert status == 200 and 'type="password"' in page and "/static/chat.js" not in page
        assert anonymous.say("/new 偷看")[0] == 401 and anonymous.listen() == 401
        status, page = anonymous.request("/login", urllib.parse.urlencode({"secret": "wrong"}).encode(),
                                         "application/x-www-form-urlencoded")
        assert status == 401 and t("zh", "web.login_wrong") in page
        assert anonymous.say("/new 偷看")[0] == 401
        status, page = anonymous.request("/login", urllib.parse.urlencode({"secret": secret}).encode(),
                                         "application/x-www-form-urlencoded")
        assert status == 200 and "/static/chat.js" in page  # redirected to the chat
        assert anonymous.listen() == 200
        assert anonymous.say("/new 登录后集群") == (200, {"lang": "zh"})
        assert "登录后集群" in anonymous.read_until(lambda e: "登录后集群" in e["text"])["text"]
    finally:
        log = server.stop()
    assert secret not in log and "7f3a9c1e2b" not in log and "Traceback" not in log


def test_a_server_started_in_english_shows_its_pages_in_english(tmp_path):
    # `--lang en`: the dialog answered a Chinese browser in English, but the login page, the
    # chat page's labels until its first answer, and the refusals were Chinese
    server = Server(tmp_path, "--lang", "en", env={"CLUSTERBOT_WEB_SECRET": "passphrase-8c2e"})
    try:
        client = Client(server.base)  # Accept-Language: zh-CN
        status, page = client.request("/")
        assert status == 200 and t("en", "web.login_heading") in page and '<html lang="en">' in page
        assert client.say("/list") == (401, {"error": t("en", "web.login_needed")})
        status, page = client.request("/login", urllib.parse.urlencode({"secret": "passphrase-8c2e"}).encode(),
                                      "application/x-www-form-urlencoded")
        assert status == 200 and f"<title>{t('en', 'web.title')}</title>" in page
    finally:
        assert "Traceback" not in server.stop()


def test_the_login_address_opened_again_shows_the_login_form(tmp_path):
    # After a wrong passphrase the address bar reads /login; opened again from the browser's
    # history (or a bookmark) it answered 405 Method Not Allowed, in English, and nothing else.
    server = Server(tmp_path, env={"CLUSTERBOT_WEB_SECRET": "口令-4e1d"})
    try:
        status, page = Client(server.base).request("/login")
        assert status == 200 and 'type="password"' in page and t("zh", "web.login_heading") in page
    finally:
        assert "Traceback" not in server.stop()


def test_another_secret_logs_everyone_out(tmp_path):
    """The login cookie names the secret it was given for (a tag derived from it, never the
    secret): a restart with the same secret keeps it; one with another refuses it."""
    secret = "旧口令-51c0d2"

    def started(secret):
        return Server(tmp_path, env={"CLUSTERBOT_WEB_SECRET": secret})

    server = started(secret)
    client = Client(server.base)
    try:
        assert client.request("/login", urllib.parse.urlencode({"secret": secret}).encode(),
                              "application/x-www-form-urlencoded")[0] == 200
        assert client.say("/list")[0] == 200
    finally:
        assert "Traceback" not in server.stop()
    session = json.loads(base64.b64decode(next(iter(client.jar)).value.split(".")[0] + "=="))  # signed, not hidden
    assert isinstance(session["auth"], str) and "51c0d2" not in json.dumps(session, ensure_ascii=False)
    for secret, status in ((secret, 200), ("新口令-8e4f", 401)):
        server = started(secret)
        try:
            client.base = server.base  # the same key file, the same cookie
            assert client.say("/list")[0] == status and client.listen() == status
            assert ('type="password"' in client.request("/")[1]) == (status == 401)
        finally:
            assert "Traceback" not in server.stop()


def test_logins_from_another_site_are_refused_and_wrong_ones_are_slowed(tmp_path):
    secret = "口令-2d9b"
    server = Server(tmp_path, env={"CLUSTERBOT_WEB_SECRET": secret})
    form = "application/x-www-form-urlencoded"

    def login(client, given, **headers):
        return client.request("/login", urllib.parse.urlencode({"secret": given}).encode(), form, headers)

    try:
        client = Client(server.base)
        status, page = login(client, secret, Origin="http://evil.example")
        assert status == 403 and t("zh", "web.cross_site") in page and client.say("/list")[0] == 401
        for i in range(10):
            assert login(client, f"猜{i}")[0] == 401
        status, page = login(client, secret)  # the right one too, until the window has passed
        wait = t("zh", "web.login_wait", seconds=300)
        assert status == 429 and wait[:wait.index("300")] in page and client.say("/list")[0] == 401
        # another address, named by a proxy on this machine, is not held up
        elsewhere = Client(server.base, {"X-Forwarded-For": "10.0.0.7"})
        assert login(elsewhere, "guess")[0] == 401 and login(elsewhere, secret)[0] == 200
        assert elsewhere.say("/list")[0] == 200
    finally:
        assert "Traceback" not in server.stop()


def test_behind_a_proxy_the_user_header_names_the_user(tmp_path):
    server = Server(tmp_path, "--user-header", "X-Remote-User")
    try:
        assert Client(server.base).say("/list")[0] == 401
        alice, bob = Client(server.base, {"X-Remote-User": "alice"}), Client(server.base, {"X-Remote-User": "bob"})
        assert alice.listen() == 200 and bob.listen() == 200
        alice.say("/new 爱丽丝集群")
        alice.read_until(lambda e: "爱丽丝集群" in e["text"])
        bob.say("/list")
        assert "爱丽丝集群" not in bob.read_until(lambda e: True)["text"]
        again = Client(server.base, {"X-Remote-User": "alice"})  # another browser, the same person
        again.say("/list")
        assert "爱丽丝集群" in alice.read_until(lambda e: "爱丽丝集群" in e["text"] and "1." in e["text"])["text"]
    finally:
        assert "Traceback" not in server.stop()


def test_a_repeated_post_is_handled_once(server):
    client = Client(server.base)
    client.request("/")
    for _ in range(2):
        assert client.request("/send", json.dumps({"text": "/new 重复集群", "id": "same-id"}).encode())[0] == 200
    with sqlite3.connect(server.db) as con:
        assert con.execute("select count(*) from profiles where name = '重复集群'").fetchone() == (1,)


def test_a_question_asked_again_leaves_its_older_message_dead(server):
    """/back asks county_level again as a new message: 否 and 依据 posted with the first
    message's id are refused and the question asked again; the newest message's 否 answers."""
    client = Client(server.base)
    client.request("/")
    assert client.listen() == 200

    def post(**body) -> dict:  # the bot's events up to the next question (its buttons), merged
        assert client.request("/send", json.dumps(body).encode())[0] == 200
        events = [client.read_until(lambda e: True)]
        while not (events[-1]["choices"] or events[-1]["actions"]):
            events.append(client.read_until(lambda e: True))
        return {**events[-1], "text": "\n".join(e["text"] for e in events)}

    post(text="/new 网页重问集群")
    first = post(text="江苏")
    assert asked_fact(first["text"].split("\n\n")[-1]) == "county_level"
    post(text="是")
    again = post(text="/back")
    assert asked_fact(again["text"]) == "county_level" and again["id"] != first["id"]
    no = next(data for label, data in first["choices"] if label == "否")
    why = next(data for label, data in first["actions"] if label == t("zh", "action.why"))
    for data in (no, why):
        got = post(button=data, pressed=first["id"])
        assert got["text"].startswith(t("zh", "dialog.stale_button")) and "原文" not in got["text"], data
        assert asked_fact(got["text"]) == "county_level" and not got["edit_of"]
    assert answers_in_db(server.db, "网页重问集群") == {"county_level": True}
    post(button=no, pressed=got["id"])  # the one asking now
    assert answers_in_db(server.db, "网页重问集群") == {"county_level": False}


def test_a_lone_surrogate_is_refused_not_a_server_error(server):
    """JSON may escape half of a UTF-16 pair (\\ud800): no character, with no UTF-8 to hash
    or store; refused like any malformed body (the module's server logs no traceback)."""
    client = Client(server.base)
    client.request("/")
    for body in (r'{"text": "hi", "id": "\ud800"}', r'{"text": "a\udfffb"}', r'{"button": "\ud800", "id": "x"}',
                 r'{"text": "hi", "pressed": "\udc00"}'):
        status, answer = client.request("/send", body.encode())
        assert status == 400 and json.loads(answer)["error"] == t("zh", "web.bad_request"), (body, answer)
    assert client.say("好\U0001f600")[0] == 200  # a pair, one character, is a character


def test_behind_a_proxy_on_another_port_the_page_may_post(server):
    # deployment.md's nginx passes `Host $host`, which is the name without the port: a proxy
    # listening on 8443 gave Host chat.example.gov.cn for a page whose Origin names :8443, and
    # every login, message and upload was refused as another site's
    client = Client(server.base)
    client.request("/")
    for host, origin, status in (("chat.example.gov.cn", "https://chat.example.gov.cn:8443", 200),
                                 ("chat.example.gov.cn:8443", "https://chat.example.gov.cn:8443", 200),
                                 ("Chat.Example.gov.cn", "https://chat.example.gov.cn", 200),
                                 ("chat.example.gov.cn", "https://evil.example:8443", 403),
                                 ("chat.example.gov.cn:8443", "https://chat.example.gov.cn:9443", 403),
                                 ("chat.example.gov.cn", "https://chat.example.gov.cn.evil.example", 403)):
        answer = client.request("/send", json.dumps({"text": "/list"}).encode(), headers={"Host": host, "Origin": origin})
        assert answer[0] == status, (host, origin, answer)


def test_a_body_past_every_limit_is_refused_in_words(server):
    """A body larger than the server reads at all (a message pasted megabytes long, a file the
    page did not check first) was answered `Content Too Large` in English plain text, where
    every other refusal is the JSON the page shows, in the user's language."""
    for lang, accept in (("zh", "zh-CN"), ("en", "en-US")):
        client = Client(server.base, {"Accept-Language": accept})
        client.request("/")
        status, body = client.request("/send", json.dumps({"text": "好" * (3 << 20)}).encode())
        assert (status, json.loads(body)) == (413, {"error": t(lang, "dialog.too_long")}), body[:200]
        form = (b"--x\r\nContent-Disposition: form-data; name=\"file\"; filename=\"scan.docx\"\r\n\r\n"
                + b"0" * (6 << 20) + b"\r\n--x--\r\n")
        status, body = client.request("/upload", form, "multipart/form-data; boundary=x")
        assert (status, json.loads(body)) == (413, {"error": t(lang, "web.refused_large", limit=5)}), body[:200]


def test_a_deeply_nested_body_is_refused_not_a_server_error(server):
    """JSON nested some thousands deep, within the 16 KB a message may be, exhausts the
    parser's recursion: refused as any malformed body, never a 500 with a traceback."""
    client = Client(server.base)
    client.request("/")
    for body in ("[" * 8000 + "]" * 8000, '{"text": ' + "[" * 7000 + "]" * 7000 + "}"):
        status, answer = client.request("/send", body.encode())
        assert status == 400 and json.loads(answer)["error"] == t("zh", "web.bad_request"), (status, answer[:200])
    assert client.say("/list")[0] == 200


def sse_events(lines):
    """(id, event) of each event of a server-sent event stream's lines."""
    row_id = None
    for line in lines:
        if line.startswith("id: "):
            row_id = int(line[4:])
        elif line.startswith("data: "):
            yield row_id, json.loads(line[6:])


def test_a_reconnecting_page_gets_what_its_lost_connection_carried_once(server):
    """A reply written to a connection that then dropped (or a half-open one) is marked sent;
    the page's next stream names the last event it got (Last-Event-ID, as EventSource does)
    and is sent again what came after it, once. A new page (no Last-Event-ID): nothing again."""
    with httpx.Client(base_url=server.base, headers={"Accept-Language": "zh-CN"}, timeout=15) as client:
        client.get("/")

        def say(text):
            assert client.post("/send", json={"text": text}).status_code == 200

        with client.stream("GET", "/events") as stream:
            got = sse_events(stream.iter_lines())
            say("/new 续传集群")
            first, created = next(got)
            assert first is not None and "续传集群" in created["text"]
            say("/list")  # answered once written to this stream, which is then dropped (its page lost it)
            next(got)  # written and marked sent; waited for here: dropped sooner, it was still to send (a
            # reply for a page that closed waits for the next one), and the next stream got it first
        with client.stream("GET", "/events") as stream:  # a page loaded afresh
            got = sse_events(stream.iter_lines())
            say("/status")
            fresh, status = next(got)  # not the /list before it
            assert fresh > first and not status["text"].startswith(t("zh", "dialog.list_heading"))
        # a stream the page opened anew (its old one ended by a proxy's error) names it in ?last=
        with client.stream("GET", f"/events?last={first}") as stream:
            got = sse_events(stream.iter_lines())
            say("/list")
            events = [next(got) for _ in range(3)]
        assert [row_id for row_id, _ in events] == sorted({row_id for row_id, _ in events}) and events[0][0] > first
        (_, listed), again, _ = events  # the /list the first stream missed, the /status it had, the new one
        assert listed["text"].startswith(t("zh", "dialog.list_heading")) and again == (fresh, status)
        with client.stream("GET", "/events", headers={"Last-Event-ID": str(events[-1][0])}) as stream:
            got = sse_events(stream.iter_lines())
            say("/status")
            assert next(got)[0] > events[-1][0]  # nothing sent again: the newest was shown


def test_forged_cookies_and_cross_site_posts_are_refused(server):
    client = Client(server.base)
    assert client.request("/")[0] == 200
    for cookie in client.jar:
        cookie.value = cookie.value[:-4] + "AAAA"  # a changed signature
    status, body = client.say("/new 伪造")
    # login-free: there is no passphrase to enter; the session is gone, and a reload starts one
    assert status == 401 and body["error"] == t("zh", "web.session_lost")
    assert Client(server.base).say("/new 无cookie")[0:2] == (401, {"error": t("zh", "web.session_lost")})
    english = Client(server.base, {"Accept-Language": "en-US,en"})
    assert english.say("/list") == (401, {"error": t("en", "web.session_lost")})
    client = Client(server.base)
    client.request("/")
    status, body = client.request("/send", b'{"text": "/new x"}', headers={"Origin": "http://evil.example"})
    assert status == 403 and json.loads(body)["error"] == t("zh", "web.cross_site")
    status, body = client.request("/upload", b"--x\r\n", "multipart/form-data; boundary=x")
    assert status == 400 and json.loads(body)["error"] == t("zh", "web.bad_upload", limit=5)
    big = b"--x\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.json\"\r\n\r\n" + b"0" * ((5 << 20) + 1000) \
        + b"\r\n--x--\r\n"
    status, body = client.request("/upload", big, "multipart/form-data; boundary=x")
    assert status == 413 and json.loads(body)["error"] == t("zh", "web.too_large", name="big.json", limit=5)


def test_a_deadline_reminder_reaches_the_open_page(tmp_path):
    """As in the Telegram test: certified nationally on 2024-06-01, at 08:59:57 on 2027-03-31
    the 30-day reminder of the annual report due 2027-04-30 falls due at 09:00."""
    server = Server(tmp_path, "--reminder-interval", "0.5", env={"CLUSTERBOT_FAKE_NOW": "2027-03-31T08:59:57"})
    try:
        client = Client(server.base)
        client.request("/")
        assert client.listen() == 200
        client.say("/track 甲集群 national 2024-06-01")
        reminder = client.read_until(lambda e: "⏰ 期限提醒" in e["text"] and "2027年4月30日" in e["text"])
        assert "第十六条" in reminder["text"]
    finally:
        assert "Traceback" not in server.stop()


def test_listening_beyond_this_machine_needs_a_secret_or_a_proxy(tmp_path):
    run = subprocess.run([sys.executable, "-m", "bot.cli", "web", "--listen", "0.0.0.0:8080", "--db",
                          str(tmp_path / "x.db"), "--key-file", str(tmp_path / "k")],
                         cwd=ROOT, capture_output=True, text=True, timeout=30,
                         env={k: v for k, v in os.environ.items() if k != "CLUSTERBOT_WEB_SECRET"})
    assert run.returncode == 2 and "--secret" in run.stderr and "Traceback" not in run.stderr
    run = subprocess.run([sys.executable, "-m", "bot.cli", "web", "--listen", "nowhere"],
                         cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert run.returncode == 2 and "HOST:PORT" in run.stderr


def test_help_in_both_languages():
    run = subprocess.run([sys.executable, "-m", "bot.cli", "web", "--help"], cwd=ROOT, capture_output=True,
                         text=True, timeout=30)
    assert run.returncode == 0 and "访问口令" in run.stdout and "shared secret" in run.stdout


def test_an_english_browser_is_answered_in_english(server):
    client = Client(server.base, {"Accept-Language": "en-US,en;q=0.9"})
    status, page = client.request("/")
    assert status == 200 and '<html lang="en">' in page and t("en", "web.placeholder") in page
    assert client.listen() == 200
    assert client.say("/start") == (200, {"lang": "en"})
    assert client.read_until(lambda e: True)["text"].startswith(t("en", "dialog.welcome").split("\n")[0])
    status, body = client.request("/send", b"{not json")
    assert status == 400 and json.loads(body)["error"] == t("en", "web.bad_request")


def test_a_reply_waits_for_its_page_even_across_a_restart(tmp_path):
    """Committed while no page was open, killed before it could be sent: the reply is in the
    outbox, and the page opened after the restart receives it."""
    server = Server(tmp_path)
    client = Client(server.base)
    client.request("/")
    assert client.say("/new 等待集群") == (200, {"lang": "zh"})  # no page open: nothing could be shown
    server.proc.kill()
    server.proc.wait(10)
    again = Server(tmp_path)  # the same database and cookie key, on another port
    try:
        client.base = again.base
        assert client.listen() == 200
        assert "等待集群" in client.read_until(lambda e: "等待集群" in e["text"])["text"]
    finally:
        assert "Traceback" not in again.stop()


def test_a_message_the_server_never_got_is_said_to_be_lost(browser, tmp_path):
    # the page said only 连接已断开，正在重连… and the answer typed was gone without a word
    down = Server(tmp_path)
    page = Page(browser, down.base)
    # The page's waits run twenty times faster: its five retries took 11.5 s of the suite.
    page.driver.execute_script("const wait = window.setTimeout;"
                               " window.setTimeout = (f, ms, ...rest) => wait(f, (ms || 0) / 20, ...rest);")
    down.stop()
    page.driver.find_element(By.ID, "text").send_keys("45, 48, 52", Keys.ENTER)
    page.wait(lambda: "error" in page.last().get_attribute("class"), timeout=40)  # after the page's retries
    assert page.last_text() == t("zh", "web.not_sent") and page.body("pending") == "0"
    # the answer typed is back in the box, to be sent again as it was, not typed again
    assert page.driver.find_element(By.ID, "text").get_attribute("value") == "45, 48, 52"


def test_a_page_whose_session_is_gone_says_so_instead_of_reconnecting_for_ever(browser, tmp_path):
    # Its cookie cleared (or a new key): the stream was refused (401) at every try, and the page
    # said 连接已断开，正在重连… for ever; only a message typed was told why.
    first = Server(tmp_path)
    page = Page(browser, first.base)
    browser.delete_all_cookies()
    first.stop()
    again = Server(tmp_path, port=first.port)
    try:
        status = browser.find_element(By.ID, "status")
        page.wait(lambda: status.is_displayed() and status.text == t("zh", "web.session_lost"), timeout=20)
        browser.find_element(By.CSS_SELECTOR, "header .lang:last-child").click()  # the labels follow: no error
        assert status.text == t("zh", "web.session_lost") and page.body("connected") == ""
    finally:
        assert "Traceback" not in again.stop()


class BadGateway(BaseHTTPRequestHandler):
    """What a proxy answers while the server behind it restarts."""

    def do_GET(self):
        self.send_response(502)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        self.wfile.write(b"<h1>502 Bad Gateway</h1>")

    def log_message(self, *args):
        pass


def test_the_page_hears_its_replies_again_after_a_proxys_error_page(browser, tmp_path):
    # A 502 instead of the event stream ended the page's EventSource for good: 正在重连… stayed,
    # and the answers to what was typed after the restart never appeared.
    first = Server(tmp_path)
    page = Page(browser, first.base)
    page.type("/new 代理集群")
    first.stop()
    proxy = ThreadingHTTPServer(("127.0.0.1", first.port), BadGateway)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    try:
        page.wait(lambda: page.body("connected") == "")
        time.sleep(1.5)  # the stream's own reconnection (1 s) meets the 502
    finally:
        proxy.shutdown()
        proxy.server_close()
    again = Server(tmp_path, port=first.port)
    try:
        page.wait(lambda: page.body("connected") == "1")
        answer = page.type(load_rulesets()["jiangsu"].short.get("zh"))
        assert asked_fact(answer) == "county_level", answer
    finally:
        assert "Traceback" not in again.stop()


class Nginx(LocalServer):
    """A reverse proxy in front of the web server, as nginx is with its default
    client_max_body_size (1 MB): a larger body is answered with its own 413 page, never passed on."""

    LIMIT = 1 << 20

    def __init__(self, upstream: str):
        super().__init__()
        self.upstream = upstream

    def routes(self, app) -> None:
        from aiohttp import web as aioweb

        async def forward(request):
            if (request.content_length or 0) > self.LIMIT:
                return aioweb.Response(status=413, content_type="text/html",
                                       text="<html><center><h1>413 Request Entity Too Large</h1></center>"
                                            "<hr><center>nginx</center></html>")
            headers = {k: v for k, v in request.headers.items() if k.lower() not in ("content-length",
                                                                                     "transfer-encoding")}
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None)) as client:
                async with client.request(request.method, self.upstream + request.path_qs, headers=headers,
                                          data=await request.read(), allow_redirects=False) as answer:
                    response = aioweb.StreamResponse(status=answer.status, headers={
                        k: v for k, v in answer.headers.items()
                        if k.lower() not in ("content-length", "transfer-encoding", "content-encoding")})
                    await response.prepare(request)
                    async for chunk in answer.content.iter_any():
                        await response.write(chunk)
                    return response

        app.router.add_route("*", "/{path:.*}", forward)

    def __exit__(self, *exc) -> None:
        async def end_streams():  # the page's event stream it forwards, ended before its loop stops
            tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        self.run(end_streams())
        super().__exit__(*exc)


def test_an_upload_a_proxy_refuses_as_too_large_is_said_so(server, browser, tmp_path):
    # nginx's own 413 page was read as no answer: 消息可能未送达服务器…请在连接恢复后重新发送,
    # and the official sent the 1.5 MB form (scanned seals) again and again, refused each time
    with Nginx(server.base) as proxy:
        page = Page(browser, proxy.base_url)
        form = tmp_path / "申报表（盖章扫描）.docx"
        form.write_bytes(os.urandom(3 << 19))
        refused = page.act(lambda: page.driver.find_element(By.ID, "file").send_keys(str(form)))
        assert refused == t("zh", "web.refused_large", limit=5)
        # the line shown for the file before its answer does not say it arrived
        sent = browser.find_elements(By.CSS_SELECTOR, "#log .msg.me")[-1].text
        assert "申报表（盖章扫描）.docx" in sent and "已上传" not in sent, sent
