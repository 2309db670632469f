"""Sharing PTB's concurrent update slots among chats, so that no chat can take them all.

PTB runs every update as a task that first takes one of `max_concurrent_updates` slots, then
hands it to the update processor. A chat flooding the bot with commands whose replies wait
for the chat's pacing turn (a group gets 20 messages a minute) would hold a slot per command,
and everyone else's updates would queue behind them. So each chat (each user, for updates
without a chat such as inline queries) gets a lane:

- at most `slots_per_chat` of its updates run at a time, each in a slot of its own;
- up to `backlog_per_chat` more wait in the lane without a slot, and run in the order they
  came in the slots the chat already holds;
- anything beyond is dropped at once, with a debug line.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any

from loguru import logger
from telegram import Update
from telegram.ext import BaseUpdateProcessor

# PTB's own number for `concurrent_updates(True)`.
MAX_CONCURRENT_UPDATES = 256
# Enough for an image on its way while the chat's next presses are told so (handlers.another).
SLOTS_PER_CHAT = 4
# With the slots, a minute of a group's replies at Telegram's 20 a minute.
BACKLOG_PER_CHAT = 16

LaneKey = tuple[str, int]


@dataclass
class _Lane:
    running: int = 0
    waiting: deque[tuple[object, Awaitable[Any]]] = field(default_factory=deque)


def lane_key(update: object) -> LaneKey | None:
    """The lane an update joins: its chat's, else its user's; None for neither."""
    if not isinstance(update, Update):
        return None
    if update.effective_chat is not None:
        return ("chat", update.effective_chat.id)
    if update.effective_user is not None:
        return ("user", update.effective_user.id)
    return None


class ChatLaneProcessor(BaseUpdateProcessor):
    """Runs a few updates per chat at a time; a bounded backlog waits, the rest is dropped."""

    def __init__(self, max_concurrent_updates: int = MAX_CONCURRENT_UPDATES,
                 slots_per_chat: int = SLOTS_PER_CHAT,
                 backlog_per_chat: int = BACKLOG_PER_CHAT) -> None:
        super().__init__(max_concurrent_updates)
        if slots_per_chat < 1 or backlog_per_chat < 0:
            raise ValueError("a chat needs at least one slot, and a backlog of 0 or more")
        self.slots_per_chat, self.backlog_per_chat = slots_per_chat, backlog_per_chat
        self._lanes: dict[LaneKey, _Lane] = {}

    @property
    def waiting_updates(self) -> int:
        """How many updates wait in lanes, holding no slot."""
        return sum(len(lane.waiting) for lane in self._lanes.values())

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Drop what still waits (nothing after a clean stop, which runs every update)."""
        for key, lane in list(self._lanes.items()):
            self._close_lane(key, lane)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Run the update in its lane, leave it waiting there without a slot, or drop it."""
        key = lane_key(update)
        if key is None:
            await coroutine
            return
        lane = self._lanes.setdefault(key, _Lane())
        if lane.running >= self.slots_per_chat:
            self._wait_or_drop(key, lane, update, coroutine)
            return  # PTB frees this update's slot: waiting needs none
        lane.running += 1
        try:
            await _run(coroutine)
            # The chat's waiting updates run in the slot it holds anyway, in order.
            while lane.waiting:
                await _run(lane.waiting.popleft()[1])
        finally:
            lane.running -= 1
            if not lane.running:
                self._close_lane(key, lane)

    def _wait_or_drop(self, key: LaneKey, lane: _Lane, update: object,
                      coroutine: Awaitable[Any]) -> None:
        if len(lane.waiting) < self.backlog_per_chat:
            lane.waiting.append((update, coroutine))
            return
        _drop(key, update, coroutine, f"{len(lane.waiting)} of its updates wait already")

    def _close_lane(self, key: LaneKey, lane: _Lane) -> None:
        if self._lanes.get(key) is lane:
            del self._lanes[key]
        # Updates are left waiting only if the lane's last running one was cancelled.
        while lane.waiting:
            update, coroutine = lane.waiting.popleft()
            _drop(key, update, coroutine, "the bot is stopping")


async def _run(coroutine: Awaitable[Any]) -> None:
    """Await one update's processing; its failure must not keep its chat's next ones waiting."""
    try:
        await coroutine
    except Exception as error:  # PTB hands handler errors to the error handlers itself
        logger.opt(exception=error).error("Error while processing an update")


def _drop(key: LaneKey, update: object, coroutine: Awaitable[Any], reason: str) -> None:
    close = getattr(coroutine, "close", None)
    if close is not None:
        close()  # never started: closing it spares a "never awaited" warning
    number = update.update_id if isinstance(update, Update) else "?"
    logger.debug("Update {} of {} {} dropped: {}", number, key[0], key[1], reason)
