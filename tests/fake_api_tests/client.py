"""Ways the fake Bot API's own tests talk to it: a real telegram.Bot, raw HTTP and test PNGs."""

from __future__ import annotations

import io
import os

import httpx
from PIL import Image
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.request import HTTPXRequest

from tests.factories import OTHER_TOKEN, TOKEN
from tests.fakebotapi import FakeBotApi

OTHER = OTHER_TOKEN
KEYBOARD = InlineKeyboardMarkup([[InlineKeyboardButton("Next", callback_data="next")]])


def fast_request() -> HTTPXRequest:
    # The fake speaks plain HTTP, so skip loading CA certificates (~50 ms per client).
    return HTTPXRequest(httpx_kwargs={"verify": False})


def make_bot(fake: FakeBotApi, token: str = TOKEN) -> Bot:
    return Bot(token, base_url=fake.base_url, request=fast_request(),
               get_updates_request=fast_request())


def png(width: int, height: int, noise: bool = False) -> bytes:
    image = (Image.frombytes("L", (width, height), os.urandom(width * height)) if noise
             else Image.new("L", (width, height), 128))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


async def raw(fake: FakeBotApi, method: str, token: str = TOKEN, **kwargs) -> httpx.Response:
    async with httpx.AsyncClient(verify=False) as client:
        return await client.post(f"{fake.base_url}{token}/{method}", **kwargs)


def error_body(status: int, description: str) -> dict:
    return {"ok": False, "error_code": status, "description": description}
