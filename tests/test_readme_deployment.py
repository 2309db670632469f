"""The README's deployment examples hold together: the variables exist, the files agree."""

from __future__ import annotations

import configparser
import re

from cosmobot import config
from cosmobot.config import load_settings
from tests.botrunner import REPO_ROOT

README = (REPO_ROOT / "README.md").read_text()
WEBHOOK_SECTION = README.split("\n## Webhook mode\n", 1)[1].split("\n## ", 1)[0]


def block(starting: str) -> str:
    """The fenced block of the webhook section whose first line is `starting`."""
    for body in re.findall(r"```[a-z]*\n(.*?)```", WEBHOOK_SECTION, re.DOTALL):
        if body.startswith(starting):
            return body
    raise AssertionError(f"no block starting with {starting!r}")


def test_every_variable_the_readme_names_is_one_the_bot_reads():
    # The tests' own variables (COSMOBOT_TEST_*) are the test suite's, not the bot's.
    named = set(re.findall(r"\bCOSMOBOT_(?!TEST_)[A-Z_]+\b", README))
    known = {value for name, value in vars(config).items()
             if name.isupper() and isinstance(value, str) and value.startswith("COSMOBOT_")}
    assert named - known == set()


def test_the_environment_file_is_a_valid_webhook_configuration(tmp_path):
    env_file = tmp_path / "cosmobot.env"
    env_file.write_text(block("# /etc/cosmobot/cosmobot.env"))
    settings = load_settings({}, env_file=env_file)
    assert settings.webhook is not None and settings.database_url.startswith("postgresql://")
    # systemd lets the file's variables win over the unit's Environment=: the file must not
    # name the listen address each instance sets.
    assert config.WEBHOOK_LISTEN not in env_file.read_text()


def test_the_unit_restarts_on_failure_but_not_on_a_config_error_and_reads_the_file():
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.read_string(block("# /etc/systemd/system/cosmobot@.service"))
    service = unit["Service"]
    assert service["Restart"] == "on-failure" and service["RestartPreventExitStatus"] == "2"
    assert service["EnvironmentFile"] == "/etc/cosmobot/cosmobot.env"
    assert service["ExecStart"].endswith("python -m cosmobot run")
    assert service["Environment"] == f"{config.WEBHOOK_LISTEN}=127.0.0.1:%i"
    assert "http://127.0.0.1:%i/healthz" in service["ExecStartPost"]


def test_the_proxy_sends_the_webhooks_path_to_the_workers_the_unit_starts(tmp_path):
    env_file = tmp_path / "cosmobot.env"
    env_file.write_text(block("# /etc/cosmobot/cosmobot.env"))
    webhook = load_settings({}, env_file=env_file).webhook
    caddyfile = block("bot.example.org {")
    host = re.search(r"https://([^/]+)/", webhook.url).group(1)
    assert caddyfile.startswith(f"{host} {{")
    assert f"handle {webhook.path} {{" in caddyfile
    upstreams = re.search(r"reverse_proxy (.*) \{", caddyfile).group(1).split()
    started = re.search(r"enable --now (.*)", WEBHOOK_SECTION).group(1).split()
    assert [f"cosmobot@{u.rsplit(':', 1)[1]}" for u in upstreams] == started
    assert "health_uri /healthz" in caddyfile
