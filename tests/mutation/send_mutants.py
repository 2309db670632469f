"""Mutants of what a send goes through: pacing, search, the texts, the delivery of an image."""

from __future__ import annotations

from tests.mutation.mutant import Mutant

RATELIMIT = "cosmobot/botapi/ratelimit.py"
SEARCH = "cosmobot/images/search.py"
ASSETS = "cosmobot/images/assets.py"
LOGS = "cosmobot/logs.py"
APP = "cosmobot/bot/app.py"
TEXTS = "cosmobot/texts.py"
DELIVERY = "cosmobot/delivery.py"
METADATA = "cosmobot/images/metadata.py"
FILES = "cosmobot/images/files.py"
SENDER = "cosmobot/sender.py"
PHOTOSEND = "cosmobot/botapi/photosend.py"
FILEHASH = "cosmobot/filehash.py"
FILECACHE = "cosmobot/storage/filecache.py"

RATELIMIT_TESTS = ("tests/test_ratelimit.py",)
SCHEDULE_TESTS = ("tests/test_ratelimit_schedule.py",)
SEARCH_TESTS = ("tests/test_search.py",)
ASSETS_TESTS = ("tests/test_assets.py", "tests/test_sender.py")
SIDECAR_TESTS = ("tests/test_assets.py",)
HERD_TESTS = ("tests/test_herd.py", "tests/test_sender.py")
TEXTS_TESTS = ("tests/test_texts.py", "tests/test_e2e_language.py", "tests/test_e2e_long_input.py")
DELIVERY_TESTS = ("tests/test_shufflebag.py", "tests/test_e2e_bot.py",
                  "tests/test_e2e_shufflebag.py", "tests/test_e2e_long_input.py",
                  "tests/test_e2e_groups.py", "tests/test_e2e_language.py")

PACING = [
    Mutant("rl_groups_paced_as_private", RATELIMIT,
           "return isinstance(chat, int) and chat > 0",
           "return isinstance(chat, int) and chat < 0",
           RATELIMIT_TESTS, "groups get a message a second (Telegram answers 429)"),
    Mutant("rl_no_reply_priority", RATELIMIT,
           "(urgent or not self._replies_waiting)",
           "True",
           RATELIMIT_TESTS, "a user's reply waits behind the daily round's sends"),
    Mutant("rl_give_back_overtaken", RATELIMIT,
           "if self._chat_next.get(turn.chat) == turn.next_free:",
           "if True:",
           RATELIMIT_TESTS, "a cancelled send frees a turn a later message already holds"),
    Mutant("rl_retry_after_ignored", RATELIMIT,
           "        self._chat_next[chat] = max(self._chat_next.get(chat, 0.0), until)",
           "        pass",
           RATELIMIT_TESTS, "after a 429 the chat's next messages do not wait retry_after"),
    Mutant("rl_chat_action_paced", RATELIMIT,
           'UNLIMITED = frozenset({"sendChatAction", ',
           "UNLIMITED = frozenset({",
           RATELIMIT_TESTS, "'uploading photo' takes the chat's turn: the photo waits a second"),
    Mutant("rl_cancel_keeps_turn", RATELIMIT,
           "            if turn is not None:\n                self._give_back(turn)\n",
           "",
           RATELIMIT_TESTS, "a cancelled send delays the chat's next message"),
    Mutant("rl_forget_busy_chats", RATELIMIT,
           "self._chat_next = {c: t for c, t in self._chat_next.items() if t > now}",
           "self._chat_next = {}",
           RATELIMIT_TESTS, "past 10,000 chats, chats still waiting lose their pacing"),
    Mutant("rl_lateness_pushes_schedule_back", RATELIMIT,
           "max(self._next_slot + self._interval,",
           "max(now + self._interval,",
           SCHEDULE_TESTS, "every message woken late delays all later ones: a round loses 5%"),
    Mutant("rl_no_window", RATELIMIT,
           "return max(self._next_slot, self._recent[0] + OVERALL_WINDOW_COUNT * self._interval)",
           "return self._next_slot",
           SCHEDULE_TESTS, "catching up puts 31 messages in Telegram's one-second window"),
    Mutant("rl_catch_up_in_a_burst", RATELIMIT,
           "now + CATCH_UP_SPACING * self._interval)",
           "now)",
           SCHEDULE_TESTS, "messages woken late go out back to back"),
    Mutant("dv_bulk_lane_dropped", DELIVERY,
           "        message_thread_id=thread_id,\n        **send_options,\n    )",
           "        message_thread_id=thread_id,\n    )",
           ("tests/test_daily.py", "tests/test_e2e_daily.py"),
           "the daily round's sends go in the replies' lane"),
]

SEARCH_MUTANTS = [
    Mutant("se_any_word", SEARCH,
           "found = keys if found is None else found & keys",
           "found = keys if found is None else found | keys",
           SEARCH_TESTS, "/cosmic crab nebula sends any nebula"),
    Mutant("se_substring", SEARCH,
           "            if not word.startswith(part):\n                break\n",
           "            if part not in word:\n                continue\n",
           SEARCH_TESTS, "/cosmic ula finds every nebula"),
    Mutant("se_first_word_only", SEARCH,
           "            if not word.startswith(part):\n                break\n"
           "            keys |= self._keys_of[word]\n",
           "            if word.startswith(part):\n                keys |= self._keys_of[word]\n"
           "            break\n",
           SEARCH_TESTS, "/cosmic neb finds the nebula titled 'Neb' but no other"),
    Mutant("se_index_never_rebuilt", SEARCH,
           "if built is None or built[0] != library.generation:",
           "if built is None:",
           SEARCH_TESTS, "images added while the bot runs are never found by title"),
    Mutant("se_discarded_found", SEARCH,
           "return sorted(key for key in index_of(library).matching(parts) if library.get(key))",
           "return sorted(index_of(library).matching(parts))",
           SEARCH_TESTS, "a search offers an image found bad since the scan"),
    Mutant("se_yo_distinct", SEARCH,
           '.casefold().replace("ё", "е")',
           ".casefold()",
           SEARCH_TESTS, "Туманность Орел does not find Орёл"),
    Mutant("se_no_nfkc", SEARCH,
           'unicodedata.normalize("NFKC", text).casefold()',
           "text.casefold()",
           SEARCH_TESTS, "full-width ＮＧＣ finds nothing"),
    Mutant("se_english_only", SEARCH,
           'SEARCH_LANGUAGES = ("en", "ru")',
           'SEARCH_LANGUAGES = ("en",)',
           SEARCH_TESTS, "Russian titles are not searched"),
]

ASSETS_MUTANTS = [
    Mutant("as_symlink_since_scan_followed", ASSETS,
           "        if asset is not None and files.is_regular_file(asset.real):\n",
           "        if asset is not None:\n",
           ASSETS_TESTS, "a file swapped for a symlink out of cosmic/ after the scan is sent"),
    Mutant("as_header_check_never_run", APP,
           "    application.job_queue.run_once(jobs.check_image_headers, when=0, "
           "name=jobs.HEADERS_JOB)\n",
           "",
           ("tests/test_e2e_bot.py",), "a bad image nobody asked for stays listed until a rescan"),
    Mutant("as_header_check_drops_a_fixed_file", ASSETS,
           "                if self._assets.get(asset.key) is asset:  # not rescanned meanwhile\n",
           "                if True:  # not rescanned meanwhile\n",
           ASSETS_TESTS, "a file fixed while its old header was checked is skipped anyway"),
    Mutant("as_header_check_undoes_a_rescan", ASSETS,
           "checked[1] if checked is not None and checked[0] is current else current",
           "checked[1] if checked is not None else current",
           ASSETS_TESTS, "a header check puts back the old facts of a file rescanned meanwhile"),
    Mutant("as_rescan_reads_every_header", ASSETS,
           '            return earlier, ""  # unchanged since the last scan: '
           'its header was read then\n',
           "            pass\n",
           ASSETS_TESTS, "every rescan opens all 100,000 images again"),
    Mutant("lg_every_record_built", LOGS,
           "level=logger.level(level).no",
           "level=0",
           ("tests/test_logs.py",), "every library's debug record is built, then dropped"),
]

TEXTS_MUTANTS = [
    Mutant("tx_ru_region_english", TEXTS,
           "code.lower().startswith(RUSSIAN)",
           "code.lower() == RUSSIAN",
           TEXTS_TESTS, "a ru-RU user gets English"),
    Mutant("tx_caption_newline_not_counted", TEXTS,
           "room = CAPTION_LIMIT - telegram_length(credit) - (1 if credit else 0)",
           "room = CAPTION_LIMIT - telegram_length(credit)",
           TEXTS_TESTS, "a long title makes a 1,025-character caption Telegram refuses"),
    Mutant("tx_counts_code_points", TEXTS,
           'return len(value.encode("utf-16-le")) // 2',
           "return len(value)",
           TEXTS_TESTS, "a caption full of emoji passes the check and is refused"),
    Mutant("tx_exact_limit_cut", TEXTS,
           "if telegram_length(value) <= limit:",
           "if telegram_length(value) < limit:",
           TEXTS_TESTS, "a text exactly at the limit loses its end"),
    Mutant("tx_long_text_not_shortened", TEXTS,
           "return shorten(template.format(**values), MESSAGE_LIMIT) if values else template",
           "return template.format(**values) if values else template",
           TEXTS_TESTS, "a reply built from long input exceeds 4,096 characters"),
]

DELIVERY_MUTANTS = [
    Mutant("dv_query_echoed_whole", DELIVERY,
           "query=shorten(query, ECHO_LIMIT)",
           "query=query",
           DELIVERY_TESTS, "a long /cosmic query is echoed in full"),
    Mutant("dv_unsent_image_not_given_back", DELIVERY,
           "        shufflebag.settle(pick, shown)",
           "        shufflebag.settle(pick, True)",
           DELIVERY_TESTS, "an image whose send failed counts as seen: the chat never gets it"),
    Mutant("dv_button_in_english", DELIVERY,
           "reply_markup=cosmic_button(language),",
           'reply_markup=cosmic_button("en"),',
           DELIVERY_TESTS, "a Russian user's button says 'Another one'"),
    Mutant("dv_no_match_outside_topic", DELIVERY,
           "chat_id, _no_match(language, query), message_thread_id=thread_id))",
           "chat_id, _no_match(language, query)))",
           DELIVERY_TESTS, "in a forum the no-match reply goes to General"),
]

SCAN_MUTANTS = [
    Mutant("sc_sidecar_cached_whatever_its_version", METADATA,
           "entries = cached[1] if cached and cached[0] == version else _read(path)",
           "entries = cached[1] if cached else _read(path)",
           SIDECAR_TESTS, "titles edited while the bot runs are never read"),
    Mutant("sc_sidecar_read_every_rescan", METADATA,
           "entries = cached[1] if cached and cached[0] == version else _read(path)",
           "entries = _read(path)",
           SIDECAR_TESTS, "every rescan parses every sidecar again, and warns again"),
    Mutant("sc_credit_kept_per_image", METADATA,
           "fields = {name: shared.setdefault(value, value) for name",
           "fields = {name: value for name",
           SIDECAR_TESTS, "100,000 images sharing a credit keep 100,000 copies of it"),
    Mutant("sc_symlinked_folder_entered", FILES,
           "            if not entry.is_symlink():  # a symlinked folder is not entered\n",
           "            if True:  # a symlinked folder is not entered\n",
           ASSETS_TESTS, "a symlinked folder below cosmic/ is walked, its images listed"),
    Mutant("sc_hidden_files_walked", FILES,
           '        if entry.name.startswith("."):\n            continue\n',
           "",
           ASSETS_TESTS, "thumbnails in .thumbnails/ and .hidden files are listed or warned of"),
    Mutant("sc_quick_key_check_lets_dotdot_through", ASSETS,
           'and "." not in parts and ".." not in parts:',
           'and "." not in parts:',
           ASSETS_TESTS, "a key with .. passes the quick check"),
    Mutant("sc_signature_without_mtime", FILES,
           'entry = f"{name}\\0{version[0]}\\0{version[1]}\\0"',
           'entry = f"{name}\\0{version[0]}\\0"',
           ASSETS_TESTS, "an image replaced by one of the same size is never rescanned"),
]

HERD_MUTANTS = [
    Mutant("hd_every_waiter_shows_the_action_at_once", SENDER,
           "WAITER_ACTION_DELAY_SECONDS = 1.0",
           "WAITER_ACTION_DELAY_SECONDS = 0.0",
           HERD_TESTS, "a herd of 100 makes 100 chat actions as its photos go out"),
    Mutant("hd_uploader_shows_no_action", SENDER,
           "    send.show_uploading()\n",
           "",
           HERD_TESTS, "the user whose request uploads sees no 'sending a photo...'"),
    Mutant("hd_waiting_action_not_cancelled", SENDER,
           "        waiting.cancel()\n",
           "        pass\n",
           HERD_TESTS, "'sending a photo...' shows after the photo arrived"),
    Mutant("hd_action_shown_twice", PHOTOSEND,
           "if self.chat_action and not self._action_shown:",
           "if self.chat_action:",
           ("tests/test_herd.py",), "a waiter that ends up uploading shows the action twice"),
    Mutant("hd_file_hashed_per_waiter", FILEHASH,
           "    hashing = _hashing.get(path)\n",
           "    hashing = None\n",
           HERD_TESTS, "a herd of 100 reads and hashes the file 100 times"),
    Mutant("hd_hash_not_shielded", FILEHASH,
           "    return await asyncio.shield(hashing)\n",
           "    return await hashing\n",
           HERD_TESTS, "a send given up on cancels the hash everyone else waits for"),
    Mutant("hd_row_read_per_waiter", FILECACHE,
           "    reading = _reading.get(key)\n",
           "    reading = None\n",
           HERD_TESTS, "a herd of 100 makes 100 database reads before the upload can start"),
    Mutant("hd_sends_in_flight_uncapped", PHOTOSEND,
           "        async with _slot(self.bot):\n",
           "        async with nullcontext():\n",
           HERD_TESTS, "a bare bot has 100 sends in flight: slower than 20 at a time"),
    Mutant("hd_paced_bot_capped_too", PHOTOSEND,
           'if getattr(bot, "rate_limiter", None) is not None:',
           "if False:",
           HERD_TESTS, "a send waiting for its chat's turn in the limiter holds up other chats"),
]

MUTANTS = [*PACING, *SEARCH_MUTANTS, *ASSETS_MUTANTS, *SCAN_MUTANTS, *HERD_MUTANTS,
           *TEXTS_MUTANTS, *DELIVERY_MUTANTS]
