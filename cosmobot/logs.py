"""Logging: loguru only, with stdlib loggers routed in and secrets redacted in the sink."""

from __future__ import annotations

import inspect
import logging
import sys
import warnings
from collections.abc import Iterable
from typing import TextIO

from loguru import logger
from telegram.error import InvalidToken
from telegram.warnings import PTBDeprecationWarning

from cosmobot.config import REDACTED, redact_url

FORMAT = "{time:YYYY-MM-DD HH:mm:ss.SSS} | {level: <8} | {name}:{function}:{line} - {message}"

# Libraries that log every HTTP request or scheduler tick at INFO; quiet unless DEBUG.
CHATTY_LOGGERS = ("httpx", "httpcore", "apscheduler", "peewee")


class InterceptHandler(logging.Handler):
    """Send stdlib logging records to loguru, keeping the original caller."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            level: str | int = logger.level(record.levelname).name
        except ValueError:
            level = record.levelno
        if _reported_by_cli(record):
            return
        frame, depth = inspect.currentframe(), 0
        while frame and (depth == 0 or frame.f_code.co_filename == logging.__file__):
            frame, depth = frame.f_back, depth + 1
        logger.opt(depth=depth, exception=record.exc_info).log(level, record.getMessage())


def _reported_by_cli(record: logging.LogRecord) -> bool:
    # PTB logs a full traceback when a rejected token or an unreachable Bot API stops it;
    # `cosmobot run` then says the same in one plain line, so the traceback only gets in the way.
    if record.exc_info and isinstance(record.exc_info[1], InvalidToken):
        return True
    message = record.getMessage()
    return "(Bootstrap Initialize Application)" in message and "Aborting" in message


class RedactingSink:
    """A loguru sink that masks secrets in the fully formatted line, traceback included."""

    def __init__(self, secrets: Iterable[str], stream: TextIO | None = None) -> None:
        found = {s for s in _expand(secrets) if s}
        # Longest first, so a secret that contains another is masked whole.
        self._secrets = sorted(found, key=len, reverse=True)
        self._stream = stream

    def redact(self, text: str) -> str:
        """Return text with every secret, and every password in a URL or DSN, replaced."""
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return redact_url(text)

    def write(self, message: str) -> None:
        """Write one formatted record."""
        stream = self._stream or sys.stderr
        stream.write(self.redact(message))
        stream.flush()


def _expand(secrets: Iterable[str]) -> Iterable[str]:
    for secret in secrets:
        yield secret
        # A bot token's id part is public, but its secret half must not leak on its own.
        _, _, tail = secret.partition(":")
        yield tail


def configure_logging(
    level: str, secrets: Iterable[str] = (), stream: TextIO | None = None
) -> RedactingSink:
    """Configure loguru and route the stdlib loggers of our libraries into it."""
    sink = RedactingSink(secrets, stream)
    logger.remove()
    # diagnose=False: variable values in tracebacks could hold the token.
    logger.add(sink.write, level=level, format=FORMAT, backtrace=False, diagnose=False)
    # The stdlib loggers stop at the same level: a record loguru would drop is never built.
    logging.basicConfig(handlers=[InterceptHandler()], level=logger.level(level).no, force=True)
    logging.captureWarnings(True)
    # PTB 22 warns on every 429 that RetryAfter.retry_after will become a timedelta; the retry
    # code accepts both already, so the warning would only alarm self-hosters.
    warnings.filterwarnings("ignore", message=".*retry_after", category=PTBDeprecationWarning)
    quiet = logging.DEBUG if level in ("TRACE", "DEBUG") else logging.WARNING
    for name in CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(quiet)
    return sink
