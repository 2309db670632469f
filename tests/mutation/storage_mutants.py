"""Mutants of what stores: the shuffle bag, the file_id cache, background writes, pruning."""

from __future__ import annotations

from tests.mutation.mutant import Mutant

SHUFFLEBAG = "cosmobot/storage/shufflebag.py"
BAGSTATE = "cosmobot/storage/bagstate.py"
BAGROWS = "cosmobot/storage/bagrows.py"
SHUFFLE = "cosmobot/storage/shuffle.py"
NUMBERING = "cosmobot/storage/numbering.py"
BAG_MIGRATION = "migrations/008_shuffle_bags_of_fixed_size.py"
FILECACHE = "cosmobot/storage/filecache.py"
WRITES = "cosmobot/storage/writes.py"
PRUNE = "cosmobot/storage/prune.py"

SHUFFLEBAG_TESTS = ("tests/test_bagstate.py", "tests/test_shufflebag.py",
                    "tests/test_shufflebag_processes.py", "tests/test_numbering.py",
                    "tests/test_migration_bags.py", "tests/test_search.py",
                    "tests/test_e2e_shufflebag.py")
FILECACHE_TESTS = ("tests/test_filecache.py", "tests/test_sender.py")
WRITES_TESTS = ("tests/test_db_writes.py", "tests/test_slow_database.py")
PRUNE_TESTS = ("tests/test_prune.py",)

SHUFFLE_BAG = [
    Mutant("sb_pick_ignores_taken", BAGSTATE,
           "        if stop.number not in avoid:\n",
           "        if True:\n",
           SHUFFLEBAG_TESTS, "/cosmic and the daily image at once may send the same picture"),
    Mutant("sb_new_round_repeats_last", BAGSTATE,
           "avoid = {*on_their_way, *([] if state.last is None else [state.last])}",
           "avoid = set(on_their_way)",
           SHUFFLEBAG_TESTS, "a new round may start with the image just shown"),
    Mutant("sb_search_ignores_taken", BAGSTATE,
           "free = [number for number in candidates if number not in on_their_way] or list(",
           "free = [number for number in candidates if number not in ()] or list(",
           SHUFFLEBAG_TESTS, "two searches at once in one chat may send the same picture"),
    Mutant("sb_search_repeats_seen", BAGSTATE,
           "unseen = [number for number in free if not state.has_seen(number)]",
           "unseen = list(free)",
           SHUFFLEBAG_TESTS, "a search sends a seen image though an unseen one matches"),
    Mutant("sb_walk_ignores_ahead", BAGSTATE,
           "                    if number in self.ahead:\n",
           "                    if False:\n",
           SHUFFLEBAG_TESTS, "an image shown out of order (a search) comes again in the round"),
    Mutant("sb_removed_image_picked", BAGSTATE,
           "                    elif numbers.is_live(number):\n",
           "                    else:\n",
           SHUFFLEBAG_TESTS, "an image removed from the collection is still picked"),
    Mutant("sb_added_images_never_join", BAGSTATE,
           "            start, end, step = end, numbers.count, 0",
           "            return",
           SHUFFLEBAG_TESTS, "an image added during a round waits for the next round"),
    Mutant("sb_seen_counts_the_next_step", BAGSTATE,
           "return self._shuffle().step_of(number - self.leg_start) < self.step",
           "return self._shuffle().step_of(number - self.leg_start) <= self.step",
           SHUFFLEBAG_TESTS, "a search never finds the image the round would show next"),
    Mutant("sb_new_round_never_recorded", BAGSTATE,
           "return None if choice is None else replace(choice, reseed=fresh.seed)",
           "return choice",
           SHUFFLEBAG_TESTS, "after one full round every pick may repeat"),
    Mutant("sb_shuffle_not_inverted", SHUFFLE,
           "            left, right = right ^ (mix(left ^ key) & mask), left",
           "            left, right = right ^ (mix(right ^ key) & mask), left",
           SHUFFLEBAG_TESTS, "what the chat has seen is read from the wrong steps: repeats"),
    Mutant("sb_pending_records_ignored", SHUFFLEBAG,
           "        state = change.apply(state, deck) or state\n",
           "        state = state\n",
           SHUFFLEBAG_TESTS, "asking again while the seen record waits for a lock repeats"),
    Mutant("sb_claim_overwrites_newer_row", BAGROWS,
           'f"WHERE {where} AND version = {param}")',
           'f"WHERE {where} AND version >= {param}")',
           SHUFFLEBAG_TESTS, "two processes picking for one chat at once send the same picture"),
    Mutant("sb_lost_claim_sent_anyway", SHUFFLEBAG,
           "        if change.written is not False or attempt == PICK_TRIES - 1:\n",
           "        if True:\n",
           SHUFFLEBAG_TESTS, "an image another process claimed first is sent again"),
    Mutant("sb_number_given_twice", NUMBERING,
           "        first = -1 if top is None else top\n",
           "        first = -1\n",
           SHUFFLEBAG_TESTS, "two images share a number: one of them is never picked"),
    Mutant("sb_migration_forgets_progress", BAG_MIGRATION,
           "               {numbers},\n",
           "               '',\n",
           SHUFFLEBAG_TESTS, "after the upgrade each chat's round starts again: repeats"),
    Mutant("sb_first_row_claim_always_won", BAGROWS,
           "return database.execute_sql(insert, (bot_id, chat_id, *values, 1)).rowcount == 1",
           "return database.execute_sql(insert, (bot_id, chat_id, *values, 1)).rowcount >= 0",
           ("tests/test_shufflebag_processes.py", "tests/test_shufflebag.py"),
           "two processes making a chat's first pick at once send the same picture"),
]

FILE_ID_CACHE = [
    Mutant("fc_miss_remembered_forever", FILECACHE,
           "return missed_at is not None and time.monotonic() - missed_at < MISS_SECONDS",
           "return missed_at is not None",
           FILECACHE_TESTS, "an image `cosmobot warm` cached is never seen by the running bot"),
    Mutant("fc_fingerprint_ignored", FILECACHE,
           "if row is None or row.is_valid_for(bot_id, fingerprint):",
           "if row is None or row.bot_id == bot_id:",
           FILECACHE_TESTS, "a replaced file is still sent as the old picture"),
    Mutant("fc_forget_drops_newer", FILECACHE,
           "    if row is None or row.file_id == file_id:\n",
           "    if True:\n",
           FILECACHE_TESTS, "a refused old file_id drops the newer one, uploaded again"),
    Mutant("fc_preload_forgets_misses", FILECACHE,
           "    _missed({(bot_id, asset_key)"
           " for asset_key in missing if asset_key not in found})\n",
           "",
           FILECACHE_TESTS, "every inline query reads the database once per uncached image"),
    Mutant("fc_forgotten_key_still_listed", FILECACHE,
           "        _keys_by_bot.get(bot_id, set()).discard(asset_key)\n",
           "",
           ("tests/test_filecache.py",), "inline mode keeps checking an image Telegram refused"),
    Mutant("fc_remembered_key_not_listed", FILECACHE,
           "    _keys_by_bot.setdefault(bot_id, set()).add(asset_key)\n",
           "",
           ("tests/test_filecache.py",), "an image uploaded while running never shows inline"),
    Mutant("fc_adopted_key_not_listed", FILECACHE,
           "    _keys_by_bot.setdefault(row.bot_id, set()).add(row.asset_key)\n",
           "",
           ("tests/test_filecache.py",),
           "an image another process uploaded never shows inline in this one"),
    Mutant("fc_lookup_ignores_misses", FILECACHE,
           "if row is None and not _missed_lately(key):",
           "if row is None:",
           FILECACHE_TESTS, "a refused file_id is read back before its delete lands, and resent"),
]

BACKGROUND_WRITES = [
    Mutant("wr_overtakes", WRITES,
           "previous = _last if _is_on_its_way(_last) else None",
           "previous = None",
           WRITES_TESTS, "a write overtakes one waiting out a lock (a new round before its seen)"),
    Mutant("wr_lock_not_retried", WRITES,
           "TRANSIENT_ERRORS = (peewee.OperationalError, peewee.InterfaceError)",
           "TRANSIENT_ERRORS = (peewee.InterfaceError,)",
           WRITES_TESTS, "a write meeting a lock is lost at once"),
    Mutant("wr_shutdown_does_not_wait", WRITES,
           "    await settle(timeout)\n    left = _of_this_loop()",
           "    left = _of_this_loop()",
           WRITES_TESTS, "writes on their way at shutdown are dropped without a wait"),
    Mutant("db_sqlite_commit_waits_for_disk", "cosmobot/storage/database.py",
           '"synchronous": "normal"}', '"synchronous": "full"}',
           ("tests/test_db_threads.py",), "every claim before a send waits for an fsync"),
    Mutant("db_postgres_commit_waits_for_flush", "cosmobot/storage/database.py",
           "-c synchronous_commit=off", "-c synchronous_commit=on",
           ("tests/test_db_threads.py",), "every claim before a send waits for the WAL flush"),
]

PRUNING = [
    Mutant("pr_subscribed_chat_pruned", PRUNE,
           "& (ShuffleBag.updated_at < cutoff) & ShuffleBag.chat_id.not_in(subscribed))",
           "& (ShuffleBag.updated_at < cutoff))",
           PRUNE_TESTS, "a subscribed chat idle for 90 days loses its round: repeats"),
    Mutant("pr_active_bag_pruned", PRUNE,
           "& (ShuffleBag.updated_at < cutoff) &",
           "& (ShuffleBag.updated_at > cutoff) &",
           PRUNE_TESTS, "a chat that saw an image yesterday loses its round"),
    Mutant("pr_active_subscription_pruned", PRUNE,
           "(Subscription.bot_id == bot_id) & ~Subscription.active\n",
           "(Subscription.bot_id == bot_id)\n",
           PRUNE_TESTS, "a subscription unchanged for 90 days is deleted while active"),
    Mutant("pr_walk_stops_after_first_batch", PRUNE,
           "chats[-1] if len(chats) == limit else None",
           "chats[-1] if len(chats) > limit else None",
           PRUNE_TESTS, "only the first batch of chats is ever pruned"),
    Mutant("pr_stop_ignored", PRUNE,
           "    while not stopping():\n",
           "    while True:\n",
           PRUNE_TESTS, "a stopping bot waits for the whole prune"),
]

MUTANTS = [*SHUFFLE_BAG, *FILE_ID_CACHE, *BACKGROUND_WRITES, *PRUNING]
