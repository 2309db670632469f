"""A horoscope bot that sends today's horoscope under a cosmic image from cosmobot.

cosmobot's sender uploads each image once and sends it by its cached file_id ever after.

Usage: HOROSCOPE_BOT_TOKEN=123:ABC python horoscope_bot.py, then send /horoscope to the bot.
"""

import datetime
import os

from telegram import Update
from telegram.ext import Application, CommandHandler, ContextTypes

from cosmobot import sender

HOROSCOPES = (
    "The stars favour bold beginnings: start the thing you keep putting off.",
    "A quiet day. Look up tonight; the sky has news for you.",
    "An old friend's orbit crosses yours. Say hello first.",
)


def todays_horoscope(today: datetime.date) -> str:
    """Return the horoscope for the given day."""
    return f"{today:%d %B}: {HOROSCOPES[today.toordinal() % len(HOROSCOPES)]}"


async def horoscope(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send today's horoscope under a random cosmic image, with the image's title and credit."""
    text = todays_horoscope(datetime.date.today())
    key = sender.random_cosmic_key()
    sent = key and await sender.send_image(
        context.bot, update.effective_chat.id, key, f"{text}\n\n{sender.image_caption(key)}"
    )
    if not sent:  # no usable image installed: the horoscope alone
        await update.effective_message.reply_text(text)


async def close_cosmobot(application: Application) -> None:
    """Save the file_ids still on their way and close cosmobot's database."""
    await sender.shutdown()


def build_application(token: str, base_url: str = "https://api.telegram.org/bot") -> Application:
    """Build the bot with its one command."""
    application = (
        Application.builder().token(token).base_url(base_url).post_shutdown(close_cosmobot).build()
    )
    application.add_handler(CommandHandler("horoscope", horoscope))
    return application


def main() -> None:
    """Run the bot until Ctrl+C."""
    sender.setup("sqlite:///horoscope.db", "assets/images")
    build_application(os.environ["HOROSCOPE_BOT_TOKEN"]).run_polling()


if __name__ == "__main__":
    main()
