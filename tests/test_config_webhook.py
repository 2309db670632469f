"""Webhook mode's settings: read, checked like Telegram would, and the secret kept secret."""

from __future__ import annotations

import io
import os
import subprocess
import sys

import pytest
from loguru import logger

from cosmobot.config import ConfigError, WebhookSettings, load_settings
from cosmobot.logs import configure_logging
from tests.botrunner import REPO_ROOT
from tests.factories import TOKEN

URL = "COSMOBOT_WEBHOOK_URL"
LISTEN = "COSMOBOT_WEBHOOK_LISTEN"
SECRET = "COSMOBOT_WEBHOOK_SECRET"
GOOD = {URL: "https://bot.example.org/hook", SECRET: "Zq8_secret-token"}


def settings(**values: str):
    return load_settings({"COSMOBOT_TOKEN": TOKEN, **values}, env_file=None)


def test_without_a_url_the_bot_polls():
    assert settings().webhook is None
    # A secret or listen address left in the environment does not switch webhook mode on.
    assert settings(**{SECRET: "left-over", LISTEN: "0.0.0.0:9000"}).webhook is None


def test_the_url_switches_to_webhook_mode_listening_on_the_default_address():
    webhook = settings(**GOOD).webhook
    assert webhook == WebhookSettings(url=GOOD[URL], secret=GOOD[SECRET],
                                      host="127.0.0.1", port=8080)
    assert (webhook.path, webhook.listen) == ("/hook", "127.0.0.1:8080")


@pytest.mark.parametrize(("url", "listen", "path", "address"), [
    ("https://bot.example.org:8443/tg/hook", "0.0.0.0:8443", "/tg/hook", ("0.0.0.0", 8443)),
    ("https://bot.example.org", "localhost:80", "/", ("localhost", 80)),
    ("https://bot.example.org:88/", "[::1]:9000", "/", ("::1", 9000)),
    ("https://bot.example.org:443/h?k=1", " 10.0.0.5:8081 ", "/h", ("10.0.0.5", 8081)),
])
def test_the_worker_serves_the_urls_path_on_the_listen_address(url, listen, path, address):
    webhook = settings(**{**GOOD, URL: url, LISTEN: listen}).webhook
    assert (webhook.path, (webhook.host, webhook.port)) == (path, address)


@pytest.mark.parametrize(("name", "value", "message"), [
    (URL, "http://bot.example.org/hook", "public https URL"),
    (URL, "bot.example.org/hook", "public https URL"),
    (URL, "https:///hook", "public https URL"),
    (URL, "https://bot.example.org/my hook", "public https URL"),
    (URL, "https://bot.example.org:8080/hook", "port 80, 88, 443 or 8443"),
    (URL, "https://bot.example.org:99999/hook", "port 80, 88, 443 or 8443"),
    (SECRET, "", "must be set in webhook mode"),
    (SECRET, "has space", "1-256 letters, digits, _ or -"),
    (SECRET, "sécret", "1-256 letters"),
    (SECRET, "a" * 257, "1-256 letters"),
    (LISTEN, "8080", "host:port"),
    (LISTEN, "127.0.0.1", "host:port"),
    (LISTEN, "127.0.0.1:http", "host:port"),
    (LISTEN, "127.0.0.1:0", "host:port"),
    (LISTEN, "127.0.0.1:70000", "host:port"),
    (LISTEN, ":8080", "host:port"),
    (LISTEN, "127.0.0.1:8080/hook", "host:port"),
])
def test_a_bad_webhook_setting_names_its_variable(name, value, message):
    values = {**GOOD, name: value}
    if not value:
        del values[name]
    with pytest.raises(ConfigError, match=message) as caught:
        settings(**values)
    assert str(caught.value).startswith(name)


def test_the_longest_secret_telegram_takes_is_taken():
    assert settings(**{**GOOD, SECRET: "a" * 256}).webhook.secret == "a" * 256


@pytest.mark.parametrize(("name", "value"), [
    (URL, "http://bot.example.org/hook"),
    (URL, "https://bot.example.org:8080/hook"),
    (SECRET, ""),
    (SECRET, "with space"),
    (LISTEN, "nowhere"),
])
def test_python_m_cosmobot_exits_2_with_one_plain_line(tmp_path, name, value):
    env = {key: val for key, val in os.environ.items() if not key.startswith("COSMOBOT_")}
    env.update(PYTHONPATH=str(REPO_ROOT), COSMOBOT_TOKEN=TOKEN,
               COSMOBOT_DATABASE_URL=f"sqlite:///{tmp_path / 'bot.db'}", **GOOD)
    env[name] = value
    done = subprocess.run([sys.executable, "-m", "cosmobot", "run"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith(f"cosmobot: {name}") and GOOD[SECRET] not in line
    assert not (tmp_path / "bot.db").exists()  # it stopped before touching anything


def test_the_secret_stays_out_of_repr_and_logs():
    configured = settings(**GOOD)
    assert GOOD[SECRET] not in repr(configured) and GOOD[URL] in repr(configured)
    assert GOOD[SECRET] in configured.secrets and TOKEN in configured.secrets
    out = io.StringIO()
    configure_logging("INFO", configured.secrets, stream=out)
    try:
        logger.info("registering with secret_token={}", GOOD[SECRET])
    finally:
        logger.remove()
    assert "registering with secret_token=" in out.getvalue()
    assert GOOD[SECRET] not in out.getvalue()
