"""Two processes picking for one chat at once: each image still comes once per round.

Each process has its own connection to the database, its own memory, and no way to know
of the other but the chat's row: the compare-and-set on that row is all that keeps them
from both taking the same image.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter

import pytest

from cosmobot.storage.database import apply_migrations, close_database, open_database
from cosmobot.storage.models import ShuffleBag
from tests.botrunner import REPO_ROOT
from tests.dblocks import file_or_postgres_url
from tests.factories import BOT_ID, make_assets

pytestmark = pytest.mark.timeout(300)

CHAT = -1007007
NAMES = tuple(f"image-{n}.jpg" for n in range(6))
PROCESSES, PICKS = 2, 60  # twenty rounds of six between them: many a race
# One process: wait until every process is ready, then pick as fast as it can.
PICKER = """
import asyncio, json, sys, time
from pathlib import Path
from cosmobot.images.assets import AssetLibrary
from cosmobot.storage import shufflebag, writes
from cosmobot.storage.database import close_database, open_database

url, assets, ready, processes, picks, bot_id, chat_id = sys.argv[1:]
# A claim is always waited for here: what is tested is the race, not a slow database.
shufflebag.CLAIM_PATIENCE_SECONDS = 60

async def main():
    library = AssetLibrary(Path(assets))
    library.scan()
    open_database(url)
    Path(ready, str(time.monotonic_ns())).touch()
    while len(list(Path(ready).iterdir())) < int(processes):
        await asyncio.sleep(0.001)
    shown = []
    for _ in range(int(picks)):
        pick = await shufflebag.pick_next(int(bot_id), int(chat_id), library)
        shown.append(pick.key)
        shufflebag.settle(pick, shown=True)
    await writes.settle()
    close_database()
    print(json.dumps(shown))

asyncio.run(main())
"""


@pytest.fixture(params=["sqlite-file", "postgresql"])
def url(request, tmp_path):
    url = file_or_postgres_url(request, tmp_path)
    open_database(url)
    apply_migrations()
    close_database()
    return url


def test_two_processes_picking_for_one_chat_at_once_never_take_the_same_image(url, tmp_path):
    assets = make_assets(tmp_path / "assets", NAMES)
    ready = tmp_path / "ready"
    ready.mkdir()
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    command = [sys.executable, "-c", PICKER, url, str(assets), str(ready), str(PROCESSES),
               str(PICKS), str(BOT_ID), str(CHAT)]
    runs = [subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True) for _ in range(PROCESSES)]
    outputs = [run.communicate(timeout=240) for run in runs]
    assert [run.returncode for run in runs] == [0] * PROCESSES, [err for _, err in outputs]
    shown = [json.loads(out.splitlines()[-1]) for out, _ in outputs]
    # Every claim landed on the row as the other process left it: four whole rounds.
    assert Counter(key for keys in shown for key in keys) == {
        f"cosmic/{name}": PROCESSES * PICKS // len(NAMES) for name in NAMES}
    assert all(len(keys) == PICKS for keys in shown)
    open_database(url)
    try:
        bag = ShuffleBag.get(ShuffleBag.of_chat(BOT_ID, CHAT))
        assert bag.shown == len(NAMES) and bag.version == PROCESSES * PICKS
    finally:
        close_database()
