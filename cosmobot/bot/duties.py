"""The leader's duties: what only the process leading the bot does, taken and given back.

The leader polls Telegram (in webhook mode: registers the webhook), runs the daily round,
publishes the command menu, warms the cache and prunes the database. Every process, leader or
not, rescans the images and saves its send counts (jobs scheduled in `app.post_init`).
"""

from __future__ import annotations

from loguru import logger
from telegram import Bot, BotCommand, Update
from telegram.error import InvalidToken, TelegramError
from telegram.ext import Application

from cosmobot.bot.registration import register_or_say_why
from cosmobot.schedule import daily, jobs
from cosmobot.schedule.warm import BackgroundWarmer
from cosmobot.texts import ENGLISH, LANGUAGES, text

ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY, Update.INLINE_QUERY]
COMMANDS = ("cosmic", "daily", "status", "stop", "start", "help")
# A network blip while the machine boots (or while a standby takes over) should not end it.
BOOTSTRAP_RETRIES = 3
LEADER_JOBS = (jobs.MENU_JOB, jobs.WARM_JOB, jobs.DAILY_JOB, jobs.PRUNE_JOB)


async def take_duties(application: Application) -> None:
    """Start polling (or register the webhook), then schedule the menu, the warm-up, the daily
    round and pruning."""
    application.bot_data[jobs.LEADING] = True
    webhook = application.bot_data["settings"].webhook
    if webhook is not None:
        await register_or_say_why(application.bot, webhook, ALLOWED_UPDATES)
    elif application.updater is not None:
        # Said before the first poll, as "Stopped polling" is after the last. start_polling
        # removes a webhook left from webhook mode first, or Telegram would refuse every poll.
        logger.info("Polling Telegram for bot {}'s updates", application.bot.id)
        await application.updater.start_polling(
            allowed_updates=ALLOWED_UPDATES,
            bootstrap_retries=BOOTSTRAP_RETRIES,
            error_callback=lambda error: _report_poll_error(application, error),
        )
    _schedule_leader_jobs(application)


async def give_up_duties(application: Application) -> None:
    """Stop polling first, then the daily round (its sends in flight recorded), the warm-up."""
    updater = application.updater
    if updater is not None and updater.running:
        try:
            await updater.stop()
        except InvalidToken:  # polling ended on it; the run says so once it has stopped
            pass
        logger.info("Stopped polling Telegram for bot {}'s updates", application.bot.id)
    application.bot_data[jobs.LEADING] = False
    for name in LEADER_JOBS:
        for job in application.job_queue.get_jobs_by_name(name):
            job.schedule_removal()
    await daily.wait_for_round()
    warmer = application.bot_data.pop(jobs.WARMER, None)
    if warmer is not None:
        await warmer.stop()


def _report_poll_error(application: Application, error: TelegramError) -> None:
    # As run_polling does: a failed poll goes to the error handlers.
    application.create_task(application.process_error(error=error, update=None))


def _schedule_leader_jobs(application: Application) -> None:
    queue = application.job_queue
    settings = application.bot_data["settings"]
    if settings.cache_chat_id is not None:
        # In the background: taking the lead waits for no upload.
        application.bot_data[jobs.WARMER] = BackgroundWarmer(settings.cache_chat_id)
        queue.run_once(jobs.warm_cache, when=0, name=jobs.WARM_JOB)
    # In the background: the menu is cosmetic, and Telegram failing to take it must not keep
    # the bot from answering.
    queue.run_once(jobs.publish_command_menu, when=0, data=publish_commands, name=jobs.MENU_JOB)
    # Soon: a round cut short by a restart or a lost leader goes on, and chats due meanwhile
    # get today's image.
    queue.run_repeating(jobs.daily_round, interval=jobs.DAILY_INTERVAL_SECONDS,
                        first=jobs.DAILY_FIRST_SECONDS, name=jobs.DAILY_JOB,
                        job_kwargs=jobs.DAILY_JOB_KWARGS)
    queue.run_repeating(jobs.prune_database, interval=jobs.PRUNE_INTERVAL_SECONDS,
                        first=jobs.PRUNE_FIRST_SECONDS, name=jobs.PRUNE_JOB)


async def publish_commands(bot: Bot) -> None:
    """Publish the command menu in every language."""
    for language in LANGUAGES:
        commands = [BotCommand(name, text(language, f"command_{name}")) for name in COMMANDS]
        # The English menu is the default for every language without a menu of its own.
        code = None if language == ENGLISH else language
        await bot.set_my_commands(commands, language_code=code)
