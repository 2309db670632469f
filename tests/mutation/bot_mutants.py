"""Mutants of what handles updates: inline mode, /stats, the group checks, the chat lanes."""

from __future__ import annotations

from tests.mutation.mutant import Mutant

INLINE = "cosmobot/bot/inline.py"
STATS = "cosmobot/bot/stats.py"
DAILY_HANDLERS = "cosmobot/bot/daily_handlers.py"
CHATLANES = "cosmobot/bot/chatlanes.py"
DAILY = "cosmobot/schedule/daily.py"
DAYBOOK = "cosmobot/schedule/daybook.py"
SUBSCRIPTIONS = "cosmobot/schedule/subscriptions.py"
JOBS = "cosmobot/schedule/jobs.py"

INLINE_TESTS = ("tests/test_e2e_inline.py", "tests/test_e2e_inline_paging.py")
INLINE_UNIT_TESTS = ("tests/test_inline.py",)
STATS_TESTS = ("tests/test_daily.py", "tests/test_e2e_stats.py")
GROUP_TESTS = ("tests/test_daily.py", "tests/test_e2e_groups.py", "tests/test_e2e_daily.py")
CHATLANES_TESTS = ("tests/test_chatlanes.py", "tests/test_e2e_flood.py")

INLINE_MODE = [
    Mutant("in_empty_last_page", INLINE,
           "more = start + PAGE_SIZE < len(cached)",
           "more = start + PAGE_SIZE <= len(cached)",
           INLINE_TESTS, "exactly 50 cached images offer an empty next page"),
    Mutant("in_made_up_offset", INLINE,
           " and int(offset) % PAGE_SIZE == 0",
           "",
           INLINE_TESTS, "a made-up offset 7 answers a page starting at the 8th image"),
    Mutant("in_personal_pick_shared", INLINE,
           "is_personal=not query.strip()",
           "is_personal=False",
           INLINE_TESTS, "one user's selection of the day is cached for everyone"),
    Mutant("in_no_match_when_uncached", INLINE,
           "button = _button(language, bool(keys)) if not page else None",
           "button = _button(language, bool(page)) if not page else None",
           INLINE_TESTS, "matches not cached yet are told 'Nothing found'"),
    Mutant("in_never_warms", INLINE,
           "        warmer.start(bot)  # the missing ones",
           "        pass  # the missing ones",
           INLINE_TESTS, "an inline query never starts the warm-up of what it lacks"),
    Mutant("in_checks_every_match", INLINE,
           "        page_keys = cached[start:start + PAGE_SIZE]\n",
           "        page_keys = cached[start:]\n",
           INLINE_UNIT_TESTS, "each inline query checks every cached match, not only its page"),
    Mutant("in_stale_row_not_warmed", INLINE,
           "if (len(cached) < len(keys) or len(page) < len(page_keys)) and warmer is not None:",
           "if len(cached) < len(keys) and warmer is not None:",
           INLINE_UNIT_TESTS, "a replaced image stays out of inline answers until it is sent"),
    Mutant("in_daily_stride_shares_a_factor", INLINE,
           "[n for n in _STRIDES if math.gcd(n, count) == 1]",
           "list(_STRIDES)",
           INLINE_UNIT_TESTS, "an empty query's pages repeat some images and never show others"),
    Mutant("in_unknown_keys_not_read", INLINE,
           "        known = filecache.keys_in_memory(bot.id)\n    return",
           "    return",
           INLINE_TESTS, "after a restart inline mode offers nothing until images are sent"),
    Mutant("in_same_pick_every_day", INLINE,
           'random.Random(f"{user_id}:{utcnow().date().isoformat()}")',
           'random.Random(f"{user_id}")',
           INLINE_TESTS, "@bot alone shows the same selection every day"),
    Mutant("in_english_caption", INLINE,
           "caption=caption(meta, language)",
           'caption=caption(meta, "en")',
           INLINE_TESTS, "a Russian user shares a photo captioned in English"),
]

STATS_MUTANTS = [
    Mutant("st_cached_swapped", STATS,
           'text(language, "stats_cached", count=cached, total=len(keys))',
           'text(language, "stats_cached", count=len(keys), total=cached)',
           STATS_TESTS, "/stats swaps cached and installed images"),
    Mutant("st_done_in_utc", DAYBOOK,
           "done += count if day == localtime.local_date(now, zone) else 0",
           "done += count if day == localtime.local_date(now, localtime.UTC) else 0",
           STATS_TESTS, "/stats counts today's images by the UTC date"),
    Mutant("st_done_misses_west", DAYBOOK,
           "(Subscription.delivered_on >= now.date() - ONE_DAY)",
           "(Subscription.delivered_on >= now.date())",
           STATS_TESTS, "/stats leaves out chats west of UTC still on yesterday's date"),
    Mutant("st_active_inactive_swapped", DAYBOOK,
           "SubscriberCounts(by_state.get(True, 0), by_state.get(False, 0), set_aside)",
           "SubscriberCounts(by_state.get(False, 0), by_state.get(True, 0), set_aside)",
           STATS_TESTS, "/stats swaps active and inactive subscribers"),
    Mutant("st_set_aside_counts_stopped", DAYBOOK,
           "Subscription.active & Subscription.set_aside.is_null(False))",
           "Subscription.set_aside.is_null(False))",
           STATS_TESTS, "/stats counts stopped subscriptions as set aside"),
    Mutant("st_failures_not_added", DAILY,
           "(today, count + 1 if date == today else 1)",
           "(today, 1)",
           STATS_TESTS, "/stats says 1 failed try however many there were"),
    Mutant("st_next_round_unknown", JOBS,
           "daily.next_round_at = context.job.next_t",
           "daily.next_round_at = None",
           STATS_TESTS, "/stats never says when the next round runs"),
]

GROUP_CHECKS = [
    Mutant("gc_owner_refused", DAILY_HANDLERS,
           "MANAGERS = (ChatMember.OWNER, ChatMember.ADMINISTRATOR)",
           "MANAGERS = (ChatMember.ADMINISTRATOR,)",
           GROUP_TESTS, "a group's creator may not change its daily image"),
    Mutant("gc_any_sender_chat", DAILY_HANDLERS,
           "if message.sender_chat is not None and message.sender_chat.id == chat.id:",
           "if message.sender_chat is not None:",
           GROUP_TESTS, "anyone writing as their own channel passes for an administrator"),
    Mutant("gc_supergroup_unchecked", DAILY_HANDLERS,
           "if chat.type not in (ChatType.GROUP, ChatType.SUPERGROUP):",
           "if chat.type != ChatType.GROUP:",
           GROUP_TESTS, "any member of a supergroup may change or stop its daily image"),
    Mutant("gc_daily_no_admin_check", SUBSCRIPTIONS,
           "    if not await chat.may_manage():\n"
           '        return text(chat.language, "admins_only")\n'
           "    at = request.at",
           "    at = request.at",
           GROUP_TESTS, "any group member may subscribe or change the time"),
    Mutant("gc_stop_no_admin_check", SUBSCRIPTIONS,
           "    if not await chat.may_manage():\n"
           '        return text(chat.language, "admins_only")\n'
           "    await in_db_thread(unsubscribe",
           "    await in_db_thread(unsubscribe",
           GROUP_TESTS, "any group member may stop the daily image"),
    Mutant("gc_migration_update_ignored", DAILY_HANDLERS,
           "if message.migrate_to_chat_id:",
           "if message.migrate_from_chat_id:",
           GROUP_TESTS, "a new supergroup's /status says it has no daily image"),
    Mutant("gc_migration_forgets_seen", SUBSCRIPTIONS,
           "                ShuffleBag.update(chat_id=new_chat_id).where(\n"
           "                    ShuffleBag.of_chat(bot_id, old_chat_id)).execute()",
           "                pass",
           GROUP_TESTS, "a group that becomes a supergroup starts its round again: repeats"),
    Mutant("gc_round_sends_to_old_group", DAILY,
           "    await deliver_cosmic(bot, new_chat_id, row.language,",
           "    await deliver_cosmic(bot, row.chat_id, row.language,",
           GROUP_TESTS, "the image for a group now a supergroup is sent to the old group"),
    Mutant("gc_round_does_not_move_row", DAYBOOK,
           "    move_chat(bot_id, old_chat_id, new_chat_id)\n    row =",
           "    row =",
           GROUP_TESTS, "a group that became a supergroup mid-round loses the day's image"),
]

CHAT_LANES = [
    Mutant("cl_backlog_off_by_one", CHATLANES,
           "if len(lane.waiting) < self.backlog_per_chat:",
           "if len(lane.waiting) <= self.backlog_per_chat:",
           CHATLANES_TESTS, "a chat keeps 17 updates waiting, not 16"),
    Mutant("cl_slots_off_by_one", CHATLANES,
           "if lane.running >= self.slots_per_chat:",
           "if lane.running > self.slots_per_chat:",
           CHATLANES_TESTS, "a chat takes 5 update slots, not 4"),
    Mutant("cl_backlog_reversed", CHATLANES,
           "await _run(lane.waiting.popleft()[1])",
           "await _run(lane.waiting.pop()[1])",
           CHATLANES_TESTS, "a chat's waiting commands are answered newest first"),
    Mutant("cl_lane_per_user", CHATLANES,
           '    if update.effective_chat is not None:\n'
           '        return ("chat", update.effective_chat.id)\n'
           '    if update.effective_user is not None:\n'
           '        return ("user", update.effective_user.id)\n',
           '    if update.effective_user is not None:\n'
           '        return ("user", update.effective_user.id)\n'
           '    if update.effective_chat is not None:\n'
           '        return ("chat", update.effective_chat.id)\n',
           CHATLANES_TESTS, "a group's members flooding together take every slot"),
]

MUTANTS = [*INLINE_MODE, *STATS_MUTANTS, *GROUP_CHECKS, *CHAT_LANES]
