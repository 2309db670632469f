"""Command line: `cosmobot [run]`, `cosmobot migrate`, `cosmobot check`, `cosmobot warm`."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import sys
from collections.abc import Callable, Sequence
from enum import IntEnum

import peewee
from loguru import logger
from telegram.error import InvalidToken, NetworkError

from cosmobot import __version__
from cosmobot.config import CACHE_CHAT_ID, DATABASE_URL, TOKEN, ConfigError, Settings, load_settings
from cosmobot.logs import configure_logging
from cosmobot.storage.database import (
    MigrationsMissing,
    apply_migrations,
    close_database,
    open_database,
)
from cosmobot.warm_command import LogThroughBar


class ExitStatus(IntEnum):
    OK = 0
    ERROR = 1
    CONFIG_ERROR = 2


def run(settings: Settings) -> ExitStatus:
    """Apply pending migrations, then long-poll Telegram until stopped."""
    from cosmobot.bot.app import build_application
    from cosmobot.bot.lifecycle import run_application

    settings.require_token()
    _prepare_database(settings)
    application = build_application(settings)
    logger.info("Starting cosmobot {}, Bot API at {}", __version__, settings.api_url)
    try:
        run_application(application)
    except (InvalidToken, NetworkError) as error:
        return _telegram_failure(settings, error)
    return ExitStatus.OK


def migrate(settings: Settings) -> ExitStatus:
    """Apply pending database migrations and exit."""
    applied = _prepare_database(settings)
    print(f"Applied: {', '.join(applied)}" if applied else "The database is up to date.")
    return ExitStatus.OK


def check(settings: Settings) -> ExitStatus:
    """Check configuration, database and every image; print a report."""
    from cosmobot.check import run_checks

    report = run_checks(settings)
    print(report.render())
    if not report.config_ok:
        return ExitStatus.CONFIG_ERROR
    return ExitStatus.OK if report.ok else ExitStatus.ERROR


def warm(settings: Settings) -> ExitStatus:
    """Upload every image not cached yet to the cache chat, showing progress, and exit."""
    from cosmobot.warm_command import warm_from_command_line

    settings.require_token()
    settings.require_cache_chat()
    _prepare_database(settings)
    try:
        report = asyncio.run(warm_from_command_line(settings))
    except (InvalidToken, NetworkError) as error:
        return _telegram_failure(settings, error)
    finally:
        close_database()
    print(report.summary())
    return ExitStatus.OK if report.complete else ExitStatus.ERROR


def _telegram_failure(settings: Settings, error: InvalidToken | NetworkError) -> ExitStatus:
    """Say in one line why Telegram could not be used, and return the exit status for it."""
    if isinstance(error, InvalidToken):
        logger.error("Telegram rejected the bot token (token rejected): check {}", TOKEN)
        return ExitStatus.CONFIG_ERROR
    logger.error("Cannot reach the Bot API at {}: {}", settings.api_url, error)
    return ExitStatus.ERROR


def _prepare_database(settings: Settings) -> list[str]:
    try:
        open_database(settings.database_url)
        return apply_migrations()
    except peewee.DatabaseError as error:  # unreachable, refused, or no rights to create tables
        raise DatabaseUnavailable(f"Cannot open the database in {DATABASE_URL}: {error}") from None
    except MigrationsMissing as error:
        raise DatabaseUnavailable(str(error)) from None


class DatabaseUnavailable(RuntimeError):
    """The database named in the settings cannot be opened or migrated."""


COMMANDS: dict[str, Callable[[Settings], ExitStatus]] = {
    "run": run,
    "migrate": migrate,
    "check": check,
    "warm": warm,
}


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser, one subcommand per entry of COMMANDS."""
    parser = argparse.ArgumentParser(
        prog="cosmobot",
        description="A Telegram bot that sends cosmic images instantly. "
        "Settings come from COSMOBOT_* environment variables or a .env file.",
    )
    parser.add_argument("--version", action="version", version=f"cosmobot {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="{run,migrate,check,warm}")
    for name, command in COMMANDS.items():
        summary = command.__doc__.splitlines()[0]
        subparser = subparsers.add_parser(name, help=summary, description=summary)
        if name == "warm":
            subparser.add_argument(
                "--chat", type=int, metavar="ID",
                help=f"the chat to upload to (default: {CACHE_CHAT_ID})",
            )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command named in argv and return its exit status."""
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as error:
        return _config_error(error)
    if getattr(args, "chat", None) is not None:
        settings = dataclasses.replace(settings, cache_chat_id=args.chat)
    # `warm` draws a progress bar: its log lines are written above the bar, not across it.
    stream = LogThroughBar() if args.command == "warm" else None
    configure_logging(settings.log_level, settings.secrets, stream)
    try:
        return COMMANDS[args.command or "run"](settings)
    except ConfigError as error:
        return _config_error(error)
    except DatabaseUnavailable as error:
        logger.error("{}", error)
        return ExitStatus.ERROR
    except KeyboardInterrupt:
        return ExitStatus.OK
    except Exception:
        logger.exception("cosmobot stopped on an unexpected error")
        return ExitStatus.ERROR


def _config_error(error: ConfigError) -> ExitStatus:
    # One plain line, no traceback: the message names the variable to fix.
    print(f"cosmobot: {error}", file=sys.stderr)
    return ExitStatus.CONFIG_ERROR
