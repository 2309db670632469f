"""Opening and closing the database."""

import asyncio
from types import SimpleNamespace

from cosmobot.bot import app
from cosmobot.storage.database import database, open_database


def test_sqlite_runs_in_wal_mode_and_waits_for_locks(tmp_path):
    db = open_database(f"sqlite:///{tmp_path / 'bot.db'}")
    try:
        # WAL lets `cosmobot check` read while the bot writes; busy_timeout makes a second
        # writer wait instead of failing with "database is locked".
        assert db.execute_sql("PRAGMA journal_mode").fetchone() == ("wal",)
        assert db.execute_sql("PRAGMA busy_timeout").fetchone() == (5000,)
    finally:
        db.close()


def test_shutdown_closes_the_connection(tmp_path):
    open_database(f"sqlite:///{tmp_path / 'bot.db'}")
    assert not database.is_closed()
    asyncio.run(app.post_shutdown(SimpleNamespace(bot_data={})))
    assert database.is_closed()
