"""Mutants of what stores: the shuffle bag, the file_id cache, background writes, pruning."""

from __future__ import annotations

from tests.mutation.mutant import Mutant

SHUFFLEBAG = "cosmobot/storage/shufflebag.py"
FILECACHE = "cosmobot/storage/filecache.py"
WRITES = "cosmobot/storage/writes.py"
PRUNE = "cosmobot/storage/prune.py"

SHUFFLEBAG_TESTS = ("tests/test_shufflebag.py", "tests/test_e2e_shufflebag.py")
FILECACHE_TESTS = ("tests/test_filecache.py", "tests/test_sender.py")
WRITES_TESTS = ("tests/test_db_writes.py", "tests/test_slow_database.py")
PRUNE_TESTS = ("tests/test_prune.py",)

SHUFFLE_BAG = [
    Mutant("sb_pick_ignores_taken", SHUFFLEBAG,
           "free = [key for key in installed if key not in self.taken] or list(installed)",
           "free = list(installed)",
           SHUFFLEBAG_TESTS, "/cosmic and the daily image at once may send the same picture"),
    Mutant("sb_new_round_repeats_last", SHUFFLEBAG,
           "return random.choice([key for key in free if key != last] or free), True",
           "return random.choice(free), True",
           SHUFFLEBAG_TESTS, "a new round may start with the image just shown"),
    Mutant("sb_search_ignores_taken", SHUFFLEBAG,
           "free = [key for key in candidates if key not in self.taken] or list(candidates)",
           "free = list(candidates)",
           SHUFFLEBAG_TESTS, "two searches at once in one chat may send the same picture"),
    Mutant("sb_pending_records_ignored", SHUFFLEBAG,
           "tuple(_with_records(seen, state.records))",
           "tuple(seen)",
           SHUFFLEBAG_TESTS, "asking again while the seen record waits for a lock repeats"),
    Mutant("sb_tidy_during_read", SHUFFLEBAG,
           "    if not state.reads:\n",
           "    if True:\n",
           SHUFFLEBAG_TESTS, "a record that lands during a read is dropped before it is applied"),
    Mutant("sb_new_round_kept_in_memory", SHUFFLEBAG,
           "            keys = [entry.asset_key]",
           "            keys = keys + [entry.asset_key]",
           SHUFFLEBAG_TESTS, "a new round still pending in memory does not empty the bag"),
    Mutant("sb_round_never_emptied", SHUFFLEBAG,
           "        if new_round:\n            SeenImage.new_round(bot_id, chat_id).execute()\n",
           "",
           SHUFFLEBAG_TESTS, "after one full round every pick may repeat"),
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
]

PRUNING = [
    Mutant("pr_subscribed_chat_pruned", PRUNE,
           ".where(in_batch & SeenImage.chat_id.not_in(subscribed))",
           ".where(in_batch)",
           PRUNE_TESTS, "a subscribed chat idle for 90 days loses its round: repeats"),
    Mutant("pr_round_start_not_last_seen", PRUNE,
           "MAX(SeenImage.seen_at) < cutoff",
           "MIN(SeenImage.seen_at) < cutoff",
           PRUNE_TESTS, "an active chat whose round began 90 days ago loses it"),
    Mutant("pr_active_subscription_pruned", PRUNE,
           "(Subscription.bot_id == bot_id) & ~Subscription.active\n",
           "(Subscription.bot_id == bot_id)\n",
           PRUNE_TESTS, "a subscription unchanged for 90 days is deleted while active"),
    Mutant("pr_walk_stops_after_first_batch", PRUNE,
           "chats[-1] if len(listed) == limit else None",
           "chats[-1] if len(listed) > limit else None",
           PRUNE_TESTS, "only the first batch of chats is ever pruned"),
    Mutant("pr_stop_ignored", PRUNE,
           "    while not stopping():\n",
           "    while True:\n",
           PRUNE_TESTS, "a stopping bot waits for the whole prune"),
]

MUTANTS = [*SHUFFLE_BAG, *FILE_ID_CACHE, *BACKGROUND_WRITES, *PRUNING]
