"""setWebhook, deleteWebhook and getWebhookInfo in the fake, answered like Telegram."""

import asyncio
import time

import pytest
from telegram.error import Conflict

from tests.fake_api_tests.client import OTHER, TOKEN, error_body, make_bot, raw
from tests.fake_api_tests.workers import HOOK_URL, SECRET
from tests.fakebotapi import FakeBotApi
from tests.fakebotapi.errors import ENDED_BY_SET_WEBHOOK, WEBHOOK_ACTIVE

pytestmark = pytest.mark.timeout(30)

BAD = "Bad Request: bad webhook: "
INVALID_URL = "Bad Request: invalid webhook URL specified"
SECRET_CHARACTERS = "Bad Request: secret token contains unallowed characters"
REFUSED = {
    "http": ({"url": "http://bot.example.org/hook"},
             BAD + "An HTTPS URL must be provided for webhook"),
    "port": ({"url": "https://bot.example.org:8080/hook"},
             BAD + "Webhook can be set up only on ports 80, 88, 443 or 8443"),
    "secret characters": ({"url": HOOK_URL, "secret_token": "123:abc"}, SECRET_CHARACTERS),
    "secret before scheme": ({"url": "http://bot.example.org/", "secret_token": "a b"},
                             SECRET_CHARACTERS),
    "secret too long": ({"url": HOOK_URL, "secret_token": "a" * 257},
                        "Bad Request: secret token is too long"),
    "no host": ({"url": "https://"}, INVALID_URL),
    "scheme": ({"url": "ftp://bot.example.org/hook"}, INVALID_URL),
    "port number": ({"url": "https://bot.example.org:99999/hook"}, INVALID_URL),
    "loopback": ({"url": "https://127.0.0.1/hook"}, BAD + "IP address 127.0.0.1 is reserved"),
    "localhost": ({"url": "https://localhost:8443/hook"},
                  BAD + "IP address 127.0.0.1 is reserved"),
    "private ip_address": ({"url": HOOK_URL, "ip_address": "10.0.0.7"},
                           BAD + "IP address 10.0.0.7 is reserved"),
    "not an ip_address": ({"url": HOOK_URL, "ip_address": "bot"},
                          BAD + "Invalid IP address specified"),
    "ipv6": ({"url": "https://[2001:4860::8888]/hook"},
             BAD + "IPv6-only addresses are not allowed"),
}


async def set_webhook(fake: FakeBotApi, token: str = TOKEN, **params) -> dict:
    response = await raw(fake, "setWebhook", token, data={"url": HOOK_URL, **params})
    return response.json()


async def webhook_info(fake: FakeBotApi, token: str = TOKEN) -> dict:
    return (await raw(fake, "getWebhookInfo", token)).json()["result"]


def set_answer(state: str) -> dict:
    return {"ok": True, "result": True, "description": f"Webhook {state}"}


# ---- setWebhook's checks -----------------------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.parametrize("case", REFUSED)
async def test_a_webhook_telegram_refuses_gets_its_error_and_is_not_set(fake_api, case):
    params, description = REFUSED[case]
    response = await raw(fake_api, "setWebhook", data=params)
    assert (response.status_code, response.json()) == (400, error_body(400, description))
    assert fake_api.webhook() is None and (await webhook_info(fake_api))["url"] == ""


@pytest.mark.asyncio
@pytest.mark.parametrize("url", [
    "https://bot.example.org/hook", "https://bot.example.org:80/", "https://bot.example.org:88",
    "https://user:pw@bot.example.org:8443/hook?x=1", "bot.example.org/hook",
    "https://149.154.167.99/hook",
])
async def test_https_on_telegrams_ports_is_set_as_given(fake_api, url):
    assert await set_webhook(fake_api, url=url) == set_answer("was set")
    assert (await webhook_info(fake_api))["url"] == url


@pytest.mark.asyncio
async def test_setting_again_deleting_and_deleting_again_say_what_happened(fake_api):
    assert await set_webhook(fake_api, secret_token=SECRET) == set_answer("was set")
    await asyncio.sleep(1.05)  # Telegram takes one setWebhook a second
    assert await set_webhook(fake_api, secret_token=SECRET) == set_answer("is already set")
    await asyncio.sleep(1.05)
    assert await set_webhook(fake_api, secret_token="other") == set_answer("was set")
    assert fake_api.webhook()["secret_token"] == "other"
    deleted = await raw(fake_api, "deleteWebhook")
    assert deleted.json() == set_answer("was deleted")
    assert (await raw(fake_api, "deleteWebhook")).json() == set_answer("is already deleted")
    assert (await raw(fake_api, "setWebhook", data={"url": ""})).json() == set_answer(
        "is already deleted")


@pytest.mark.asyncio
async def test_a_second_set_webhook_within_a_second_is_told_to_wait(fake_api):
    assert await set_webhook(fake_api) == set_answer("was set")
    started = time.monotonic()
    too_soon = await raw(fake_api, "setWebhook", data={"url": HOOK_URL})
    assert time.monotonic() - started < 1, "the check needs the second call within a second"
    assert too_soon.status_code == 429
    assert too_soon.json() == {**error_body(429, "Too Many Requests: retry after 1"),
                               "parameters": {"retry_after": 1}}
    assert await set_webhook(fake_api, token=OTHER) == set_answer("was set")  # per bot


@pytest.mark.asyncio
async def test_a_refused_webhook_removes_the_one_that_was_set(fake_api):
    await set_webhook(fake_api)
    await asyncio.sleep(1.05)
    assert (await set_webhook(fake_api, url="http://bot.example.org/hook"))["ok"] is False
    assert fake_api.webhook() is None


# ---- getWebhookInfo -------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_webhook_info_without_a_webhook_counts_the_pending_updates(fake_api):
    fake_api.push_text(5, "one")
    fake_api.push_callback(5, "two")
    assert await webhook_info(fake_api) == {
        "url": "", "has_custom_certificate": False, "pending_update_count": 2}


@pytest.mark.asyncio
async def test_webhook_info_tells_what_was_set(fake_api):
    await set_webhook(fake_api, max_connections="7", ip_address="149.154.167.99",
                      allowed_updates='["callback_query", "message", "no_such_kind"]')
    fake_api.push_text(5, "waits: nothing is routed")
    assert await webhook_info(fake_api) == {
        "url": HOOK_URL, "has_custom_certificate": False, "pending_update_count": 1,
        "max_connections": 7, "ip_address": "149.154.167.99",
        "allowed_updates": ["message", "callback_query"]}  # in Telegram's order


@pytest.mark.asyncio
async def test_webhook_info_of_a_default_webhook(fake_api):
    await set_webhook(fake_api, allowed_updates="[]")
    assert await webhook_info(fake_api) == {
        "url": HOOK_URL, "has_custom_certificate": False, "pending_update_count": 0,
        "max_connections": 40, "ip_address": "<unknown>"}


@pytest.mark.asyncio
async def test_max_connections_is_kept_between_1_and_100(fake_api):
    await set_webhook(fake_api, max_connections="0")
    await set_webhook(fake_api, token=OTHER, max_connections="1000")
    assert (await webhook_info(fake_api))["max_connections"] == 1
    assert (await webhook_info(fake_api, OTHER))["max_connections"] == 100


@pytest.mark.asyncio
async def test_an_uploaded_certificate_is_a_custom_certificate(fake_api):
    response = await raw(fake_api, "setWebhook", data={"url": HOOK_URL},
                         files={"certificate": ("cert.pem", b"-----BEGIN CERTIFICATE-----")})
    assert response.json() == set_answer("was set")
    assert (await webhook_info(fake_api))["has_custom_certificate"] is True


# ---- getUpdates while a webhook is set ------------------------------------------------------


@pytest.mark.asyncio
async def test_get_updates_is_refused_while_a_webhook_is_set(fake_api):
    fake_api.push_text(5, "kept for later")
    await set_webhook(fake_api)
    refused = await raw(fake_api, "getUpdates", data={"timeout": "0"})
    assert (refused.status_code, refused.json()) == (409, error_body(409, WEBHOOK_ACTIVE))
    await raw(fake_api, "deleteWebhook")
    async with make_bot(fake_api) as bot:
        assert [u.message.text for u in await bot.get_updates(timeout=0)] == ["kept for later"]


@pytest.mark.asyncio
async def test_409s_in_a_row_come_3_seconds_apart(fake_api):
    await set_webhook(fake_api)
    async with make_bot(fake_api) as bot:
        with pytest.raises(Conflict, match="webhook is active"):
            await bot.get_updates(timeout=0)
        started = time.monotonic()
        with pytest.raises(Conflict, match="can't use getUpdates method while webhook is active"):
            await bot.get_updates(timeout=0)
        assert time.monotonic() - started >= 3.0


@pytest.mark.asyncio
async def test_set_webhook_ends_the_held_long_poll(fake_api):
    polls = len(fake_api.calls("getUpdates"))
    held = asyncio.create_task(raw(fake_api, "getUpdates", data={"timeout": "10"}, timeout=30))
    await fake_api.await_until(lambda: len(fake_api.calls("getUpdates")) > polls)
    await set_webhook(fake_api)
    ended = await asyncio.wait_for(held, 5)
    assert (ended.status_code, ended.json()) == (409, error_body(409, ENDED_BY_SET_WEBHOOK))


# ---- dropping pending updates, and PTB's own calls ---------------------------------------------


@pytest.mark.asyncio
@pytest.mark.parametrize("method", ["setWebhook", "deleteWebhook"])
async def test_drop_pending_updates_forgets_them(fake_api, method):
    await set_webhook(fake_api)
    fake_api.push_text(5, "one")
    fake_api.push_text(6, "two")
    assert (await webhook_info(fake_api))["pending_update_count"] == 2
    await asyncio.sleep(1.05)
    url = {"url": HOOK_URL} if method == "setWebhook" else {}
    response = await raw(fake_api, method, data={**url, "drop_pending_updates": "true"})
    assert response.json()["ok"] is True
    assert (await webhook_info(fake_api))["pending_update_count"] == 0


@pytest.mark.asyncio
async def test_ptb_sets_reads_and_deletes_the_webhook(fake_api):
    fake_api.push_text(5, "waiting")
    async with make_bot(fake_api) as bot:
        assert await bot.set_webhook(HOOK_URL, secret_token=SECRET, max_connections=3,
                                     allowed_updates=["message"]) is True
        info = await bot.get_webhook_info()
        assert (info.url, info.pending_update_count, info.max_connections) == (HOOK_URL, 1, 3)
        assert info.allowed_updates == ("message",) and info.has_custom_certificate is False
        assert info.last_error_date is None and info.last_error_message is None
        assert fake_api.webhook()["secret_token"] == SECRET
        assert await bot.delete_webhook(drop_pending_updates=True) is True
        info = await bot.get_webhook_info()
        assert (info.url, info.pending_update_count, info.max_connections) == ("", 0, None)
    assert fake_api.webhook() is None
