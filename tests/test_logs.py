"""Logging: stdlib records reach loguru, and the token never reaches a log line."""

import io
import logging

import pytest
from loguru import logger

from cosmobot.logs import REDACTED, InterceptHandler, configure_logging
from tests.factories import TOKEN

SECRET_HALF = TOKEN.split(":")[1]


@pytest.fixture
def stream():
    out = io.StringIO()
    configure_logging("DEBUG", [TOKEN], stream=out)
    yield out
    logger.remove()


def test_token_in_a_message_is_redacted(stream):
    logger.info("calling https://api.telegram.org/bot{}/getMe", TOKEN)
    assert TOKEN not in stream.getvalue()
    assert f"/bot{REDACTED}/getMe" in stream.getvalue()


def test_secret_half_alone_is_redacted(stream):
    logger.debug("secret part is {}", SECRET_HALF)
    assert SECRET_HALF not in stream.getvalue()


def test_token_in_a_traceback_is_redacted(stream):
    try:
        raise RuntimeError(f"The token `{TOKEN}` was rejected by the server.")
    except RuntimeError:
        logger.exception("startup failed")
    text = stream.getvalue()
    assert "RuntimeError" in text and "rejected by the server" in text
    assert SECRET_HALF not in text


def test_stdlib_loggers_are_routed_and_redacted(stream):
    logging.getLogger("httpx").debug("HTTP Request: POST https://x/bot%s/getUpdates", TOKEN)
    logging.getLogger("telegram.ext.Application").warning("odd: %s", TOKEN)
    text = stream.getvalue()
    assert "getUpdates" in text and "odd: " in text
    assert SECRET_HALF not in text


def test_chatty_libraries_are_quiet_at_info():
    out = io.StringIO()
    configure_logging("INFO", [TOKEN], stream=out)
    try:
        logging.getLogger("httpx").info("HTTP Request: POST /getUpdates")
        logging.getLogger("telegram.ext.Application").info("Application started")
    finally:
        logger.remove()
    assert "getUpdates" not in out.getvalue()
    assert "Application started" in out.getvalue()


def test_database_passwords_are_masked_by_place_not_by_word():
    out = io.StringIO()
    configure_logging("INFO", [TOKEN], stream=out)
    try:
        logger.info("connecting to postgresql://cosmobot:cosmobot@db:5432/cosmo")
        logger.info("psycopg2: dbname=cosmo user=cosmobot password=cosmobot host=db")
        logger.info("the cosmobot module keeps its name")
    finally:
        logger.remove()
    text = out.getvalue()
    assert "postgresql://cosmobot:[REDACTED]@db:5432/cosmo" in text
    assert "user=cosmobot password=[REDACTED] host=db" in text
    assert "the cosmobot module keeps its name" in text


@pytest.mark.parametrize("level, below, at", [
    ("WARNING", logging.INFO, logging.WARNING),
    ("INFO", logging.DEBUG, logging.INFO),
    ("DEBUG", 5, logging.DEBUG),
])
def test_stdlib_records_below_the_level_are_never_built(level, below, at):
    configure_logging(level, [TOKEN], stream=io.StringIO())
    try:
        ptb = logging.getLogger("telegram.ext.ExtBot")
        assert not ptb.isEnabledFor(below)
        assert ptb.isEnabledFor(at)
    finally:
        logger.remove()


def test_a_stdlib_record_below_the_level_never_reaches_the_handler(monkeypatch):
    emitted = []
    monkeypatch.setattr(InterceptHandler, "emit", lambda self, record: emitted.append(record))
    configure_logging("INFO", [TOKEN], stream=io.StringIO())
    try:
        logging.getLogger("telegram.ext.Application").debug("every update, in detail")
        logging.getLogger("telegram.ext.Application").info("Application started")
    finally:
        logger.remove()
    assert [record.getMessage() for record in emitted] == ["Application started"]
