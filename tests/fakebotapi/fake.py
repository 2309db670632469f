"""FakeBotApi: the object a test holds to run the fake Telegram, steer it and inspect it."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable, Iterable
from typing import Any, Self

from tests.fakebotapi.delivery import Deliveries
from tests.fakebotapi.faults import Faults
from tests.fakebotapi.inline import InlineQueries
from tests.fakebotapi.methods import BotMethods
from tests.fakebotapi.oracle import Oracle, Violation
from tests.fakebotapi.recording import Call, CallLog
from tests.fakebotapi.server import Server
from tests.fakebotapi.state import TelegramState, bot_id
from tests.fakebotapi.updates import UpdateQueue
from tests.fakebotapi.webhook_controls import WebhookControls
from tests.fakebotapi.webhooks import Webhooks

# The user Telegram names as the sender of an anonymous group administrator's messages.
ANONYMOUS_ADMIN = {"id": 1087968824, "is_bot": True, "first_name": "Group",
                   "username": "GroupAnonymousBot"}
# The user Telegram names as the sender of a message a member sent on behalf of a channel.
CHANNEL_BOT = {"id": 136817688, "is_bot": True, "first_name": "Channel",
               "username": "Channel_Bot"}


def _text_content(text: str) -> dict[str, Any]:
    """A text message's content, with the entity Telegram marks a leading /command with."""
    content: dict[str, Any] = {"text": text}
    if text.startswith("/"):
        command = text.split(maxsplit=1)[0]
        length = len(command.encode("utf-16-le")) // 2  # Telegram counts UTF-16 units
        content["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
    return content


class _Switch:
    """An attribute of FakeBotApi that is stored on one of its parts, under the same name."""

    def __init__(self, part: str, doc: str) -> None:
        self.part, self.__doc__ = part, doc

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, fake: Any, owner: type | None = None) -> Any:
        return self if fake is None else getattr(getattr(fake, self.part), self.name)

    def __set__(self, fake: Any, value: Any) -> None:
        setattr(getattr(fake, self.part), self.name, value)


class FakeBotApi(WebhookControls):
    """Telegram Bot API stand-in serving one or more bot tokens on a free local port.

    Every public method and attribute may be used from any thread while the server runs.
    """

    def __init__(self, tokens: str | Iterable[str], *, usernames: Iterable[str] | None = None,
                 strict_chats: bool = False) -> None:
        tokens = [tokens] if isinstance(tokens, str) else list(tokens)
        self._state = TelegramState(tokens, usernames, strict_chats)
        self._updates = UpdateQueue(tokens)
        self._calls = CallLog()
        self._faults = Faults()
        self._inline = InlineQueries(self._state)
        self._oracle = Oracle()
        self._webhooks = Webhooks(self._updates)
        self._deliveries = Deliveries(self._updates, self._webhooks, self._oracle)
        methods = BotMethods(self._state, self._updates, self._inline, self._webhooks).table()
        self._server = Server(self._state.bots, methods, self._calls, self._faults, self._updates,
                              self._oracle, self._deliveries)

    # ---- lifecycle -------------------------------------------------------------------------

    def start(self) -> Self:
        """Start serving; returns once the port accepts connections."""
        self._server.start()
        return self

    def stop(self) -> None:
        """Stop serving; pending long polls are answered with [] first."""
        self._server.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        """Stop serving, then fail on any violation the oracle found (see `violations`)."""
        self.stop()
        if exc is not None:
            # Keep the test's own failure, and tell what the oracle found beside it.
            if self.violations():
                exc.add_note(self._violations_report())
            return
        self.assert_no_violations()

    @property
    def base_url(self) -> str:
        """The value for PTB's `base_url`, e.g. "http://127.0.0.1:PORT/bot"."""
        return self._server.base_url

    # ---- switches tests flip (they live on the part that acts on them) -----------------------

    strict_chats = _Switch("_state", 'True: chats the fake has not seen get 400 "chat not found".')
    conflict = _Switch("_updates", "True: getUpdates answers 409, as when another bot polls.")
    upload_bandwidth = _Switch("_faults", "Bytes per second uploads arrive at; None: instantly.")
    latency = _Switch("_faults", "Seconds every answer is delayed by.")
    flood_limits = _Switch("_faults", "A FloodLimits: Telegram's limits on messages (overall, per "
                                      "private chat, per group), 429s beyond them. None: off.")
    chat_rate_limit = _Switch("_faults", "Messages per second a chat takes; beyond: 429 with "
                                         "retry_after, as Telegram's flood limit. None: no limit.")

    # ---- test-side control -----------------------------------------------------------------

    def push_text(self, chat_id: int, text: str, *, token: str | None = None,
                  language_code: str | None = "en", first_name: str = "Ada",
                  user_id: int | None = None, thread_id: int | None = None) -> dict:
        """Queue a text message; returns the update.

        By default it comes from user `chat_id` in their private chat. In a group made by
        `add_group`, it comes from `user_id`, and in forum topic `thread_id` if given.
        `language_code=None`: a user whose language Telegram does not know.
        """
        token = self._state.token(token)
        user_id = chat_id if user_id is None else user_id
        self.add_chat(user_id, first_name)
        user = self._state.user(user_id, language_code)
        message = self._state.user_message(chat_id, user, _text_content(text), thread_id)
        return self._updates.push(token, "message", message)

    def push_anonymous_admin_text(self, chat_id: int, text: str, *,
                                  token: str | None = None) -> dict:
        """Queue a text an anonymous administrator of group `chat_id` sent; returns the update.

        As in Telegram, it comes from GroupAnonymousBot with the group itself as sender_chat.
        """
        token = self._state.token(token)
        message = self._state.new_message(chat_id, ANONYMOUS_ADMIN, _text_content(text))
        message["sender_chat"] = message["chat"]
        return self._updates.push(token, "message", message)

    def push_channel_text(self, chat_id: int, channel_id: int, text: str, *,
                          token: str | None = None) -> dict:
        """Queue a text a member of group `chat_id` sent as their channel; returns the update.

        As in Telegram, it comes from Channel_Bot with the channel as sender_chat.
        """
        token = self._state.token(token)
        message = self._state.new_message(chat_id, CHANNEL_BOT, _text_content(text))
        message["sender_chat"] = {"id": channel_id, "type": "channel", "title": "My channel"}
        return self._updates.push(token, "message", message)

    def push_callback(self, chat_id: int, data: str, *, message_id: int | None = None,
                      token: str | None = None, language_code: str | None = "en",
                      user_id: int | None = None) -> dict:
        """Queue a callback_query pressed on a bot message (default: the bot's latest one)."""
        token = self._state.token(token)
        user_id = chat_id if user_id is None else user_id
        self.add_chat(user_id)
        query = {"id": str(secrets.randbits(60)), "from": self._state.user(user_id, language_code),
                 "chat_instance": str(bot_id(token) * 1000003 + chat_id), "data": data,
                 "message": self._state.callback_message(token, chat_id, message_id)}
        return self._updates.push(token, "callback_query", query)

    def push_inline_query(self, user_id: int, query: str, offset: str = "", *,
                          language_code: str | None = "en", token: str | None = None) -> dict:
        """Queue an inline query typed by user_id (`@bot query`); returns the update."""
        token = self._state.token(token)
        inline_query = self._inline.new(token, user_id, query, offset, language_code)
        return self._updates.push(token, "inline_query", inline_query)

    def expire_inline_query(self, query_id: str) -> None:
        """Make an inline query too old to answer, as Telegram does 10 s after it."""
        self._inline.expire(query_id)

    def inline_answer(self, query_id: str) -> dict | None:
        """The parameters of the answer Telegram accepted for an inline query, if any yet."""
        answers = [call.params for call in self.calls("answerInlineQuery")
                   if call.status == 200 and str(call.params.get("inline_query_id")) == query_id]
        return answers[-1] if answers else None

    def add_group(self, chat_id: int, title: str = "Stargazers", *, forum: bool = False,
                  kind: str = "supergroup") -> None:
        """Make a supergroup with the bot in it (a forum with topics if `forum`).

        `kind="group"` makes a basic group instead, which `upgrade_group` can turn into a
        supergroup.
        """
        self._state.add_group(chat_id, title, forum, kind)

    def set_member_status(self, chat_id: int, user_id: int, status: str) -> None:
        """Make a user "creator", "administrator", "left"... of a group (default: "member")."""
        self._state.set_member_status(chat_id, user_id, status)

    def upgrade_group(self, chat_id: int, new_chat_id: int, *, user_id: int = 1,
                      token: str | None = None) -> None:
        """Turn basic group `chat_id` into supergroup `new_chat_id`, as Telegram does.

        Sends to the old id then fail with 400 and migrate_to_chat_id; the bot receives the
        two service messages Telegram sends (migrate_to_chat_id in the old group,
        migrate_from_chat_id in the new one), sent by `user_id`.
        """
        token = self._state.token(token)
        self._state.upgrade_group(chat_id, new_chat_id)
        user = self._state.user(user_id, "en")
        for chat, content in ((chat_id, {"migrate_to_chat_id": new_chat_id}),
                              (new_chat_id, {"migrate_from_chat_id": chat_id})):
            message = self._state.user_message(chat, user, content, None)
            self._updates.push(token, "message", message)

    def add_topic(self, chat_id: int, thread_id: int) -> None:
        """Open topic `thread_id` in forum `chat_id` (pushing a message there opens it too)."""
        self._state.add_topic(chat_id, thread_id)

    def delete_message(self, chat_id: int, message_id: int) -> None:
        """Delete a message, as a user or admin would: replies to it then fail like Telegram's."""
        self._state.delete_message(chat_id, message_id)

    def add_chat(self, chat_id: int, first_name: str | None = None) -> None:
        """Mark a chat as known, which matters when `strict_chats` is set."""
        self._state.add_chat(chat_id, first_name)

    def block(self, chat_id: int) -> None:
        """Make the user of `chat_id` block the bot: sends answer 403."""
        self._state.block(chat_id)

    def revoke(self, file_id: str) -> None:
        """Make later sends of `file_id` fail with "wrong file identifier"."""
        self._state.revoke(file_id)

    def revoke_all(self) -> None:
        """Revoke every file_id minted so far."""
        self._state.revoke_all()

    def fail_next(self, method: str, *, status: int, description: str | None = None,
                  retry_after: int | None = None, times: int = 1) -> None:
        """Answer the next `times` calls of `method` with this error."""
        self._faults.fail_next(method, status=status, description=description,
                               retry_after=retry_after, times=times)

    def drop_next(self, method: str, times: int = 1) -> None:
        """Close the connection of the next `times` calls of `method` without answering."""
        self._faults.drop_next(method, times)

    def commands(self, token: str | None = None, language_code: str = "") -> list[dict]:
        """The commands last stored by setMyCommands."""
        return self._state.commands(token, language_code)

    # ---- the oracle: aiogram's model of the Bot API --------------------------------------------

    def violations(self) -> list[Violation]:
        """Requests the Bot API would not accept and answers Telegram would not give, so far."""
        return self._oracle.violations()

    def take_violations(self) -> list[Violation]:
        """The violations so far, forgotten: for a test that provokes them on purpose."""
        return self._oracle.take_violations()

    def assert_no_violations(self) -> None:
        """Fail with every violation, naming its method, field and value, if there is one."""
        if self.violations():
            raise AssertionError(self._violations_report())

    def _violations_report(self) -> str:
        lines = [f"  {violation}" for violation in self.violations()]
        return ("the fake Bot API saw calls or gave answers that aiogram's model of the Bot API "
                "refuses:\n" + "\n".join(lines))

    # ---- recorded calls --------------------------------------------------------------------

    def calls(self, method: str | None = None) -> list[Call]:
        """Every call received so far, oldest first, optionally only those of `method`."""
        return self._calls.calls(method)

    def uploads(self) -> list[Call]:
        """sendPhoto calls that carried a file."""
        return self._calls.uploads()

    def file_id_sends(self) -> list[Call]:
        """sendPhoto calls whose `photo` was a string (a file_id or URL)."""
        return self._calls.file_id_sends()

    def sent_to(self, chat_id: int, token: str | None = None) -> list[dict]:
        """Messages the bot delivered to `chat_id`, as the Message dicts returned, in order."""
        return self._calls.sent_to(chat_id, token)

    def reset_calls(self) -> None:
        """Forget the recorded calls."""
        self._calls.reset()

    def wait_until(self, predicate: Callable[[], Any], timeout: float = 10.0,
                   interval: float = 0.01) -> Any:
        """Block until `predicate()` is truthy and return its value.

        It blocks the calling thread, so never call it on the thread whose loop runs the bot.
        """
        deadline = time.monotonic() + timeout
        while not (value := predicate()):
            if time.monotonic() >= deadline:
                raise AssertionError(self._calls.timeout_message(predicate, timeout))
            time.sleep(interval)
        return value

    async def await_until(self, predicate: Callable[[], Any], timeout: float = 10.0,
                          interval: float = 0.01) -> Any:
        """Like `wait_until`, but yields to the running event loop while waiting."""
        deadline = time.monotonic() + timeout
        while not (value := predicate()):
            if time.monotonic() >= deadline:
                raise AssertionError(self._calls.timeout_message(predicate, timeout))
            await asyncio.sleep(interval)
        return value
