"""Database URLs: percent-encoded passwords, clear words for broken URLs, passwords masked whole."""

from __future__ import annotations

import io
from urllib.parse import quote, urlparse

import pytest
from loguru import logger

from cosmobot.check import run_checks
from cosmobot.config import ConfigError, Settings, load_settings, redact_url
from cosmobot.logs import configure_logging
from cosmobot.storage.database import database_for, open_database
from tests.factories import TOKEN

PASSWORDS = ["p@ss", "p@ss@word", "pa/ss#w?rd", "a:b@c/d#e", "100%real"]


def test_a_percent_encoded_password_is_decoded():
    db = database_for("postgresql://bot:p%40ss%2Fw%23rd@db.example:5432/cosmo")
    assert db.connect_params["password"] == "p@ss/w#rd"
    assert db.connect_params["user"] == "bot"
    assert db.database == "cosmo"


def test_a_percent_encoded_password_authenticates(postgres_url):
    parsed = urlparse(postgres_url)
    # Every character of the real password percent-encoded: only a decoded one logs in.
    encoded = "".join(f"%{byte:02X}" for byte in parsed.password.encode())
    url = postgres_url.replace(f":{parsed.password}@", f":{encoded}@", 1)
    db = open_database(url)
    try:
        assert db.execute_sql("SELECT 1").fetchone() == (1,)
    finally:
        db.close()


@pytest.mark.parametrize("password", ["pa/ss", "pa#ss", "pa?ss"])
def test_a_raw_slash_hash_or_question_mark_is_explained(password):
    url = f"postgresql://bot:{password}@db.example:5432/cosmo"
    with pytest.raises(ConfigError) as raised:
        load_settings({"COSMOBOT_DATABASE_URL": url}, env_file=None)
    message = str(raised.value)
    assert "COSMOBOT_DATABASE_URL" in message and "percent-encode" in message
    assert password not in message


def test_a_raw_at_sign_in_the_password_still_works():
    settings = load_settings(
        {"COSMOBOT_DATABASE_URL": "postgresql://bot:p@ss@db.example:5432/cosmo"}, env_file=None
    )
    db = database_for(settings.database_url)
    assert db.connect_params["password"] == "p@ss"
    assert db.connect_params["host"] == "db.example"


@pytest.mark.parametrize("password", PASSWORDS)
def test_the_whole_password_is_masked_whatever_it_holds(password):
    for shown in (password, quote(password, safe="")):
        masked = redact_url(f"connecting to postgresql://bot:{shown}@db.example:5432/cosmo now")
        assert masked == "connecting to postgresql://bot:[REDACTED]@db.example:5432/cosmo now"


@pytest.mark.parametrize("password", PASSWORDS)
def test_log_lines_never_show_any_part_of_the_password(password):
    out = io.StringIO()
    configure_logging("INFO", [TOKEN], stream=out)
    try:
        logger.info("Cannot open postgresql://bot:{}@db.example/cosmo: refused", password)
    finally:
        logger.remove()
    assert out.getvalue().endswith(
        "Cannot open postgresql://bot:[REDACTED]@db.example/cosmo: refused\n"
    )


def test_check_masks_a_password_with_an_at_sign(tmp_path):
    url = "postgresql://bot:s3cr@t-pw@127.0.0.1:1/cosmo?connect_timeout=1"
    settings = Settings(token=TOKEN, database_url=url, assets_dir=tmp_path)
    report = run_checks(settings).render()
    assert "s3cr" not in report and "t-pw" not in report
    assert "[REDACTED]@127.0.0.1" in report


def test_an_empty_variable_counts_as_unset(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text(f"COSMOBOT_TOKEN={TOKEN}\nCOSMOBOT_LOG_LEVEL=DEBUG\n")
    # Docker Compose passes a variable that is unset on the host as an empty one.
    settings = load_settings({"COSMOBOT_TOKEN": "", "COSMOBOT_LOG_LEVEL": "  "},
                             env_file=env_file)
    assert settings.token == TOKEN
    assert settings.log_level == "DEBUG"
