"""Inline mode in the fake: inline query updates, and answerInlineQuery checked like Telegram."""

import pytest
from telegram import InlineQueryResultCachedPhoto, InlineQueryResultsButton
from telegram.error import BadRequest

from tests.fake_api_tests.client import OTHER, make_bot, png

pytestmark = pytest.mark.timeout(30)

TOO_OLD = "Query is too old and response timeout expired or query id is invalid"


async def _photo_file_id(bot, chat_id: int = 5) -> str:
    message = await bot.send_photo(chat_id, png(40, 30))
    return message.photo[-1].file_id


async def _inline_query(fake, bot, user_id: int = 7, query: str = "neb", **kwargs):
    fake.push_inline_query(user_id, query, **kwargs)
    updates = await bot.get_updates(allowed_updates=["inline_query"])
    await bot.get_updates(offset=updates[-1].update_id + 1)  # confirm it
    return updates[-1].inline_query


@pytest.mark.asyncio
async def test_an_inline_query_arrives_as_telegram_sends_it(fake_api):
    async with make_bot(fake_api) as bot:
        query = await _inline_query(fake_api, bot, 7, "туманн", offset="50",
                                    language_code="ru")
        assert (query.query, query.offset, query.from_user.id) == ("туманн", "50", 7)
        assert query.from_user.language_code == "ru" and query.chat_type == "sender"


@pytest.mark.asyncio
async def test_answer_with_issued_photos_is_recorded(fake_api):
    async with make_bot(fake_api) as bot:
        file_id = await _photo_file_id(bot)
        query = await _inline_query(fake_api, bot)
        button = InlineQueryResultsButton("Open the bot", start_parameter="inline")
        assert await bot.answer_inline_query(
            query.id, [InlineQueryResultCachedPhoto("a", file_id, caption="Eagle Nebula")],
            cache_time=30, is_personal=True, next_offset="50", button=button)
    answer = fake_api.inline_answer(query.id)
    assert answer["results"] == [{"type": "photo", "id": "a", "photo_file_id": file_id,
                                  "caption": "Eagle Nebula"}]
    assert answer["cache_time"] == 30 and answer["next_offset"] == "50"
    assert answer["button"] == {"text": "Open the bot", "start_parameter": "inline"}


@pytest.mark.asyncio
async def test_a_photo_file_id_never_issued_to_the_bot_is_refused(fake_api):
    async with make_bot(fake_api) as bot, make_bot(fake_api, OTHER) as other:
        foreign = await _photo_file_id(other)
        query = await _inline_query(fake_api, bot)
        for file_id in ("AgACAgIAAxkBAAMadeUp", foreign):
            with pytest.raises(BadRequest, match="Wrong file identifier/http url specified"):
                await bot.answer_inline_query(
                    query.id, [InlineQueryResultCachedPhoto("a", file_id)])
    assert fake_api.inline_answer(query.id) is None


@pytest.mark.asyncio
async def test_at_most_fifty_results_a_page(fake_api):
    async with make_bot(fake_api) as bot:
        file_id = await _photo_file_id(bot)
        query = await _inline_query(fake_api, bot)
        results = [InlineQueryResultCachedPhoto(str(n), file_id) for n in range(51)]
        with pytest.raises(BadRequest, match="Results_too_much"):
            await bot.answer_inline_query(query.id, results)
        assert await bot.answer_inline_query(query.id, results[:50])
    assert len(fake_api.inline_answer(query.id)["results"]) == 50


@pytest.mark.asyncio
async def test_unknown_and_expired_queries_are_too_old(fake_api):
    async with make_bot(fake_api) as bot:
        with pytest.raises(BadRequest, match=TOO_OLD):
            await bot.answer_inline_query("12345", [])
        query = await _inline_query(fake_api, bot)
        fake_api.expire_inline_query(query.id)
        with pytest.raises(BadRequest, match=TOO_OLD):
            await bot.answer_inline_query(query.id, [])
