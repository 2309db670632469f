"""A fake Telegram Bot API server for end-to-end tests.

The server runs aiohttp on 127.0.0.1 in a background thread with its own event loop, so a bot
running in this process (on any thread or loop) or in a subprocess can reach it via `base_url`.
Answers mirror Telegram's: the same JSON shapes, HTTP status codes and error descriptions.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import re
import secrets
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, Self

from aiohttp import web
from PIL import Image

MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_REQUEST_BYTES = 50 * 1024 * 1024
MAX_TEXT = 4096
MAX_CAPTION = 1024
# Parameters that clients send JSON-encoded inside form fields.
JSON_PARAMS = frozenset({
    "reply_markup", "commands", "allowed_updates", "entities", "caption_entities", "scope",
    "menu_button", "reply_parameters", "link_preview_options",
})
INT_PARAMS = frozenset({"chat_id", "offset", "limit", "message_id"})
REASONS = {
    400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 409: "Conflict",
    413: "Request Entity Too Large", 500: "Internal Server Error", 502: "Bad Gateway",
}
TRUE_METHODS = (
    "deleteWebhook", "setMyDescription", "setMyShortDescription", "setChatMenuButton",
    "answerCallbackQuery", "close", "logOut",
)
CONFLICT = ("Conflict: terminated by other getUpdates request; "
            "make sure that only one bot instance is running")
WRONG_FILE_ID = "Bad Request: wrong file identifier/HTTP URL specified"
NOT_MODIFIED = ("Bad Request: message is not modified: specified new message content and reply "
                "markup are exactly the same as a current content and reply markup of the message")
PATH_RE = re.compile(r"/bot([^/]+)/([A-Za-z]+)")
COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")

Files = dict[str, tuple[str, bytes]]


class ApiError(Exception):
    """An error answer: HTTP status, Telegram's description and an optional retry_after."""

    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status, self.description, self.retry_after = status, description, retry_after


@dataclass
class Call:
    """One request the fake received; status and result are filled in once it is answered."""

    method: str
    params: dict[str, Any]
    token: str
    timestamp: float
    file_bytes: bytes | None = None
    filename: str | None = None
    status: int | None = None  # stays None for a dropped connection
    result: Any = None


class FakeBotApi:
    """Telegram Bot API stand-in serving one or more bot tokens on a free local port.

    Every public method and attribute may be used from any thread while the server runs.
    """

    def __init__(self, tokens: str | Iterable[str], *, usernames: Iterable[str] | None = None,
                 strict_chats: bool = False) -> None:
        self._tokens = [tokens] if isinstance(tokens, str) else list(tokens)
        names = list(usernames or ["cosmo_test_bot"] + [
            f"cosmo_test{i}_bot" for i in range(2, len(self._tokens) + 1)])
        self._bots = {token: {"id": _bot_id(token), "is_bot": True, "first_name": "Cosmo Test",
                              "username": name} for token, name in zip(self._tokens, names)}
        self.strict_chats = strict_chats  # True: unknown chats get 400 "chat not found"
        self.conflict = False
        self.upload_bandwidth: float | None = None  # bytes per second
        self.latency = 0.0
        self._lock = threading.Lock()
        self._calls: list[Call] = []
        self._updates: dict[str, list[dict]] = {token: [] for token in self._tokens}
        self._allowed: dict[str, list[str]] = {}
        self._update_id = 100000
        self._files: dict[str, tuple[str, list[dict]]] = {}
        self._revoked: set[str] = set()
        self._messages: dict[tuple[str, int, int], dict] = {}
        self._last_message_id: dict[int, int] = {}
        self._chats: dict[int, str] = {}
        self._blocked: set[int] = set()
        self._failures: dict[str, deque[ApiError]] = {}
        self._drops: dict[str, int] = {}
        self._commands: dict[tuple[str, str], list] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._wakeups: dict[str, asyncio.Event] = {}
        self._stopping = False
        self._port = 0
        handlers: dict[str, Callable[[str, dict, Files], Any]] = {
            "getMe": self._get_me, "getUpdates": self._get_updates,
            "sendMessage": self._send_message, "sendPhoto": self._send_photo,
            "sendChatAction": self._send_chat_action, "editMessageCaption": self._edit_caption,
            "editMessageReplyMarkup": self._edit_reply_markup,
            "setMyCommands": self._set_commands, "getMyCommands": self._get_commands,
            **{name: lambda *_: True for name in TRUE_METHODS},
        }
        # Telegram treats method names case-insensitively.
        self._methods = {name.lower(): (name, fn) for name, fn in handlers.items()}

    # ---- lifecycle -------------------------------------------------------------------------

    def start(self) -> Self:
        """Start serving; returns once the port accepts connections."""
        if self._thread is not None:
            raise RuntimeError("FakeBotApi is already running")
        ready, errors = threading.Event(), []
        self._thread = threading.Thread(target=self._serve, args=(ready, errors),
                                        name="fakebotapi", daemon=True)
        self._thread.start()
        if not ready.wait(10) or errors:
            self._thread = None
            raise RuntimeError(f"FakeBotApi failed to start: {errors}")
        return self

    def stop(self) -> None:
        """Stop serving; pending long polls are answered with [] first."""
        if self._thread is None:
            return
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._begin_stop)
        self._thread.join(timeout=10)
        self._thread = self._loop = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """The value for PTB's `base_url`, e.g. "http://127.0.0.1:PORT/bot"."""
        if not self._port:
            raise RuntimeError("FakeBotApi is not started")
        return f"http://127.0.0.1:{self._port}/bot"

    def _serve(self, ready: threading.Event, errors: list[BaseException]) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            runner = loop.run_until_complete(self._open())
        except OSError as exc:  # reported to start() in the calling thread
            errors.append(exc)
            ready.set()
            loop.close()
            return
        self._loop = loop
        ready.set()
        loop.run_forever()
        loop.run_until_complete(runner.cleanup())
        pending = asyncio.all_tasks(loop)
        for task in pending:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.close()

    async def _open(self) -> web.AppRunner:
        self._stopping = False
        self._wakeups = {token: asyncio.Event() for token in self._tokens}
        app = web.Application(client_max_size=MAX_REQUEST_BYTES)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        self._port = runner.addresses[0][1]
        return runner

    def _begin_stop(self) -> None:
        # Wake held getUpdates requests so shutdown does not wait out their timeout.
        self._stopping = True
        for wakeup in self._wakeups.values():
            wakeup.set()
        asyncio.get_running_loop().stop()

    # ---- test-side control -----------------------------------------------------------------

    def push_text(self, chat_id: int, text: str, *, token: str | None = None,
                  language_code: str = "en", first_name: str = "Ada") -> dict:
        """Queue a private-chat text message from user `chat_id`; returns the update."""
        token = self._token(token)
        self.add_chat(chat_id, first_name)
        content: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            length = len(command.encode("utf-16-le")) // 2  # Telegram counts UTF-16 units
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        message = self._new_message(chat_id, self._user(chat_id, language_code), content)
        return self._enqueue(token, "message", message)

    def push_callback(self, chat_id: int, data: str, *, message_id: int | None = None,
                      token: str | None = None, language_code: str = "en") -> dict:
        """Queue a callback_query pressed on a bot message (default: the bot's latest one)."""
        token = self._token(token)
        self.add_chat(chat_id)
        query = {"id": str(secrets.randbits(60)), "from": self._user(chat_id, language_code),
                 "chat_instance": str(_bot_id(token) * 1000003 + chat_id), "data": data,
                 "message": self._callback_message(token, chat_id, message_id)}
        return self._enqueue(token, "callback_query", query)

    def add_chat(self, chat_id: int, first_name: str | None = None) -> None:
        """Mark a chat as known, which matters when `strict_chats` is set."""
        with self._lock:
            self._chats[chat_id] = first_name or self._chats.get(chat_id, "Ada")

    def block(self, chat_id: int) -> None:
        """Make the user of `chat_id` block the bot: sends answer 403."""
        with self._lock:
            self._blocked.add(chat_id)

    def revoke(self, file_id: str) -> None:
        """Make later sends of `file_id` fail with "wrong file identifier"."""
        with self._lock:
            self._revoked.add(file_id)

    def revoke_all(self) -> None:
        """Revoke every file_id minted so far."""
        with self._lock:
            self._revoked.update(self._files)

    def fail_next(self, method: str, *, status: int, description: str | None = None,
                  retry_after: int | None = None, times: int = 1) -> None:
        """Answer the next `times` calls of `method` with this error."""
        if status == 429:
            retry_after = 1 if retry_after is None else retry_after
            description = description or f"Too Many Requests: retry after {retry_after}"
        description = description or REASONS.get(status, "Error")
        with self._lock:
            queue = self._failures.setdefault(method.lower(), deque())
            queue.extend(ApiError(status, description, retry_after) for _ in range(times))

    def drop_next(self, method: str, times: int = 1) -> None:
        """Close the connection of the next `times` calls of `method` without answering."""
        with self._lock:
            self._drops[method.lower()] = self._drops.get(method.lower(), 0) + times

    def commands(self, token: str | None = None, language_code: str = "") -> list[dict]:
        """The commands last stored by setMyCommands."""
        with self._lock:
            return list(self._commands.get((self._token(token), language_code), []))

    # ---- recorded calls --------------------------------------------------------------------

    def calls(self, method: str | None = None) -> list[Call]:
        """Every call received so far, oldest first, optionally only those of `method`."""
        with self._lock:
            return [c for c in self._calls if method is None or c.method.lower() == method.lower()]

    def uploads(self) -> list[Call]:
        """sendPhoto calls that carried a file."""
        return [c for c in self.calls("sendPhoto") if c.file_bytes is not None]

    def file_id_sends(self) -> list[Call]:
        """sendPhoto calls whose `photo` was a string (a file_id or URL)."""
        return [c for c in self.calls("sendPhoto") if isinstance(c.params.get("photo"), str)
                and not c.params["photo"].startswith("attach://")]

    def sent_to(self, chat_id: int, token: str | None = None) -> list[dict]:
        """Messages the bot delivered to `chat_id`, as the Message dicts returned, in order."""
        return [c.result for c in self.calls() if c.method.startswith("send") and c.status == 200
                and isinstance(c.result, dict) and c.result["chat"]["id"] == chat_id
                and token in (None, c.token)]

    def reset_calls(self) -> None:
        """Forget the recorded calls."""
        with self._lock:
            self._calls.clear()

    def wait_until(self, predicate: Callable[[], Any], timeout: float = 10.0,
                   interval: float = 0.01) -> Any:
        """Block until `predicate()` is truthy and return its value.

        It blocks the calling thread, so never call it on the thread whose loop runs the bot.
        """
        deadline = time.monotonic() + timeout
        while not (value := predicate()):
            if time.monotonic() >= deadline:
                raise AssertionError(self._timeout_message(predicate, timeout))
            time.sleep(interval)
        return value

    async def await_until(self, predicate: Callable[[], Any], timeout: float = 10.0,
                          interval: float = 0.01) -> Any:
        """Like `wait_until`, but yields to the running event loop while waiting."""
        deadline = time.monotonic() + timeout
        while not (value := predicate()):
            if time.monotonic() >= deadline:
                raise AssertionError(self._timeout_message(predicate, timeout))
            await asyncio.sleep(interval)
        return value

    def _timeout_message(self, predicate: Callable[[], Any], timeout: float) -> str:
        recent = [f"  {c.method} -> {c.status}: {_summary(c.params)}" for c in self.calls()[-15:]]
        name = getattr(predicate, "__qualname__", repr(predicate))
        return (f"condition {name} not met within {timeout}s; recent calls:\n"
                + ("\n".join(recent) or "  (none)"))

    # ---- HTTP plumbing ---------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        match = PATH_RE.fullmatch(request.path)
        if match is None:
            return _error_response(ApiError(404, "Not Found"))
        token, name = match.groups()
        try:
            params, files = await _read_params(request)
        except ApiError as exc:
            return _error_response(exc)
        method, handler = self._methods.get(name.lower(), (name, None))
        filename, data = next(iter(files.values()), (None, None))
        call = Call(method, params, token, time.monotonic(), data, filename)
        with self._lock:
            self._calls.append(call)
            drop = self._drops.get(method.lower(), 0)
            if drop:
                self._drops[method.lower()] = drop - 1
        if drop and request.transport is not None:
            request.transport.close()  # the client sees the server hang up without answering
            return web.Response()
        await self._delay(data)
        try:
            result = self._dispatch(token, method, handler, params, files)
            if isinstance(result, Awaitable):
                result = await result
        except ApiError as exc:
            with self._lock:
                call.status = exc.status
            return _error_response(exc)
        with self._lock:
            call.status, call.result = 200, result
        return web.json_response({"ok": True, "result": result})

    def _dispatch(self, token: str, method: str, handler: Callable | None, params: dict,
                  files: Files) -> Any:
        if token not in self._bots:
            raise ApiError(401, "Unauthorized")
        if handler is None:
            raise ApiError(404, "Not Found")
        with self._lock:
            injected = self._failures.get(method.lower())
            if injected:
                raise injected.popleft()
        return handler(token, params, files)

    async def _delay(self, data: bytes | None) -> None:
        seconds, bandwidth = self.latency, self.upload_bandwidth
        if data is not None and bandwidth:
            seconds += len(data) / bandwidth
        if seconds > 0:
            await asyncio.sleep(seconds)

    # ---- updates ---------------------------------------------------------------------------

    def _enqueue(self, token: str, kind: str, payload: dict) -> dict:
        with self._lock:
            self._update_id += 1
            update = {"update_id": self._update_id, kind: payload}
            self._updates[token].append(update)
            loop, wakeup = self._loop, self._wakeups.get(token)
        if loop is not None and wakeup is not None:
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile: nobody waits
                loop.call_soon_threadsafe(wakeup.set)
        return update

    async def _get_updates(self, token: str, params: dict, files: Files) -> list[dict]:
        if self.conflict:
            raise ApiError(409, CONFLICT)
        offset, limit = int(params.get("offset") or 0), int(params.get("limit") or 100)
        if isinstance(params.get("allowed_updates"), list):
            with self._lock:
                self._allowed[token] = params["allowed_updates"]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + float(params.get("timeout") or 0)
        wakeup = self._wakeups[token]
        while True:
            wakeup.clear()  # before looking, so a push after the look still wakes us
            batch = self._take_updates(token, offset, max(1, min(limit, 100)))
            remaining = deadline - loop.time()
            if batch or remaining <= 0 or self._stopping:
                return batch
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wakeup.wait(), remaining)

    def _take_updates(self, token: str, offset: int, limit: int) -> list[dict]:
        with self._lock:
            queue = self._updates[token]
            if offset < 0:  # Telegram: keep only the last -offset updates
                del queue[:max(0, len(queue) + offset)]
            allowed = self._allowed.get(token)
            queue[:] = [u for u in queue if u["update_id"] >= offset
                        and (not allowed or _update_kind(u) in allowed)]
            return queue[:limit]

    # ---- messages --------------------------------------------------------------------------

    def _token(self, token: str | None) -> str:
        token = token or self._tokens[0]
        if token not in self._bots:
            raise ValueError(f"unknown bot token {token!r}")
        return token

    def _user(self, chat_id: int, language_code: str) -> dict:
        with self._lock:
            first_name = self._chats.get(chat_id, "Ada")
        return {"id": chat_id, "is_bot": False, "first_name": first_name,
                "language_code": language_code}

    def _new_message(self, chat_id: int, sender: dict, content: dict,
                     message_id: int | None = None) -> dict:
        with self._lock:
            if message_id is None:
                message_id = self._last_message_id.get(chat_id, 0) + 1
            self._last_message_id[chat_id] = max(message_id, self._last_message_id.get(chat_id, 0))
            first_name = self._chats.get(chat_id, "Ada")
        return {"message_id": message_id, "from": sender, "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private", "first_name": first_name}, **content}

    def _bot_message(self, token: str, chat_id: int, content: dict,
                     message_id: int | None = None) -> dict:
        sender = {k: self._bots[token][k] for k in ("id", "is_bot", "first_name", "username")}
        message = self._new_message(chat_id, sender, content, message_id)
        with self._lock:
            self._messages[(token, chat_id, message["message_id"])] = message
        return message

    def _callback_message(self, token: str, chat_id: int, message_id: int | None) -> dict:
        with self._lock:
            ids = [m for t, c, m in self._messages if (t, c) == (token, chat_id)]
            message_id = message_id if message_id is not None else max(ids, default=None)
            known = self._messages.get((token, chat_id, message_id or 0))
        return known or self._bot_message(token, chat_id, {"text": "Menu"}, message_id)

    def _chat(self, params: dict) -> int:
        chat_id = params.get("chat_id")
        if chat_id in (None, ""):
            raise ApiError(400, "Bad Request: chat_id is empty")
        with self._lock:
            known, blocked = chat_id in self._chats, chat_id in self._blocked
        if not isinstance(chat_id, int) or (self.strict_chats and not known):
            raise ApiError(400, "Bad Request: chat not found")
        if blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        return chat_id

    def _get_me(self, token: str, params: dict, files: Files) -> dict:
        return {**self._bots[token], "can_join_groups": True, "can_read_all_group_messages": False,
                "supports_inline_queries": False}

    def _send_chat_action(self, token: str, params: dict, files: Files) -> bool:
        self._chat(params)
        return True

    def _send_message(self, token: str, params: dict, files: Files) -> dict:
        chat_id = self._chat(params)
        text = _checked_text(params.get("text"))
        return self._bot_message(token, chat_id, {"text": text, **_markup(params)})

    def _send_photo(self, token: str, params: dict, files: Files) -> dict:
        chat_id = self._chat(params)
        caption = _checked_caption(params.get("caption"))
        photo = self._photo_sizes(token, params.get("photo"), files)
        extra = {"caption": caption} if caption else {}
        return self._bot_message(token, chat_id, {"photo": photo, **extra, **_markup(params)})

    def _photo_sizes(self, token: str, photo: Any, files: Files) -> list[dict]:
        if photo is None or (isinstance(photo, str) and photo.startswith("attach://")):
            photo = files.get("photo" if photo is None else photo.removeprefix("attach://"))
        if isinstance(photo, tuple):
            return self._mint_photo(token, photo[1])
        if not photo:
            raise ApiError(400, "Bad Request: there is no photo in the request")
        if photo.startswith(("http://", "https://")):
            raise ApiError(400, "Bad Request: failed to get HTTP URL content")
        with self._lock:
            owner, sizes = self._files.get(photo, ("", []))
            revoked = photo in self._revoked
        if owner != token or revoked:
            raise ApiError(400, WRONG_FILE_ID)
        return sizes

    def _mint_photo(self, token: str, data: bytes) -> list[dict]:
        if len(data) > MAX_PHOTO_BYTES:
            raise ApiError(400, f"Bad Request: file of size {len(data)} bytes is too big for a "
                                f"photo; the maximum size is {MAX_PHOTO_BYTES} bytes")
        width, height = _image_size(data)
        sizes = [_photo_size(width, height, side, len(data)) for side in (90, 320, None)]
        with self._lock:
            self._files.update((size["file_id"], (token, sizes)) for size in sizes)
        return sizes

    def _edit(self, token: str, params: dict, changes: dict) -> dict | bool:
        if params.get("inline_message_id"):
            return True
        key = (token, self._chat(params), params.get("message_id"))
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
        return new

    def _edit_caption(self, token: str, params: dict, files: Files) -> dict | bool:
        caption = _checked_caption(params.get("caption")) or None
        return self._edit(token, params, {"caption": caption, "reply_markup": _inline(params)})

    def _edit_reply_markup(self, token: str, params: dict, files: Files) -> dict | bool:
        return self._edit(token, params, {"reply_markup": _inline(params)})

    def _set_commands(self, token: str, params: dict, files: Files) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise ApiError(400, "Bad Request: can't parse commands JSON object")
        for command in commands:
            if not isinstance(command, dict) or not COMMAND_RE.fullmatch(
                    str(command.get("command", ""))):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
        with self._lock:
            self._commands[(token, params.get("language_code", ""))] = commands
        return True

    def _get_commands(self, token: str, params: dict, files: Files) -> list[dict]:
        return self.commands(token, params.get("language_code", ""))


def _bot_id(token: str) -> int:
    bot_id, sep, secret = token.partition(":")
    if not (bot_id.isdigit() and sep and secret):
        raise ValueError(f"not a bot token: {token!r}")
    return int(bot_id)


async def _read_params(request: web.Request) -> tuple[dict[str, Any], Files]:
    """Merge query string and body (form, multipart or JSON) the way Telegram accepts them."""
    params: dict[str, Any] = dict(request.query)
    files: Files = {}
    try:
        if request.content_type == "application/json":
            body = await request.json()
            if not isinstance(body, dict):
                raise ApiError(400, "Bad Request: can't parse JSON object")
            params.update(body)
        elif request.can_read_body:
            for key, value in (await request.post()).items():
                if isinstance(value, web.FileField):
                    files[key] = (value.filename, value.file.read())
                else:
                    params[key] = value
    except web.HTTPRequestEntityTooLarge as exc:
        raise ApiError(413, "Request Entity Too Large") from exc
    except ValueError as exc:
        raise ApiError(400, "Bad Request: can't parse JSON object") from exc
    return {key: _decode(key, value) for key, value in params.items()}, files


def _decode(key: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    if key in JSON_PARAMS:
        try:
            return json.loads(value)
        except ValueError as exc:
            raise ApiError(400, f"Bad Request: can't parse {key} JSON object") from exc
    if key in INT_PARAMS:
        with contextlib.suppress(ValueError):
            return int(value)
    return value


def _error_response(exc: ApiError) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": exc.status, "description": exc.description}
    if exc.retry_after is not None:
        body["parameters"] = {"retry_after": exc.retry_after}
    return web.json_response(body, status=exc.status)


def _update_kind(update: dict) -> str:
    return next(key for key in update if key != "update_id")


def _checked_text(text: Any) -> str:
    text = "" if text is None else str(text)
    if not text.strip():
        raise ApiError(400, "Bad Request: message text is empty")
    if len(text) > MAX_TEXT:
        raise ApiError(400, "Bad Request: message is too long")
    return text


def _checked_caption(caption: Any) -> str:
    caption = "" if caption is None else str(caption)
    if len(caption) > MAX_CAPTION:
        raise ApiError(400, "Bad Request: message caption is too long")
    return caption


def _inline(params: dict) -> dict | None:
    # Telegram echoes only inline keyboards in the Message; other markups are not stored on it.
    markup = params.get("reply_markup")
    return markup if isinstance(markup, dict) and markup.get("inline_keyboard") else None


def _markup(params: dict) -> dict:
    markup = _inline(params)
    return {"reply_markup": markup} if markup else {}


def _valid_dimensions(width: int, height: int) -> bool:
    return width + height <= 10000 and max(width, height) <= 20 * min(width, height)


def _image_size(data: bytes) -> tuple[int, int]:
    try:
        with Image.open(io.BytesIO(data)) as image:
            size = image.size
            if _valid_dimensions(*size):
                image.load()  # decode fully: a truncated file must fail like on Telegram
    except Exception as exc:  # Pillow raises many exception types for unreadable input
        raise ApiError(400, "Bad Request: IMAGE_PROCESS_FAILED") from exc
    if not _valid_dimensions(*size):
        raise ApiError(400, "Bad Request: PHOTO_INVALID_DIMENSIONS")
    return size


def _photo_size(width: int, height: int, side: int | None, total_bytes: int) -> dict:
    scale = 1.0 if side is None else min(1.0, side / max(width, height))
    return {"file_id": "AgACAgIAAxkBAA" + secrets.token_urlsafe(50)[:66],
            "file_unique_id": "AQAD" + secrets.token_urlsafe(9)[:12],
            "file_size": max(1, round(total_bytes * scale * scale)),
            "width": max(1, round(width * scale)), "height": max(1, round(height * scale))}


def _summary(params: dict) -> str:
    return ", ".join(f"{key}={str(value)[:40]!r}" for key, value in params.items())
