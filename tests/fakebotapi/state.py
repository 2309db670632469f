"""What Telegram knows: the bots, the chats, the messages sent and the photo file_ids minted."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from typing import Any

from tests.fakebotapi.errors import GROUP_UPGRADED, NOT_MODIFIED, WRONG_FILE_ID, ApiError

MessageKey = tuple[str, int, int]  # (bot token, chat id, message id)


def bot_id(token: str) -> int:
    """The bot's user id: the number before the colon of its token."""
    number, sep, secret = token.partition(":")
    if not (number.isdigit() and sep and secret):
        raise ValueError(f"not a bot token: {token!r}")
    return int(number)


class TelegramState:
    """Telegram's side of the conversation, shared by handlers and tests on any thread."""

    def __init__(self, tokens: list[str], usernames: Iterable[str] | None,
                 strict_chats: bool) -> None:
        names = list(usernames or ["cosmo_test_bot"] + [
            f"cosmo_test{i}_bot" for i in range(2, len(tokens) + 1)])
        self.bots = {token: {"id": bot_id(token), "is_bot": True, "first_name": "Cosmo Test",
                             "username": name} for token, name in zip(tokens, names)}
        self.strict_chats = strict_chats  # True: unknown chats get 400 "chat not found"
        self._default_token = tokens[0]
        self._lock = threading.Lock()
        self._chats: dict[int, str] = {}  # chat id -> the user's first name
        self._groups: dict[int, dict] = {}  # group chat id -> its Chat
        self._topics: set[tuple[int, int]] = set()  # (forum chat id, message_thread_id)
        self._blocked: set[int] = set()
        self._members: dict[tuple[int, int], str] = {}  # (group, user) -> status, if not member
        self._upgraded: dict[int, int] = {}  # group chat id -> the supergroup it became
        self._messages: dict[MessageKey, dict] = {}
        self._alive: dict[tuple[int, int], dict] = {}  # (chat id, message id) -> not deleted
        self._last_message_id: dict[int, int] = {}
        self._files: dict[str, tuple[str, list[dict]]] = {}  # file_id -> (owner token, sizes)
        self._revoked: set[str] = set()
        self._commands: dict[tuple[str, str], list] = {}

    def token(self, token: str | None) -> str:
        """The given bot token, or the first one; refuses tokens of no bot."""
        token = token or self._default_token
        if token not in self.bots:
            raise ValueError(f"unknown bot token {token!r}")
        return token

    # ---- chats -------------------------------------------------------------------------------

    def add_chat(self, chat_id: int, first_name: str | None = None) -> None:
        """Mark a chat as known, keeping its first name unless a new one is given."""
        with self._lock:
            self._chats[chat_id] = first_name or self._chats.get(chat_id, "Ada")

    def add_group(self, chat_id: int, title: str, forum: bool, kind: str = "supergroup") -> None:
        """Make a group of `kind` (a forum if `forum`) that the bot is a member of."""
        chat = {"id": chat_id, "type": kind, "title": title}
        with self._lock:
            self._groups[chat_id] = {**chat, "is_forum": True} if forum else chat

    def add_topic(self, chat_id: int, thread_id: int) -> None:
        """Open a forum topic; refuses chats that are no forum, as Telegram would."""
        with self._lock:
            if not self._groups.get(chat_id, {}).get("is_forum"):
                raise ValueError(f"chat {chat_id} is not a forum: add_group(..., forum=True)")
            self._topics.add((chat_id, thread_id))

    def delete_message(self, chat_id: int, message_id: int) -> None:
        """Delete a message, as its author or an admin would."""
        with self._lock:
            self._alive.pop((chat_id, message_id), None)

    def block(self, chat_id: int) -> None:
        """Make the user of `chat_id` block the bot."""
        with self._lock:
            self._blocked.add(chat_id)

    def set_member_status(self, chat_id: int, user_id: int, status: str) -> None:
        """Give a user a status in a group: "creator", "administrator", "member", "left"..."""
        with self._lock:
            self._members[(chat_id, user_id)] = status

    def member_status(self, chat_id: int, user_id: int) -> str:
        """A user's status in a chat; everyone is a plain member unless told otherwise."""
        with self._lock:
            return self._members.get((chat_id, user_id), "member")

    def upgrade_group(self, chat_id: int, new_chat_id: int) -> dict:
        """Turn a group into a supergroup with a new id; returns the supergroup's Chat."""
        with self._lock:
            old = self._groups[chat_id]
            self._groups[new_chat_id] = {**old, "id": new_chat_id, "type": "supergroup"}
            self._upgraded[chat_id] = new_chat_id
            self._members.update({(new_chat_id, user): status for (group, user), status
                                  in list(self._members.items()) if group == chat_id})
            return self._groups[new_chat_id]

    def checked_chat(self, params: dict) -> int:
        """The chat_id of a request, if the bot may write there; else Telegram's error."""
        chat_id = params.get("chat_id")
        if chat_id in (None, ""):
            raise ApiError(400, "Bad Request: chat_id is empty")
        with self._lock:
            known = chat_id in self._chats or chat_id in self._groups
            blocked = chat_id in self._blocked
            upgraded_to = self._upgraded.get(chat_id)
        if not isinstance(chat_id, int) or (self.strict_chats and not known):
            raise ApiError(400, "Bad Request: chat not found")
        if blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        if upgraded_to is not None:
            raise ApiError(400, GROUP_UPGRADED, migrate_to_chat_id=upgraded_to)
        return chat_id

    def user(self, chat_id: int, language_code: str | None) -> dict:
        """The User behind a private chat; Telegram leaves out a language it does not know."""
        with self._lock:
            first_name = self._chats.get(chat_id, "Ada")
        user = {"id": chat_id, "is_bot": False, "first_name": first_name}
        return {**user, "language_code": language_code} if language_code else user

    # ---- messages ----------------------------------------------------------------------------

    def new_message(self, chat_id: int, sender: dict, content: dict,
                    message_id: int | None = None) -> dict:
        """A Message in a private chat or group; ids count up per chat, as in Telegram."""
        with self._lock:
            if message_id is None:
                message_id = self._last_message_id.get(chat_id, 0) + 1
            self._last_message_id[chat_id] = max(message_id, self._last_message_id.get(chat_id, 0))
            chat = self._groups.get(chat_id) or {
                "id": chat_id, "type": "private", "first_name": self._chats.get(chat_id, "Ada")}
            message = {"message_id": message_id, "from": sender, "date": int(time.time()),
                       "chat": chat, **content}
            self._alive[(chat_id, message_id)] = message
        return message

    def placement(self, chat_id: int, params: dict) -> dict:
        """Where a sent message goes: its topic and the message it replies to, like Telegram."""
        placed = self._topic(chat_id, params.get("message_thread_id"))
        reply = params.get("reply_parameters") or {}
        if not isinstance(reply, dict):
            raise ApiError(400, "Bad Request: can't parse reply parameters JSON object")
        replied = reply.get("message_id", params.get("reply_to_message_id"))
        allow = reply.get("allow_sending_without_reply",
                          params.get("allow_sending_without_reply")) in (True, "true", "True")
        if replied in (None, ""):
            return placed
        with self._lock:
            original = self._alive.get((chat_id, _as_int(replied)))
        if original is not None:
            # Telegram nests the replied message without its own reply.
            return {**placed, "reply_to_message": {
                k: v for k, v in original.items() if k != "reply_to_message"}}
        if allow:
            return placed
        raise ApiError(400, "Bad Request: message to be replied not found")

    def _topic(self, chat_id: int, thread_id: object) -> dict:
        with self._lock:
            forum = self._groups.get(chat_id, {}).get("is_forum", False)
            known = (chat_id, _as_int(thread_id)) in self._topics
        # Only forum topics place a message; elsewhere Telegram ignores the thread id.
        if thread_id in (None, "") or not forum:
            return {}
        if not known:
            raise ApiError(400, "Bad Request: message thread not found")
        return {"message_thread_id": _as_int(thread_id), "is_topic_message": True}

    def bot_message(self, token: str, chat_id: int, content: dict,
                    message_id: int | None = None) -> dict:
        """A Message from the bot, kept so that callbacks and edits can find it."""
        sender = {k: self.bots[token][k] for k in ("id", "is_bot", "first_name", "username")}
        message = self.new_message(chat_id, sender, content, message_id)
        with self._lock:
            self._messages[(token, chat_id, message["message_id"])] = message
        return message

    def user_message(self, chat_id: int, user: dict, content: dict,
                     thread_id: int | None) -> dict:
        """A message a user sent, in a forum topic if thread_id is given."""
        if thread_id is not None:
            self.add_topic(chat_id, thread_id)
            content = {"message_thread_id": thread_id, "is_topic_message": True, **content}
        return self.new_message(chat_id, user, content)

    def callback_message(self, token: str, chat_id: int, message_id: int | None) -> dict:
        """The bot message a button was pressed on: the given one, else the bot's latest."""
        with self._lock:
            ids = [m for t, c, m in self._messages if (t, c) == (token, chat_id)]
            message_id = message_id if message_id is not None else max(ids, default=None)
            known = self._messages.get((token, chat_id, message_id or 0))
        # A button on a message the fake never sent: make that message up.
        return known or self.bot_message(token, chat_id, {"text": "Menu"}, message_id)

    def edit_message(self, token: str, chat_id: int, message_id: Any, changes: dict) -> dict:
        """Apply `changes` (None removes a field) to a bot message, failing like Telegram."""
        key = (token, chat_id, message_id)
        with self._lock:
            old = self._messages.get(key)
        if old is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        new = {k: v for k, v in {**old, **changes}.items() if v is not None}
        if new == old:
            raise ApiError(400, NOT_MODIFIED)
        new["edit_date"] = int(time.time())
        with self._lock:
            self._messages[key] = new
            if (chat_id, message_id) in self._alive:
                self._alive[(chat_id, message_id)] = new
        return new

    # ---- photo file_ids ----------------------------------------------------------------------

    def add_photo(self, token: str, sizes: list[dict]) -> None:
        """Make each size's file_id usable by the bot that uploaded the photo."""
        with self._lock:
            self._files.update((size["file_id"], (token, sizes)) for size in sizes)

    def photo(self, token: str, file_id: str) -> list[dict]:
        """The sizes of a photo sent again by file_id; other bots' file_ids are wrong ones."""
        with self._lock:
            owner, sizes = self._files.get(file_id, ("", []))
            revoked = file_id in self._revoked
        if owner != token or revoked:
            raise ApiError(400, WRONG_FILE_ID)
        return sizes

    def revoke(self, file_id: str) -> None:
        """Make later sends of `file_id` fail with "wrong file identifier"."""
        with self._lock:
            self._revoked.add(file_id)

    def revoke_all(self) -> None:
        """Revoke every file_id minted so far."""
        with self._lock:
            self._revoked.update(self._files)

    # ---- commands ----------------------------------------------------------------------------

    def set_commands(self, token: str, language_code: str, commands: list) -> None:
        """Store a bot's command list for one language ("" for the default)."""
        with self._lock:
            self._commands[(token, language_code)] = commands

    def commands(self, token: str | None = None, language_code: str = "") -> list[dict]:
        """The commands last stored for this bot and language."""
        with self._lock:
            return list(self._commands.get((self.token(token), language_code), []))


def _as_int(value: object) -> int | None:
    # Form fields arrive as strings; Telegram reads ids as integers.
    try:
        return int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None
