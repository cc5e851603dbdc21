"""A worker as operations see it: behind a proxy on a webhook, asked for its health, stopped
with SIGTERM, logging JSON with no token, secret or answer in it."""

from __future__ import annotations

import json

import pytest

from bench.standins.fakebotapi import FakeBotApi
from bench.standins.workers import Worker


@pytest.fixture
def fake():
    with FakeBotApi() as server:
        yield server


def test_health_endpoints_json_logs_and_a_clean_stop_on_sigterm(fake, tmp_path):
    log = tmp_path / "worker.log"
    worker = Worker("w1", fake, f"sqlite:///{tmp_path / 'bot.db'}", log, "--log-format", "json",
                    "--secret-token", "hook-secret-42", "--max-connections", "8", env={"CLUSTERBOT_FAKE_NOW": "2026-11-23T10:00:00"}).start()
    try:
        assert worker.get("/healthz") == (200, {"status": "alive"})
        assert worker.get("/readyz") == (200, {"status": "ready"})
        assert fake.webhook["max_connections"] == 8  # passed on to setWebhook
        fake.register_user(501, first_name="官员")
        fake.user_sends(501, "/new 保密的集群名称")
        assert "保密的集群名称" in fake.wait_for_bot_message(501, timeout=20)["text"]
    finally:
        assert worker.stop() == 0  # SIGTERM: the turn in hand finished, marks written, exit 0
    lines = log.read_text(encoding="utf-8").splitlines()
    entries = [json.loads(line) for line in lines]  # every line is one JSON object
    assert entries and all({"time", "level", "logger", "message", "worker"} <= set(e) for e in entries)
    assert {e["worker"] for e in entries} == {"w1"}
    text = log.read_text(encoding="utf-8")
    for secret in (fake.token, fake.token.split(":", 1)[1], "hook-secret-42", "保密的集群名称"):
        assert secret not in text
