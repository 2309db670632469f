"""Settings from the environment, and the CLI's answers to bad configuration."""

import configparser
import importlib
from pathlib import Path

import pytest

from cosmobot.cli import ExitStatus, main
from cosmobot.config import ConfigError, Settings, load_settings
from tests.factories import TOKEN


def test_defaults_apply_when_nothing_is_set():
    settings = load_settings({}, env_file=None)
    assert settings == Settings(token=None)
    assert settings.database_url == "sqlite:///cosmobot.db"
    assert settings.assets_dir == Path("assets/images")
    assert settings.api_url == "https://api.telegram.org/bot"
    assert settings.log_level == "INFO"
    assert settings.timezone == "UTC"


def test_default_zone_is_read(tmp_path):
    assert load_settings({"COSMOBOT_TIMEZONE": "Europe/Moscow"}, env_file=None).timezone == (
        "Europe/Moscow"
    )


def test_environment_wins_over_dotenv(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text(
        f"COSMOBOT_TOKEN={TOKEN}\nCOSMOBOT_LOG_LEVEL=debug\nCOSMOBOT_ASSETS_DIR=/srv/pics\n"
    )
    settings = load_settings({"COSMOBOT_LOG_LEVEL": "WARNING"}, env_file=env_file)
    assert settings.token == TOKEN
    assert settings.log_level == "WARNING"
    assert settings.assets_dir == Path("/srv/pics")


def test_unreadable_dotenv_is_a_config_error_naming_it(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_bytes(b"COSMOBOT_TOKEN=\xff\xfe\n")
    with pytest.raises(ConfigError, match=r"Cannot read .*\.env"):
        load_settings({}, env_file=env_file)


def test_settings_are_frozen():
    settings = load_settings({}, env_file=None)
    with pytest.raises(AttributeError):
        settings.token = TOKEN


def test_missing_token_names_the_variable():
    with pytest.raises(ConfigError, match="COSMOBOT_TOKEN is not set"):
        load_settings({}, env_file=None).require_token()


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("COSMOBOT_TOKEN", "'123:abc'", "COSMOBOT_TOKEN does not look like a bot token"),
        ("COSMOBOT_DATABASE_URL", "mongodb://localhost/x", "COSMOBOT_DATABASE_URL"),
        ("COSMOBOT_DATABASE_URL", "postgresql://u:p@host:port/db", "COSMOBOT_DATABASE_URL"),
        ("COSMOBOT_API_URL", "api.telegram.org", "COSMOBOT_API_URL"),
        ("COSMOBOT_API_URL", "http://127.0.0.1:8081", "ending in /bot"),
        ("COSMOBOT_DATABASE_URL", "mysql://u:p@host/db", "COSMOBOT_DATABASE_URL"),
        ("COSMOBOT_LOG_LEVEL", "LOUD", "COSMOBOT_LOG_LEVEL"),
        ("COSMOBOT_TIMEZONE", "Mars/Olympus", "COSMOBOT_TIMEZONE must be a time zone"),
    ],
)
def test_malformed_settings_are_rejected_by_name(name, value, message):
    with pytest.raises(ConfigError, match=message):
        load_settings({name: value}, env_file=None)


def test_cache_chat_and_admins_are_read():
    settings = load_settings(
        {"COSMOBOT_CACHE_CHAT_ID": "-1001234567890", "COSMOBOT_ADMIN_IDS": " 42, 7 ,,"},
        env_file=None,
    )
    assert settings.cache_chat_id == -1001234567890
    assert settings.admin_ids == frozenset({42, 7})
    assert load_settings({}, env_file=None).admin_ids == frozenset()


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("COSMOBOT_CACHE_CHAT_ID", "@mychannel", "COSMOBOT_CACHE_CHAT_ID must be a Telegram"),
        ("COSMOBOT_CACHE_CHAT_ID", "12.5", "COSMOBOT_CACHE_CHAT_ID must be a Telegram chat id"),
        ("COSMOBOT_ADMIN_IDS", "42;7", "COSMOBOT_ADMIN_IDS must be Telegram user ids .* '42;7'"),
        ("COSMOBOT_ADMIN_IDS", "42,-7", "COSMOBOT_ADMIN_IDS .* '-7' is not one"),
        ("COSMOBOT_ADMIN_IDS", "alice", "COSMOBOT_ADMIN_IDS .* 'alice' is not one"),
        ("COSMOBOT_ADMIN_IDS", "0", "COSMOBOT_ADMIN_IDS .* '0' is not one"),
    ],
)
def test_bad_cache_chat_or_admin_ids_name_the_variable(name, value, message):
    with pytest.raises(ConfigError, match=message):
        load_settings({name: value}, env_file=None)


def test_bad_admin_ids_stop_the_bot_with_exit_2(clean_env, capsys):
    clean_env.setenv("COSMOBOT_ADMIN_IDS", "me")
    assert main(["run"]) == ExitStatus.CONFIG_ERROR
    assert "COSMOBOT_ADMIN_IDS" in capsys.readouterr().err


def test_secrets_stay_out_of_repr():
    settings = load_settings(
        {"COSMOBOT_TOKEN": TOKEN, "COSMOBOT_DATABASE_URL": "postgresql://bot:hunter2@db/cosmo"},
        env_file=None,
    )
    shown = repr(settings)
    assert TOKEN not in shown and "hunter2" not in shown
    assert settings.secrets == (TOKEN,)


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    """Run the CLI in an empty folder with no COSMOBOT_* variables."""
    monkeypatch.chdir(tmp_path)
    for name in ("TOKEN", "DATABASE_URL", "ASSETS_DIR", "API_URL", "LOG_LEVEL",
                 "CACHE_CHAT_ID", "ADMIN_IDS"):
        monkeypatch.delenv(f"COSMOBOT_{name}", raising=False)
    return monkeypatch


def test_run_without_token_says_which_variable_and_exits_2(clean_env, capsys):
    assert main(["run"]) == ExitStatus.CONFIG_ERROR
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [
        "cosmobot: COSMOBOT_TOKEN is not set: put the token from @BotFather in it"
    ]


def test_unparseable_database_url_exits_2_naming_the_variable(clean_env, capsys):
    clean_env.setenv("COSMOBOT_DATABASE_URL", "not a url")
    assert main(["migrate"]) == ExitStatus.CONFIG_ERROR
    err = capsys.readouterr().err
    assert "COSMOBOT_DATABASE_URL" in err and "Traceback" not in err


def test_migrate_creates_the_database(clean_env, capsys):
    clean_env.setenv("COSMOBOT_DATABASE_URL", "sqlite:///bot.db")
    assert main(["migrate"]) == ExitStatus.OK
    assert "001_add_image_assets_table" in capsys.readouterr().out
    assert main(["migrate"]) == ExitStatus.OK
    assert "up to date" in capsys.readouterr().out


def test_unopenable_database_is_a_clear_failure(clean_env, capsys, tmp_path):
    clean_env.setenv("COSMOBOT_DATABASE_URL", f"sqlite:///{tmp_path}/missing/dir/bot.db")
    assert main(["migrate"]) == ExitStatus.ERROR
    assert "Cannot open the database in COSMOBOT_DATABASE_URL" in capsys.readouterr().err


@pytest.mark.parametrize("command", [[], ["run"], ["migrate"], ["check"], ["warm"]])
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([*command, "--help"])
    assert exit_info.value.code == 0
    assert "usage: cosmobot" in capsys.readouterr().out


def test_console_script_points_at_main():
    parser = configparser.ConfigParser()
    parser.read(Path(__file__).resolve().parent.parent / "setup.cfg")
    scripts = parser["options.entry_points"]["console_scripts"].strip()
    name, target = (part.strip() for part in scripts.split("="))
    module, function = target.split(":")
    assert name == "cosmobot"
    assert getattr(importlib.import_module(module), function) is main


def test_a_file_that_is_no_database_is_a_clear_failure(clean_env, capsys, tmp_path):
    (tmp_path / "bot.db").write_bytes(b"these are holiday photos, not a database" * 100)
    clean_env.setenv("COSMOBOT_DATABASE_URL", f"sqlite:///{tmp_path / 'bot.db'}")
    assert main(["migrate"]) == ExitStatus.ERROR
    err = capsys.readouterr().err
    assert "Cannot open the database in COSMOBOT_DATABASE_URL" in err
    assert "Traceback" not in err
