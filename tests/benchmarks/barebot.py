"""A bare python-telegram-bot bot: `/cosmic` answered with a photo by file_id from a dict.

The reference a whole `/cosmic` through cosmobot is measured against: the least a PTB bot can
do for the same answer (the same photo, caption and button), with PTB's defaults. It runs as
a process of its own, as cosmobot does:

    BAREBOT_TOKEN=... python -m tests.benchmarks.barebot --api-url URL --file-id ID --caption TEXT
"""

from __future__ import annotations

import argparse
import os

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, CommandHandler, ContextTypes

TOKEN_VARIABLE = "BAREBOT_TOKEN"
PHOTOS: dict[str, str] = {}  # command -> file_id
CAPTIONS: dict[str, str] = {}  # command -> caption
ANOTHER = InlineKeyboardMarkup([[InlineKeyboardButton("Another one", callback_data="cosmic")]])


async def cosmic(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send the photo by its file_id, with its caption and a button."""
    await context.bot.send_photo(update.effective_chat.id, PHOTOS["cosmic"],
                                 caption=CAPTIONS["cosmic"], reply_markup=ANOTHER)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--api-url", required=True, help="Bot API base URL, ending in /bot")
    parser.add_argument("--file-id", required=True)
    parser.add_argument("--caption", default="")
    args = parser.parse_args()
    PHOTOS["cosmic"], CAPTIONS["cosmic"] = args.file_id, args.caption
    application = Application.builder().token(os.environ[TOKEN_VARIABLE]) \
        .base_url(args.api_url).build()
    application.add_handler(CommandHandler("cosmic", cosmic))
    application.run_polling()


if __name__ == "__main__":
    main()
