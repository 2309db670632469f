"""The leader registers the webhook with Telegram only when it is not registered as it is."""

from __future__ import annotations

import asyncio
import dataclasses

import httpx
import pytest
import pytest_asyncio
from telegram import Bot

from cosmobot.bot.duties import ALLOWED_UPDATES
from cosmobot.bot.registration import SETTING, register_or_say_why, register_webhook
from cosmobot.config import WebhookSettings
from cosmobot.storage.models import BotSetting
from tests.factories import BOT_ID, TOKEN

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(60)]

HOOK = WebhookSettings(url="https://bot.example.org/hook", secret="first-secret_1")


@pytest_asyncio.fixture
async def bot(fake_api, db):
    async with Bot(TOKEN, base_url=fake_api.base_url) as bot:
        yield bot


def set_calls(fake_api) -> list[dict]:
    return [call.params for call in fake_api.calls("setWebhook") if call.status == 200]


async def test_the_first_leader_registers_the_url_the_secret_and_the_updates(bot, fake_api):
    assert await register_webhook(bot, HOOK, ALLOWED_UPDATES) is True
    hook = fake_api.webhook()
    assert (hook["url"], hook["secret_token"]) == (HOOK.url, HOOK.secret)
    info = httpx.get(f"{fake_api.base_url}{TOKEN}/getWebhookInfo").json()["result"]
    assert set(info["allowed_updates"]) == set(ALLOWED_UPDATES)
    kept = BotSetting.read(BOT_ID, SETTING)
    assert kept and HOOK.secret not in kept and HOOK.url not in kept


async def test_a_leader_finding_it_registered_as_it_is_leaves_it_alone(bot, fake_api):
    await register_webhook(bot, HOOK, ALLOWED_UPDATES)
    assert await register_webhook(bot, HOOK, ALLOWED_UPDATES) is False
    assert await register_webhook(bot, HOOK, list(reversed(ALLOWED_UPDATES))) is False
    assert len(set_calls(fake_api)) == 1


@pytest.mark.parametrize("changed", [
    {"url": "https://bot.example.org:8443/hook"},
    {"url": "https://bot.example.org/hook2"},
    {"secret": "second-secret_2"},
    {"secret": "first-secret_"},
])
async def test_a_changed_url_or_secret_is_registered_again(bot, fake_api, changed):
    await register_webhook(bot, HOOK, ALLOWED_UPDATES)
    new = dataclasses.replace(HOOK, **changed)
    assert await register_webhook(bot, new, ALLOWED_UPDATES) is True
    hook = fake_api.webhook()
    assert (hook["url"], hook["secret_token"]) == (new.url, new.secret)
    assert len(set_calls(fake_api)) == 2
    assert await register_webhook(bot, new, ALLOWED_UPDATES) is False


async def test_changed_kinds_of_update_are_registered_again(bot, fake_api):
    await register_webhook(bot, HOOK, ALLOWED_UPDATES)
    assert await register_webhook(bot, HOOK, [*ALLOWED_UPDATES, "my_chat_member"]) is True


async def test_a_webhook_removed_or_changed_by_hand_is_set_again(bot, fake_api):
    await register_webhook(bot, HOOK, ALLOWED_UPDATES)
    await bot.delete_webhook()
    assert fake_api.webhook() is None
    assert await register_webhook(bot, HOOK, ALLOWED_UPDATES) is True
    await asyncio.sleep(1.1)  # Telegram takes one setWebhook a second
    await bot.set_webhook("https://elsewhere.example.org/x", secret_token=HOOK.secret)
    assert await register_webhook(bot, HOOK, ALLOWED_UPDATES) is True
    assert fake_api.webhook()["url"] == HOOK.url


async def test_a_url_telegram_refuses_is_logged_and_nothing_is_kept(bot, fake_api, log_lines):
    refused = dataclasses.replace(HOOK, url="https://localhost/hook")
    await register_or_say_why(bot, refused, ALLOWED_UPDATES)
    assert fake_api.webhook() is None and BotSetting.read(BOT_ID, SETTING) is None
    (line,) = [line for line in log_lines if line.startswith("ERROR")]
    assert "COSMOBOT_WEBHOOK_URL" in line and "is reserved" in line
