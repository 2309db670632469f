"""The scenarios `python -m tests.benchmarks` runs, in this order (--only picks by name)."""

from tests.benchmarks.harness import Scenario
from tests.benchmarks.scenarios import (
    assets_scan,
    cache_lookup,
    cached_send,
    cosmic_command,
    first_send,
    herd,
    inline,
    pick,
    restart,
)

SCENARIOS = [
    Scenario("send", "a cached send: sender.send_image next to a bare PTB send_photo(file_id)",
             cached_send.run),
    Scenario("cosmic", "/cosmic through cosmobot next to a bare PTB bot, update in to photo out",
             cosmic_command.run),
    Scenario("first_send", "the first send of an image (its upload) next to a cached send",
             first_send.run),
    Scenario("herd", "many users asking at once for an image not uploaded yet", herd.run),
    Scenario("cache_lookup", "what a send looks up before its Bot API call, 100,000 rows cached",
             cache_lookup.run),
    Scenario("inline", "inline queries answered, every image cached", inline.run),
    Scenario("restart", "a new process on a database with every image cached: to its first photo",
             restart.run),
    Scenario("assets_scan", "the start-up scan of 1,000 to 100,000 images, and its memory",
             assets_scan.run),
    Scenario("pick", "a chat's next image when it has seen all but one, 1,000 to 100,000 images",
             pick.run),
    Scenario("send_postgres", "the cached send on PostgreSQL", cached_send.run_postgres,
             needs_postgres=True),
    Scenario("cosmic_postgres", "/cosmic on PostgreSQL", cosmic_command.run_postgres,
             needs_postgres=True),
    Scenario("cache_lookup_postgres", "the cache lookup on PostgreSQL", cache_lookup.run_postgres,
             needs_postgres=True),
    Scenario("pick_postgres", "the next pick on PostgreSQL", pick.run_postgres,
             needs_postgres=True),
]
