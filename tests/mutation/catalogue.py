"""The mutants: one small bug each, in the code's own words, and the tests that must catch it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Mutant:
    """Replace `before` (found exactly once in `path`) by `after`; `tests` must then fail."""

    name: str
    path: str
    before: str
    after: str
    tests: tuple[str, ...]
    why: str


MUTANTS: list[Mutant] = []

# ---- several bots on one database; migrations started at once --------------------------------

_RACE = ("tests/test_e2e_migrate_race.py",)
_TWO_BOTS_E2E = (
    "tests/test_e2e_several_bots.py::test_two_bots_on_one_database_each_keep_to_their_own")
_FROM_BEFORE_E2E = (
    "tests/test_e2e_several_bots.py::test_a_database_from_before_is_served_by_the_bot_that_had_it",)
_FIGURES = "tests/test_several_bots.py::test_the_figures_of_a_day_are_each_bots_own"
_PRUNE = "tests/test_prune.py::test_each_bot_prunes_its_own_rows_by_its_own_subscriptions"
_MIGRATION = "tests/test_migration_bots.py"

MUTANTS += [
    Mutant("migrations-take-no-lock", "cosmobot/storage/database.py",
           "        with _migration_lock(target):\n            applied = migration_router(db)",
           "        if True:\n            applied = migration_router(db)",
           _RACE, "two processes migrating at once both run the migrations"),
    Mutant("sqlite-migration-lock-shared", "cosmobot/storage/database.py",
           "fcntl.flock(lock, fcntl.LOCK_EX)", "fcntl.flock(lock, fcntl.LOCK_SH)",
           _RACE, "the SQLite file's migration lock lets both in"),
    Mutant("postgres-migration-lock-shared", "cosmobot/storage/database.py",
           "SELECT pg_advisory_lock(%s, 0)", "SELECT pg_advisory_lock_shared(%s, 0)",
           _RACE, "the PostgreSQL migration lock lets both in"),
    Mutant("file-id-row-of-any-bot", "cosmobot/storage/models.py",
           "return cls.get_or_none((cls.bot_id == bot_id) & (cls.asset_key == asset_key))",
           "return cls.get_or_none(cls.asset_key == asset_key)",
           ("tests/test_filecache.py::"
            "test_two_bots_keep_a_file_id_each_in_memory_and_in_the_database", _TWO_BOTS_E2E),
           "a bot reads another bot's cached row for an image"),
    Mutant("file-id-memory-of-any-bot", "cosmobot/storage/filecache.py",
           "    row = _rows.get(key)\n    if row is None and not _missed_lately(key):",
           "    row = next((r for k, r in _rows.items() if k[1] == asset_key), None)\n"
           "    if row is None and not _missed_lately(key):",
           ("tests/test_sender.py::test_two_bots_keep_a_file_id_each_and_send_by_their_own",),
           "the copy in memory holds one row per image, whichever bot's"),
    Mutant("miss-hides-other-bots-row", "cosmobot/storage/filecache.py",
           "    missed_at = _misses.get(key)",
           "    missed_at = max((t for k, t in _misses.items() if k[1] == key[1]), default=None)",
           ("tests/test_filecache.py::test_one_bots_miss_does_not_hide_another_bots_row",),
           "one bot's miss keeps another bot from reading its row"),
    Mutant("upload-lock-shared-by-bots", "cosmobot/sender.py",
           "    flight = (send.bot.id, send.key)", "    flight = (0, send.key)",
           ("tests/test_sender.py::test_two_bots_upload_a_new_image_side_by_side",),
           "one bot's upload of an image waits for another bot's"),
    Mutant("bag-of-any-bot", "cosmobot/storage/models.py",
           "        return (cls.bot_id == bot_id) & (cls.chat_id == chat_id)",
           "        return cls.chat_id == chat_id",
           ("tests/test_shufflebag.py::test_a_chat_has_a_bag_with_each_bot",),
           "what one bot sent a chat counts in another bot's round"),
    Mutant("subscription-of-any-bot", "cosmobot/storage/models.py",
           "return cls.get_or_none((cls.bot_id == bot_id) & (cls.chat_id == chat_id))",
           "return cls.get_or_none(cls.chat_id == chat_id)",
           ("tests/test_several_bots.py::test_a_chat_subscribes_to_each_bot_on_its_own",
            *_FROM_BEFORE_E2E), "/daily, /status and /stop see another bot's subscription"),
    Mutant("round-serves-any-bots-chats", "cosmobot/storage/models.py",
           "return (cls.bot_id == bot_id) & cls.active & cls.set_aside.is_null() & (cls.next_at",
           "return cls.active & cls.set_aside.is_null() & (cls.next_at",
           ("tests/test_several_bots.py::"
            "test_a_round_sends_its_own_subscribers_their_image_and_no_one_else", _TWO_BOTS_E2E),
           "a bot's round sends another bot's subscribers their image"),
    Mutant("round-settles-other-bots-marks", "cosmobot/storage/models.py",
           "(cls.select().where((cls.bot_id == bot_id) & cls.sending_since.is_null(False))",
           "(cls.select().where(cls.sending_since.is_null(False))",
           ("tests/test_several_bots.py::test_a_round_leaves_another_bots_send_in_flight_alone",),
           "a bot's round takes another bot's send in flight for a killed one"),
    Mutant("figures-count-every-bot", "cosmobot/schedule/daybook.py",
           "    mine = Subscription.bot_id == bot_id\n",
           "    mine = Subscription.bot_id.is_null(False)\n",
           (_FIGURES,), "/stats counts every bot's subscribers"),
    Mutant("done-counts-every-bot", "cosmobot/schedule/daybook.py",
           "              .where((Subscription.bot_id == bot_id) & Subscription.active",
           "              .where(Subscription.active",
           (_FIGURES,), "/stats counts every bot's images delivered today"),
    Mutant("failures-of-any-bot", "cosmobot/schedule/daily.py",
           "    date, failed = _failures.get(bot_id, (None, 0))",
           "    date, failed = next(iter(_failures.values()), (None, 0))",
           (_FIGURES,), "/stats counts another bot's failed tries"),
    Mutant("totals-of-every-bot", "cosmobot/storage/models.py",
           "return {row.name: row.value for row in cls.select().where(cls.bot_id == bot_id)}",
           "return {row.name: row.value for row in cls.select()}",
           ("tests/test_several_bots.py::test_each_bot_counts_its_own_sends", _TWO_BOTS_E2E),
           "a bot's lifetime totals are read from any bot's rows"),
    Mutant("since-start-of-every-bot", "cosmobot/storage/sendcounts.py",
           "    return {name: _since_start[bot_id, name] for name in NAMES}",
           "    return {name: sum(c for (_, n), c in _since_start.items() if n == name)"
           " for name in NAMES}",
           ("tests/test_several_bots.py::test_each_bot_counts_its_own_sends",),
           "a bot's counts since start add up every bot's"),
    Mutant("prune-seen-of-any-bot", "cosmobot/storage/prune.py",
           "    mine = SeenImage.bot_id == bot_id\n",
           "    mine = SeenImage.bot_id.is_null(False)\n",
           (_PRUNE,), "a bot's pruning walks and deletes other bots' shuffle bags"),
    Mutant("prune-counts-other-bots-subscriptions", "cosmobot/storage/prune.py",
           "(Subscription.bot_id == bot_id) & Subscription.active & Subscription.chat_id.in_(",
           "Subscription.active & Subscription.chat_id.in_(",
           (_PRUNE,), "a chat subscribed to one bot keeps its idle bag with another"),
    Mutant("prune-other-bots-subscriptions", "cosmobot/storage/prune.py",
           "             .where((Subscription.bot_id == bot_id) & ~Subscription.active",
           "             .where(~Subscription.active",
           (_PRUNE,), "a bot's pruning deletes another bot's stopped subscriptions"),
    Mutant("migration-leaves-rows-unclaimed", "migrations/005_several_bots.py",
           "COUNT(DISTINCT bot_id) = 1 THEN", "COUNT(DISTINCT bot_id) = 0 THEN",
           (f"{_MIGRATION}::test_the_rows_go_to_the_databases_only_bot", *_FROM_BEFORE_E2E),
           "a database's only bot does not get its rows"),
    Mutant("migration-guesses-among-several-bots", "migrations/005_several_bots.py",
           "COUNT(DISTINCT bot_id) = 1 THEN", "COUNT(DISTINCT bot_id) >= 1 THEN",
           (f"{_MIGRATION}::test_rows_of_several_bots_wait_for_the_first_bot_that_starts",),
           "rows of a database with several bots go to one of them"),
    Mutant("no-adoption-at-start", "cosmobot/bot/app.py",
           "    await adoption.adopt_at_start(application.bot.id)\n", "",
           _FROM_BEFORE_E2E, "rows no bot claimed are never served"),
    Mutant("no-adoption-by-warm", "cosmobot/warm_command.py",
           "            await adopt_at_start(bot.id)", "            pass",
           ("tests/test_warm.py::test_warm_run_first_on_a_database_of_before_adopts_its_rows",),
           "`cosmobot warm` run first leaves the unclaimed rows to a later bot"),
    Mutant("adoption-takes-claimed-rows", "cosmobot/storage/adoption.py",
           "(model.bot_id == UNCLAIMED) & ~peewee.fn.EXISTS(clash)",
           "(model.bot_id != bot_id) & ~peewee.fn.EXISTS(clash)",
           (f"{_MIGRATION}::test_rows_of_several_bots_wait_for_the_first_bot_that_starts",),
           "a bot starting takes the rows another bot adopted"),
    Mutant("adoption-cut-short-by-the-query-timeout", "cosmobot/storage/adoption.py",
           'database.execute_sql("SET LOCAL statement_timeout = 0")',
           'database.execute_sql("SELECT 1")',
           (f"{_MIGRATION}::"
            "test_adopting_a_big_databases_rows_is_not_cut_short_by_the_query_timeout",),
           "a big database's rows are never adopted: the bot fails to start"),
    Mutant("adoption-failure-stops-the-bot", "cosmobot/storage/adoption.py",
           "    except peewee.PeeweeException as error:\n        # They wait",
           "    except KeyError as error:\n        # They wait",
           (f"{_MIGRATION}::test_a_bot_starts_even_if_the_database_will_not_let_it_adopt",),
           "a database error while adopting stops the bot from starting"),
    Mutant("adoption-ignores-clashes", "cosmobot/storage/adoption.py",
           "(model.bot_id == UNCLAIMED) & ~peewee.fn.EXISTS(clash)",
           "(model.bot_id == UNCLAIMED)",
           (f"{_MIGRATION}::test_adopting_keeps_the_rows_the_bot_has_already",),
           "adopting a row the bot has already breaks the unique key"),
    Mutant("rollback-keeps-every-bots-rows", "migrations/005_several_bots.py",
           'migrator.sql(f"DELETE FROM {table} WHERE id NOT IN "',
           'migrator.sql(f"SELECT 1 FROM {table} WHERE id NOT IN "',
           (f"{_MIGRATION}::test_rolling_back_keeps_one_row_per_chat_image_and_total",),
           "rolling back leaves rows the older keys cannot hold"),
    Mutant("rollback-loses-totals", "migrations/005_several_bots.py",
           "SELECT name, SUM(value) AS value", "SELECT name, MIN(value) AS value",
           (f"{_MIGRATION}::test_rolling_back_keeps_one_row_per_chat_image_and_total",),
           "rolling back keeps one bot's totals only"),
]
