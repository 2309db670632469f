"""The ImageAsset model and its queries, on SQLite and PostgreSQL."""

import datetime as dt

import peewee
from playhouse.db_url import connect

from cosmobot.storage import models
from cosmobot.storage.database import apply_migrations, open_database
from cosmobot.storage.models import ImageAsset


def store(key="cosmic/orion.jpg", file_id="AgAC-first", bot_id=1, fingerprint="f1"):
    ImageAsset.store(key, file_id, f"uniq-{file_id}", bot_id, fingerprint).execute()
    return ImageAsset.lookup(bot_id, key)


def test_store_inserts_a_row(db):
    row = store()
    assert (row.file_id, row.file_unique_id, row.bot_id, row.fingerprint) == (
        "AgAC-first", "uniq-AgAC-first", 1, "f1",
    )
    assert isinstance(row.created_at, dt.datetime)


def test_store_again_replaces_the_row_in_place(db, monkeypatch):
    monkeypatch.setattr(models, "utcnow", lambda: dt.datetime(2026, 1, 1, 12, 0))
    first = store()
    monkeypatch.setattr(models, "utcnow", lambda: dt.datetime(2026, 3, 1, 8, 30))
    second = store(file_id="AgAC-second", fingerprint="f2")
    assert ImageAsset.select().count() == 1
    assert (second.id, second.file_id, second.fingerprint) == (first.id, "AgAC-second", "f2")
    assert second.created_at == dt.datetime(2026, 1, 1, 12, 0)
    assert second.refreshed_at == dt.datetime(2026, 3, 1, 8, 30)


def test_each_bot_keeps_a_row_of_its_own_for_an_image(db):
    first = store(bot_id=1)
    store(file_id="AgAC-of-bot-2", bot_id=2)
    store(file_id="AgAC-second", bot_id=1)
    assert ImageAsset.select().count() == 2
    assert [(row.bot_id, row.file_id) for row in ImageAsset.select().order_by(ImageAsset.id)] == [
        (1, "AgAC-second"), (2, "AgAC-of-bot-2")]
    assert ImageAsset.lookup(1, "cosmic/orion.jpg").id == first.id
    assert [row.bot_id for row in ImageAsset.lookup_many(2, ["cosmic/orion.jpg"])] == [2]


def test_store_is_one_statement(db):
    store()
    queries = []
    real_execute = db.execute_sql

    def counting(sql, params=None, *args, **kwargs):
        queries.append(sql)
        return real_execute(sql, params, *args, **kwargs)

    db.execute_sql = counting
    try:
        store(file_id="AgAC-third")
    finally:
        del db.execute_sql
    writes = [sql for sql in queries if sql.lstrip().upper().startswith("INSERT")]
    assert len(writes) == 1 and "ON CONFLICT" in writes[0].upper()


def test_forget_only_drops_the_id_it_names(db):
    store()
    store(bot_id=2)  # the same id under another bot: never Telegram's, but not this bot's row
    assert ImageAsset.forget(1, "cosmic/orion.jpg", "AgAC-someone-elses").execute() == 0
    assert ImageAsset.lookup(1, "cosmic/orion.jpg") is not None
    assert ImageAsset.forget(1, "cosmic/orion.jpg", "AgAC-first").execute() == 1
    assert ImageAsset.lookup(1, "cosmic/orion.jpg") is None
    assert ImageAsset.lookup(2, "cosmic/orion.jpg") is not None


def test_a_row_is_valid_only_for_its_bot_and_content(db):
    row = store(bot_id=7, fingerprint="abc")
    assert row.is_valid_for(7, "abc")
    assert not row.is_valid_for(8, "abc")
    assert not row.is_valid_for(7, "changed")


def test_database_fills_timestamps_itself_in_utc(db):
    if isinstance(db, peewee.PostgresqlDatabase):
        db.execute_sql("SET timezone = 'Asia/Tokyo'")  # UTC+9: a local default would show
    db.execute_sql(
        "INSERT INTO image_assets (asset_key, file_id, file_unique_id, bot_id, fingerprint) "
        "VALUES ('cosmic/raw.jpg', 'x', 'y', 1, 'f')"
    )
    row = ImageAsset.lookup(1, "cosmic/raw.jpg")
    assert abs(row.created_at - models.utcnow()) < dt.timedelta(minutes=5)
    assert abs(row.refreshed_at - models.utcnow()) < dt.timedelta(minutes=5)


def test_postgresql_connection_dropped_by_the_server_is_reopened(postgres_url):
    db = open_database(postgres_url)
    apply_migrations()
    store()
    backend = db.execute_sql("SELECT pg_backend_pid()").fetchone()[0]
    admin = connect(postgres_url)
    admin.execute_sql("SELECT pg_terminate_backend(%s)", (backend,))
    admin.close()
    assert ImageAsset.lookup(1, "cosmic/orion.jpg").file_id == "AgAC-first"
    assert db.execute_sql("SELECT pg_backend_pid()").fetchone()[0] != backend
    db.close()


def test_postgresql_connection_closed_under_us_is_reopened(postgres_url):
    db = open_database(postgres_url)
    apply_migrations()
    store()
    db.connection().close()  # e.g. closed by a driver error the last time it was used
    assert ImageAsset.lookup(1, "cosmic/orion.jpg").file_id == "AgAC-first"
    db.close()
