"""Mutants of what several processes of one bot share: upload claims, pacing, the round's lease,
writes kept through an outage, and migration 006."""

from __future__ import annotations

from tests.mutation.mutant import Mutant

CLAIMS = "cosmobot/storage/uploadclaims.py"
MODELS = "cosmobot/storage/models.py"
DAYBOOK = "cosmobot/schedule/daybook.py"
DAILY = "cosmobot/schedule/daily.py"
WRITES = "cosmobot/storage/writes.py"
OUTAGE = "cosmobot/storage/outage.py"

_CLAIM_TESTS = ("tests/test_uploadclaims.py",)
_RACE = ("tests/test_flight_processes.py::"
         "test_four_processes_racing_for_ten_new_images_upload_each_once",)
_PACING = ("tests/test_shared_pacing.py",)
_KILLED = ("tests/test_daily.py::"
           "test_a_send_cut_off_by_a_kill_counts_as_delivered_once_its_lease_ends")
_RENEWED = ("tests/test_daily.py::"
            "test_a_live_process_keeps_its_marks_leased_however_long_its_send_takes",)
_OWN_MARKS = "tests/test_daily.py::test_renewing_leases_moves_only_this_processes_marks"
_KEPT = ("tests/test_db_writes.py", "tests/test_outage.py")
_LOGGED_ONCE = ("tests/test_outage.py::"
                "test_an_outage_is_logged_once_as_it_starts_and_once_as_it_ends",)
_MIGRATION = ("tests/test_migrations.py",)
LEADERSHIP = "cosmobot/storage/leadership.py"
_RIDE = ("tests/test_leadership.py",)

MUTANTS = [
    Mutant("claim_not_taken", CLAIMS,
           "                if _is_free(claim) and await self._take_in_time():",
           "                if True:",
           _CLAIM_TESTS + _RACE, "processes racing for a new image each upload it"),
    Mutant("claim_not_released_with_the_write", CLAIMS,
           "        self.release_query().execute()\n        self.held = False",
           "        self.held = False",
           _CLAIM_TESTS, "a claim outlives its file_id: other processes wait for its expiry"),
    Mutant("claim_of_a_live_owner_taken", MODELS,
           "where=(cls.expires_at < now) | (cls.owner == owner),",
           "where=None,",
           _CLAIM_TESTS, "a process takes over a live upload's claim and uploads too"),
    Mutant("claim_expiry_compared_the_wrong_way", CLAIMS,
           "return claim is None or claim.expires_at < wall_seconds()",
           "return claim is None or claim.expires_at > wall_seconds()",
           _CLAIM_TESTS, "a dead process's claim blocks the image; a live one's is taken"),
    Mutant("claim_not_renewed", CLAIMS,
           "            with suppress(peewee.PeeweeException):\n"
           "                await in_db_thread(self._renew)",
           "            with suppress(peewee.PeeweeException):\n"
           "                await asyncio.sleep(0)",
           _CLAIM_TESTS, "an upload longer than the claim is raced by another process's"),
    Mutant("pacing_not_shared", "cosmobot/botapi/ratelimit.py",
           "    return LaneRateLimiter(shared=SharedPacing(database_url, bot_id))",
           "    return LaneRateLimiter()",
           _PACING, "webhook workers each pace alone: together they break Telegram's limits"),
    Mutant("pacing_booking_ignores_the_next_moment", MODELS,
           "start = peewee.Case(None, [(cls.next_at > now, cls.next_at)], now)",
           "start = now",
           _PACING, "two workers book the same moment in one chat (429)"),
    Mutant("lease_expiry_compared_the_wrong_way", MODELS,
           "expired = cls.sending_until.is_null() | (cls.sending_until < now)",
           "expired = cls.sending_until.is_null() | (cls.sending_until > now)",
           (_KILLED,), "a live process's marks are settled, a dead one's never"),
    Mutant("lease_of_a_live_owner_taken_over", MODELS,
           "        return cls.in_flight(bot_id).where(expired)",
           "        return cls.in_flight(bot_id)",
           (_KILLED,), "another process's send on its way is counted as delivered"),
    Mutant("lease_not_renewed", DAILY,
           "            await in_db_thread(daybook.renew_leases, bot_id, clock())",
           "            await asyncio.sleep(0)",
           _RENEWED, "a send longer than the lease is settled by the next leader"),
    Mutant("lease_renews_every_owners_marks", DAYBOOK,
           "        (Subscription.bot_id == bot_id) & (Subscription.sending_owner == owner)\n",
           "        (Subscription.bot_id == bot_id)\n",
           (_OWN_MARKS,), "a new leader keeps a killed leader's marks alive for ever"),
    Mutant("pending_write_dropped_in_an_outage", WRITES,
           "    if key is not None:\n        return _queue_kept(write, what, key)",
           "    if False:\n        return _queue_kept(write, what, key)",
           _KEPT, "a file_id uploaded in a long outage is lost: uploaded again after a restart"),
    Mutant("newest_write_of_a_key_not_kept", WRITES,
           "        kept.write, kept.what, kept.version = write, what, kept.version + 1",
           "        kept.what = what",
           _KEPT, "a newer file_id queued in an outage is dropped for the older one"),
    Mutant("outage_logged_per_failure", OUTAGE,
           "            if self.since is not None:\n                return\n",
           "            if self.since is not None:\n                pass\n",
           _LOGGED_ONCE, "an outage floods the log with a warning per query"),
    Mutant("migration_006_rollback_keeps_the_lease", "migrations/006_add_cross_process_tables.py",
           '    migrator.remove_fields("subscriptions", "sending_until")',
           "    pass",
           _MIGRATION, "rolling 006 back leaves its column behind (005's schema is not restored)"),
    Mutant("server_closed_taken_for_silence", "cosmobot/storage/leadersession.py",
           "                                  and SERVER_CLOSED_MARKER in str(error).lower())",
           "                                  and False)",
           _RIDE, "a leader goes silent on every PostgreSQL restart"),
    Mutant("down_proof_does_not_move_the_deadline", LEADERSHIP,
           "held_since = asked if server_down(error) else held_since",
           "held_since = held_since",
           _RIDE, "a leader steps down after 3 s of a server plainly down"),
    Mutant("riding_refusal_ignored", LEADERSHIP,
           "                if held:\n                    self._log_back(riding)",
           "                if held or riding:\n                    self._log_back(riding)",
           _RIDE, "a riding leader polls on beside the standby that took the lock: two pollers"),
    Mutant("riding_timeout_ridden", LEADERSHIP,
           "            except TimeoutError:\n                reason",
           "            except TimeoutError:\n                if riding:\n"
           "                    continue\n                reason",
           _RIDE, "a partitioned riding leader polls on after the server freed its lock"),
    Mutant("grace_rides_a_restart", LEADERSHIP,
           "if self._settled and server_closed(error):",
           "if server_closed(error):",
           _RIDE, "a standby in its grace rides a restart beside the old leader: two pollers"),
]
