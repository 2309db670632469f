"""Sharing PTB's update slots among chats: a few running per chat, a bounded backlog, drops."""

from __future__ import annotations

import asyncio
import datetime as dt
import inspect

import pytest
from telegram import Chat, InlineQuery, Message, Update, User

from cosmobot.bot.app import build_application
from cosmobot.bot.chatlanes import MAX_CONCURRENT_UPDATES, ChatLaneProcessor, lane_key
from tests.botrunner import bot_settings

GROUP, OTHER_GROUP, ALICE, BORIS = -1001, -1002, 7, 8
SENT = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)


def message(update_id: int, chat_id: int, user_id: int) -> Update:
    chat = Chat(chat_id, Chat.PRIVATE if chat_id > 0 else Chat.SUPERGROUP)
    user = User(user_id, "Ada", False)
    return Update(update_id, message=Message(update_id, SENT, chat, from_user=user, text="/help"))


def inline(update_id: int, user_id: int) -> Update:
    query = InlineQuery(str(update_id), User(user_id, "Ada", False), "neb", "")
    return Update(update_id, inline_query=query)


class Work:
    """Stands in for PTB's processing of updates: records what started and what finished."""

    def __init__(self) -> None:
        self.started: list[object] = []
        self.done: list[object] = []
        self.gate = asyncio.Event()  # gated work waits for it

    async def run(self, name: object, gated: bool = True, fail: bool = False) -> None:
        self.started.append(name)
        if gated:
            await self.gate.wait()
        if fail:
            raise RuntimeError(f"{name} failed")
        self.done.append(name)


def submit(processor: ChatLaneProcessor, update: object, coroutine) -> asyncio.Task:
    """Hand an update to the processor the way PTB's update fetcher does."""
    return asyncio.create_task(processor.process_update(update, coroutine))


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


def dropped(lines: list[str]) -> list[str]:
    return [line for line in lines if line.startswith("DEBUG") and "dropped" in line]


@pytest.mark.asyncio
async def test_a_flooding_chat_runs_a_few_keeps_a_bounded_backlog_and_drops_the_rest(log_lines):
    processor, work = ChatLaneProcessor(16, slots_per_chat=2, backlog_per_chat=3), Work()
    coroutines = [work.run(n) for n in range(8)]
    # Several members of one group: one chat, one lane.
    tasks = [submit(processor, message(n, GROUP, 100 + n % 3), coroutine)
             for n, coroutine in enumerate(coroutines)]
    await settle()
    assert work.started == [0, 1]
    assert processor.waiting_updates == 3
    assert processor.current_concurrent_updates == 2  # the waiting ones hold no slot
    assert all(task.done() for task in tasks[2:])  # PTB got their slots back at once
    assert [inspect.getcoroutinestate(c) for c in coroutines[5:]] == [inspect.CORO_CLOSED] * 3
    assert len(dropped(log_lines)) == 3
    assert "Update 5 of chat -1001 dropped" in dropped(log_lines)[0]
    work.gate.set()
    await asyncio.gather(*tasks)
    assert work.started == [0, 1, 2, 3, 4]  # the backlog ran in the order it came
    assert sorted(work.done) == [0, 1, 2, 3, 4]
    assert processor.current_concurrent_updates == 0 and processor.waiting_updates == 0
    assert not processor._lanes  # nothing kept for a chat that is quiet again


@pytest.mark.asyncio
async def test_a_chats_waiting_updates_never_keep_another_chats_update_waiting():
    processor, work = ChatLaneProcessor(4, slots_per_chat=2, backlog_per_chat=10), Work()
    flood = [submit(processor, message(n, GROUP, ALICE), work.run(n)) for n in range(12)]
    other = submit(processor, message(99, OTHER_GROUP, BORIS), work.run("other", gated=False))
    await settle()
    # Only 4 slots in all, and 12 of the first chat's updates came first.
    assert other.done() and work.done == ["other"]
    assert processor.current_concurrent_updates == 2
    work.gate.set()
    await asyncio.gather(*flood, other)
    assert len(work.done) == 13
    assert processor.current_concurrent_updates == 0


@pytest.mark.asyncio
async def test_a_chat_takes_its_slots_again_once_it_is_quiet(log_lines):
    processor, work = ChatLaneProcessor(8, slots_per_chat=1, backlog_per_chat=1), Work()
    work.gate.set()
    for round_ in range(3):
        tasks = [submit(processor, message(n, GROUP, ALICE), work.run((round_, n)))
                 for n in range(2)]
        await asyncio.gather(*tasks)
    assert len(work.done) == 6 and not dropped(log_lines)


@pytest.mark.asyncio
async def test_a_failing_update_is_logged_and_its_chats_next_ones_still_run(log_lines):
    processor, work = ChatLaneProcessor(8, slots_per_chat=1, backlog_per_chat=5), Work()
    tasks = [submit(processor, message(1, GROUP, ALICE), work.run("first")),
             submit(processor, message(2, GROUP, ALICE), work.run("broken", fail=True)),
             submit(processor, message(3, GROUP, ALICE), work.run("last"))]
    await settle()
    work.gate.set()
    await asyncio.gather(*tasks)
    assert work.done == ["first", "last"]
    assert any(line.startswith("ERROR Error while processing an update") for line in log_lines)


@pytest.mark.asyncio
async def test_updates_left_waiting_by_a_cancelled_one_are_closed_not_lost_in_memory(log_lines):
    processor, work = ChatLaneProcessor(8, slots_per_chat=1, backlog_per_chat=5), Work()
    running = submit(processor, message(1, GROUP, ALICE), work.run(1))
    waiting = [work.run(n) for n in (2, 3)]
    for n, coroutine in zip((2, 3), waiting):
        submit(processor, message(n, GROUP, ALICE), coroutine)
    await settle()
    running.cancel()
    await settle()
    assert [inspect.getcoroutinestate(c) for c in waiting] == [inspect.CORO_CLOSED] * 2
    assert len(dropped(log_lines)) == 2 and processor.waiting_updates == 0


@pytest.mark.asyncio
async def test_shutdown_closes_what_still_waits():
    processor, work = ChatLaneProcessor(8, slots_per_chat=1, backlog_per_chat=5), Work()
    running = submit(processor, message(1, GROUP, ALICE), work.run(1))
    waiting = work.run(2)
    submit(processor, message(2, GROUP, ALICE), waiting)
    await settle()
    await processor.shutdown()
    assert inspect.getcoroutinestate(waiting) == inspect.CORO_CLOSED
    work.gate.set()
    await running  # the one still running finishes without tripping over its closed lane
    assert work.done == [1]


def test_updates_are_keyed_by_chat_else_by_user():
    assert lane_key(message(1, GROUP, ALICE)) == lane_key(message(2, GROUP, BORIS))
    assert lane_key(message(1, ALICE, ALICE)) == ("chat", ALICE)
    assert lane_key(inline(3, ALICE)) == ("user", ALICE)  # inline queries have no chat
    assert lane_key(Update(4)) is None
    assert lane_key(object()) is None


@pytest.mark.asyncio
async def test_updates_of_no_chat_and_no_user_run_as_they_come():
    processor, work = ChatLaneProcessor(8, slots_per_chat=1, backlog_per_chat=0), Work()
    work.gate.set()
    await asyncio.gather(*(submit(processor, object(), work.run(n)) for n in range(3)))
    assert work.done == [0, 1, 2]


@pytest.mark.parametrize(("slots", "backlog"), [(0, 5), (1, -1)])
def test_a_lane_without_a_slot_or_with_a_negative_backlog_is_refused(slots, backlog):
    with pytest.raises(ValueError):
        ChatLaneProcessor(8, slots_per_chat=slots, backlog_per_chat=backlog)


def test_the_bot_shares_its_update_slots_among_chats(tmp_path, fake_api):
    application = build_application(bot_settings(tmp_path, fake_api, tmp_path))
    assert isinstance(application.update_processor, ChatLaneProcessor)
    assert application.update_processor.max_concurrent_updates == MAX_CONCURRENT_UPDATES
