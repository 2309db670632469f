"""`cosmobot check`: a readable report on configuration, database and images."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import peewee
from loguru import logger

from cosmobot.config import TOKEN, ConfigError, Settings, redact_url
from cosmobot.images import photo
from cosmobot.images.assets import AssetLibrary
from cosmobot.storage.database import (
    MigrationsMissing,
    close_database,
    open_database,
    pending_migrations,
    sqlite_file,
)


@dataclass
class Report:
    """Lines of the report, and whether anything is wrong."""

    lines: list[str] = field(default_factory=list)
    problems: int = 0
    config_ok: bool = True

    def good(self, topic: str, detail: str) -> None:
        self.lines.append(f"  ok    {topic}: {detail}")

    def bad(self, topic: str, detail: str) -> None:
        self.problems += 1
        self.lines.append(f"  FAIL  {topic}: {detail}")

    @property
    def ok(self) -> bool:
        return self.problems == 0

    def render(self) -> str:
        verdict = "All is well." if self.ok else f"{self.problems} problem(s) found."
        return "\n".join(["cosmobot check", *self.lines, verdict])


def run_checks(settings: Settings) -> Report:
    """Check everything the bot needs before it runs."""
    report = Report()
    check_configuration(settings, report)
    check_database(settings, report)
    check_images(settings, report)
    return report


def check_configuration(settings: Settings, report: Report) -> None:
    try:
        settings.require_token()
        report.good("token", f"{TOKEN} is set")
    except ConfigError as error:
        report.config_ok = False
        report.bad("token", str(error))
    report.good("Bot API", redact_url(settings.api_url))


def check_database(settings: Settings, report: Report) -> None:
    url = redact_url(settings.database_url)
    file = sqlite_file(settings.database_url)
    if file is not None and not file.exists():
        # Opening it would create it; a check only looks.
        report.bad("database", f"{file} does not exist yet: run `python -m cosmobot migrate` "
                   "(the bot also creates it when it starts)")
        return
    try:
        open_database(settings.database_url)
        pending = pending_migrations()
    except (peewee.DatabaseError, MigrationsMissing) as error:
        report.bad("database", f"cannot check {url}: {error}")
        return
    finally:
        close_database()
    if pending:
        report.bad("database", f"{url}: {len(pending)} migration(s) pending; "
                   "run `python -m cosmobot migrate` (the bot also applies them at start)")
    else:
        report.good("database", f"{url}, migrations up to date")


def check_images(settings: Settings, report: Report) -> None:
    """Judge the images by the bot's own rules: its scan, then the decode an upload does."""
    library = AssetLibrary(settings.assets_dir)
    folder = library.cosmic_dir
    _scan_quietly(library)
    if not library.cosmic_keys and not library.rejected:
        report.bad("images", f"no images in {folder}: put .jpg, .png or .webp files there")
        return
    for key, reason in library.rejected.items():
        report.bad("image", f"{library.root / key}: {reason}; it will be skipped")
    usable = [key for key in library.cosmic_keys if _decodes(library.root / key, report)]
    described = sum(1 for key in usable if library.has_metadata(key))
    report.good("images", f"{len(usable)} usable in {folder}, {described} with titles and credits")


def _scan_quietly(library: AssetLibrary) -> None:
    # The report states each skipped file once; the scan's own warnings would repeat it.
    logger.disable("cosmobot.images.assets")
    try:
        library.scan()
    finally:
        logger.enable("cosmobot.images.assets")


def _decodes(path: Path, report: Report) -> bool:
    try:
        info = photo.verify(path)
    except OSError as error:  # photo.ImageError, whatever the file holds
        report.bad("image", f"{path}: not a readable image ({error}); it will be skipped")
        return False
    if not info.fits_telegram:
        report.good("image", f"{path}: beyond Telegram's photo limits, "
                    "will be downscaled for upload")
    return True
