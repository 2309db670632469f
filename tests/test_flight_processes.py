"""Single flight across real processes: racing senders and racing `cosmobot warm`, one upload
of each image in all, on a SQLite file and on PostgreSQL."""

from __future__ import annotations

import pytest

from cosmobot.storage.database import apply_migrations, close_database, open_database
from tests.dblocks import file_or_postgres_url, query_one
from tests.processes import RACE_FAILURES, new_images, race_senders, race_warms

pytestmark = pytest.mark.timeout(240)
# Every answer of the fake comes this late: uploads overlap, as they would over the internet.
LATENCY_SECONDS = 0.2
CACHE_CHAT = 4242


@pytest.fixture(params=["sqlite-file", "postgresql"])
def url(request, tmp_path):
    url = file_or_postgres_url(request, tmp_path)
    open_database(url)
    apply_migrations()  # before the race: racing migrations are another test's matter
    close_database()
    return url


def successful_uploads(fake_api) -> list:
    return [call for call in fake_api.uploads() if call.status == 200]


def count_rows(url: str, table: str) -> int:
    return query_one(url, f"SELECT COUNT(*) FROM {table}")[0]


def clean(output: str) -> bool:
    return not any(failure in output for failure in RACE_FAILURES)


def test_four_processes_racing_for_ten_new_images_upload_each_once(url, tmp_path, fake_api):
    keys = new_images(tmp_path / "assets", 10)
    chats = [101, 102, 103, 104]
    fake_api.latency = LATENCY_SECONDS
    finished = race_senders(url, tmp_path / "assets", fake_api, keys, chats, tmp_path)
    assert [process.status for process in finished] == [0] * 4, [p.output for p in finished]
    assert [process.result["sent"] for process in finished] == [10] * 4
    assert all(clean(process.output) for process in finished), [p.output for p in finished]
    assert len(successful_uploads(fake_api)) == 10
    for chat in chats:
        assert len([m for m in fake_api.sent_to(chat) if "photo" in m]) == 10
    assert count_rows(url, "image_assets") == 10
    assert count_rows(url, "upload_claims") == 0  # every claim let go of with its file_id


def test_two_warms_at_once_upload_nothing_twice(url, tmp_path, fake_api):
    new_images(tmp_path / "assets", 6)
    fake_api.latency = LATENCY_SECONDS
    finished = race_warms(url, tmp_path / "assets", fake_api, CACHE_CHAT, 2, tmp_path)
    assert [process.status for process in finished] == [0, 0], [p.output for p in finished]
    assert all(clean(process.output) for process in finished), [p.output for p in finished]
    assert len(successful_uploads(fake_api)) == 6
    # The one that waited for the other's upload posts nothing: it counts it as cached.
    assert len(fake_api.sent_to(CACHE_CHAT)) == 6
    assert all("every image is cached" in process.output for process in finished)
    assert count_rows(url, "image_assets") == 6
