"""Settings: one frozen object built from the environment (and `.env`) in one place."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse, urlsplit

from dotenv import dotenv_values

from cosmobot.schedule.localtime import parse_zone

TOKEN = "COSMOBOT_TOKEN"
DATABASE_URL = "COSMOBOT_DATABASE_URL"
ASSETS_DIR = "COSMOBOT_ASSETS_DIR"
API_URL = "COSMOBOT_API_URL"
LOG_LEVEL = "COSMOBOT_LOG_LEVEL"
TIMEZONE = "COSMOBOT_TIMEZONE"
CACHE_CHAT_ID = "COSMOBOT_CACHE_CHAT_ID"
ADMIN_IDS = "COSMOBOT_ADMIN_IDS"
WEBHOOK_URL = "COSMOBOT_WEBHOOK_URL"
WEBHOOK_LISTEN = "COSMOBOT_WEBHOOK_LISTEN"
WEBHOOK_SECRET = "COSMOBOT_WEBHOOK_SECRET"

DEFAULT_DATABASE_URL = "sqlite:///cosmobot.db"
DEFAULT_ASSETS_DIR = "assets/images"
DEFAULT_API_URL = "https://api.telegram.org/bot"
DEFAULT_LOG_LEVEL = "INFO"
DEFAULT_TIMEZONE = "UTC"
DEFAULT_WEBHOOK_LISTEN = "127.0.0.1:8080"
# The databases cosmobot is built and tested for (peewee knows more, e.g. MySQL).
DATABASE_SCHEMES = ("sqlite", "postgres", "postgresql")
LOG_LEVELS = ("TRACE", "DEBUG", "INFO", "SUCCESS", "WARNING", "ERROR", "CRITICAL")

# Telegram tokens are "<bot id>:<secret>"; checking the shape catches pasted quotes and spaces.
TOKEN_PATTERN = re.compile(r"^\d+:[A-Za-z0-9_-]+$")
# What Telegram accepts as a webhook's secret token, and the ports it posts to.
WEBHOOK_SECRET_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,256}")
WEBHOOK_PORTS = (80, 88, 443, 8443)


REDACTED = "[REDACTED]"
# Up to the last "@" of the URL: a password may hold a raw "@", "/" or "#" and must be masked whole.
URL_PASSWORD = re.compile(r"([a-z][a-z0-9+.-]*://[^/\s:@]*:)\S*@", re.IGNORECASE)
DSN_PASSWORD = re.compile(r"(\bpassword\s*=\s*)('[^']*'|\S+)", re.IGNORECASE)
DATABASE_URL_USAGE = "use sqlite:///path.db or postgresql://user:password@host:5432/name"
UNENCODED_URL = (
    "it cannot be parsed; if the user name or password holds any of / ? # @ : %, "
    "percent-encode them (/ as %2F, ? as %3F, # as %23, @ as %40, : as %3A, % as %25)"
)


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names the variable to fix."""


@dataclass(frozen=True)
class WebhookSettings:
    """Webhook mode: the public URL Telegram posts to, where this worker listens, the secret."""

    url: str
    secret: str = field(repr=False)
    host: str = "127.0.0.1"
    port: int = 8080

    @property
    def path(self) -> str:
        """The path of the URL, which the worker serves on its listen address."""
        return urlsplit(self.url).path or "/"

    @property
    def listen(self) -> str:
        """The listen address as host:port."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


@dataclass(frozen=True)
class Settings:
    """Everything cosmobot reads from its environment."""

    token: str | None
    database_url: str = DEFAULT_DATABASE_URL
    assets_dir: Path = Path(DEFAULT_ASSETS_DIR)
    api_url: str = DEFAULT_API_URL
    log_level: str = DEFAULT_LOG_LEVEL
    # The zone of /daily when a chat names none: an IANA name (or a UTC offset).
    timezone: str = DEFAULT_TIMEZONE
    # The chat the bot uploads new images to in the background, so users get file_ids only.
    cache_chat_id: int | None = None
    # Telegram user ids allowed to use /stats.
    admin_ids: frozenset[int] = frozenset()
    # Set: updates come by webhook to this process's own server; None: the leader polls.
    webhook: WebhookSettings | None = None

    def __repr__(self) -> str:
        # The token is a secret: keep it out of reprs, tracebacks and logs.
        shown = "set" if self.token else "unset"
        return (
            f"Settings(token=<{shown}>, database_url={redact_url(self.database_url)!r}, "
            f"assets_dir={str(self.assets_dir)!r}, api_url={self.api_url!r}, "
            f"log_level={self.log_level!r}, timezone={self.timezone!r}, "
            f"cache_chat_id={self.cache_chat_id!r}, admin_ids={sorted(self.admin_ids)!r}, "
            f"webhook={self.webhook!r})"
        )

    def require_cache_chat(self) -> int:
        """Return the cache chat's id, or raise ConfigError saying how to give one."""
        if self.cache_chat_id is None:
            raise ConfigError(
                f"no cache chat: set {CACHE_CHAT_ID} or pass --chat with the id of a chat "
                "the bot may post to"
            )
        return self.cache_chat_id

    def require_token(self) -> str:
        """Return the token, or raise ConfigError saying which variable to set."""
        if not self.token:
            raise ConfigError(f"{TOKEN} is not set: put the token from @BotFather in it")
        return self.token

    @property
    def secrets(self) -> tuple[str, ...]:
        """Strings that must never be written anywhere, wherever they appear."""
        # A database password is masked by its place in a URL or DSN instead (redact_url):
        # masking a short or ordinary word everywhere would garble logs and reveal it.
        webhook_secret = (self.webhook.secret,) if self.webhook else ()
        return ((self.token,) if self.token else ()) + webhook_secret


def load_settings(
    environ: Mapping[str, str] | None = None, env_file: Path | None = Path(".env")
) -> Settings:
    """Build Settings from a `.env` file and the environment; real variables win."""
    values: dict[str, str | None] = {}
    if env_file is not None and env_file.is_file():
        try:
            values.update(dotenv_values(env_file, encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as error:
            raise ConfigError(f"Cannot read {env_file}: {error}") from None
    environ = os.environ if environ is None else environ
    # An empty variable counts as unset (Docker Compose passes unset ones empty): it must not
    # hide the value in `.env`.
    values.update((name, value) for name, value in environ.items() if value.strip())

    def read(name: str, default: str) -> str:
        value = (values.get(name) or "").strip()
        return value or default

    settings = Settings(
        token=read(TOKEN, "") or None,
        database_url=read(DATABASE_URL, DEFAULT_DATABASE_URL),
        assets_dir=Path(read(ASSETS_DIR, DEFAULT_ASSETS_DIR)).expanduser(),
        api_url=read(API_URL, DEFAULT_API_URL),
        log_level=read(LOG_LEVEL, DEFAULT_LOG_LEVEL).upper(),
        timezone=read(TIMEZONE, DEFAULT_TIMEZONE),
        cache_chat_id=parse_chat_id(read(CACHE_CHAT_ID, ""), CACHE_CHAT_ID),
        admin_ids=parse_admin_ids(read(ADMIN_IDS, "")),
        webhook=parse_webhook(
            read(WEBHOOK_URL, ""), read(WEBHOOK_LISTEN, DEFAULT_WEBHOOK_LISTEN),
            read(WEBHOOK_SECRET, ""),
        ),
    )
    validate(settings)
    return settings


def validate(settings: Settings) -> None:
    """Raise ConfigError for the first malformed setting."""
    if settings.token is not None and not TOKEN_PATTERN.match(settings.token):
        raise ConfigError(
            f"{TOKEN} does not look like a bot token (expected digits, a colon, then letters)"
        )
    problem = database_url_problem(settings.database_url)
    if problem:
        raise ConfigError(f"{DATABASE_URL} cannot be used: {problem}")
    api = urlparse(settings.api_url)
    # PTB appends the token to this URL as it is, so it must end where the token goes.
    if api.scheme not in ("http", "https") or not api.netloc or not api.path.endswith("/bot"):
        raise ConfigError(
            f"{API_URL} must be an http(s) URL ending in /bot, like {DEFAULT_API_URL}"
        )
    if settings.log_level not in LOG_LEVELS:
        raise ConfigError(f"{LOG_LEVEL} must be one of {', '.join(LOG_LEVELS)}")
    try:
        parse_zone(settings.timezone)
    except ValueError:
        raise ConfigError(
            f"{TIMEZONE} must be a time zone name such as Europe/Berlin or UTC"
        ) from None


def parse_chat_id(value: str, name: str) -> int | None:
    """Return the Telegram chat id in value (None if empty); name is where it came from."""
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise ConfigError(
            f"{name} must be a Telegram chat id, a whole number such as -1001234567890 "
            f"for a channel or group, not {value!r}"
        ) from None


def parse_admin_ids(value: str) -> frozenset[int]:
    """Return the user ids in a comma-separated list such as "12345, 67890"."""
    ids = set()
    for part in filter(None, (part.strip() for part in value.split(","))):
        if not re.fullmatch(r"[0-9]+", part) or int(part) == 0:
            raise ConfigError(
                f"{ADMIN_IDS} must be Telegram user ids separated by commas, such as "
                f"12345678,87654321; {part!r} is not one"
            )
        ids.add(int(part))
    return frozenset(ids)


def parse_webhook(url: str, listen: str, secret: str) -> WebhookSettings | None:
    """Return the webhook settings (None without a URL: polling mode)."""
    if not url:
        return None
    webhook_url_problem(url)
    if not WEBHOOK_SECRET_PATTERN.fullmatch(secret):
        raise ConfigError(
            f"{WEBHOOK_SECRET} must be set in webhook mode, to 1-256 letters, digits, _ or -, "
            "the characters Telegram allows in a secret token"
        )
    host, port = parse_listen(listen)
    return WebhookSettings(url=url, secret=secret, host=host, port=port)


def webhook_url_problem(url: str) -> None:
    """Raise ConfigError unless url is one Telegram would post updates to."""
    parsed = urlsplit(url)
    try:
        port = parsed.port
    except ValueError:
        port = -1
    if parsed.scheme != "https" or not parsed.hostname or any(c.isspace() for c in url) \
            or parsed.fragment:
        raise ConfigError(
            f"{WEBHOOK_URL} must be the public https URL Telegram posts updates to, "
            "such as https://bot.example.org/hook"
        )
    if port is not None and port not in WEBHOOK_PORTS:
        raise ConfigError(
            f"{WEBHOOK_URL} may name port 80, 88, 443 or 8443 or none: Telegram posts to "
            "no other"
        )


def parse_listen(listen: str) -> tuple[str, int]:
    """Return the host and port of a host:port listen address."""
    parsed = urlsplit(f"//{listen}")
    try:
        port = parsed.port
    except ValueError:
        port = None
    if not parsed.hostname or not port or parsed.path or parsed.username is not None:
        raise ConfigError(
            f"{WEBHOOK_LISTEN} must be host:port, such as {DEFAULT_WEBHOOK_LISTEN} or "
            "0.0.0.0:8443, not " + repr(listen)
        )
    return parsed.hostname, port


def database_url_problem(url: str) -> str | None:
    """Say what is wrong with a database URL, or return None if it can be used."""
    parsed = urlparse(url)
    if parsed.scheme not in DATABASE_SCHEMES:
        return f"it is not a database URL this bot understands; {DATABASE_URL_USAGE}"
    if parsed.scheme == "sqlite":
        return None
    try:
        parsed.port  # noqa: B018 -- raises ValueError for a malformed port
    except ValueError:
        return UNENCODED_URL
    # A raw "/", "?" or "#" in the password ends the host part early: what follows it,
    # "@host" included, lands in the path, query or fragment.
    if "@" in parsed.path + parsed.query or parsed.fragment:
        return UNENCODED_URL
    if not parsed.hostname or not parsed.path.strip("/"):
        return f"it names no host or no database; {DATABASE_URL_USAGE}"
    return None


def redact_url(text: str) -> str:
    """Return text with the password of every URL (`scheme://user:password@`) or DSN masked."""
    text = URL_PASSWORD.sub(rf"\1{REDACTED}@", text)
    return DSN_PASSWORD.sub(rf"\1{REDACTED}", text)
