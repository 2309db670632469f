"""HTTP plumbing: aiohttp on 127.0.0.1 in its own thread, parsing requests and routing them."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import threading
import time
from collections.abc import Awaitable, Collection
from typing import Any

from aiohttp import web

from tests.fakebotapi.delivery import Deliveries
from tests.fakebotapi.errors import ApiError, Described
from tests.fakebotapi.faults import Faults
from tests.fakebotapi.methods import Files, Handler, MethodTable
from tests.fakebotapi.oracle import Oracle
from tests.fakebotapi.recording import Call, CallLog
from tests.fakebotapi.updates import UpdateQueue

MAX_REQUEST_BYTES = 50 * 1024 * 1024
# Parameters that clients send JSON-encoded inside form fields.
JSON_PARAMS = frozenset({
    "reply_markup", "commands", "allowed_updates", "entities", "caption_entities", "scope",
    "menu_button", "reply_parameters", "link_preview_options", "results", "button",
})
INT_PARAMS = frozenset({"chat_id", "user_id", "offset", "limit", "message_id", "message_thread_id",
                        "reply_to_message_id", "cache_time"})
# Methods that post a message to a chat, and so count towards its flood limit.
MESSAGE_METHODS = frozenset({"sendmessage", "sendphoto"})
PATH_RE = re.compile(r"/bot([^/]+)/([A-Za-z]+)")


class Server:
    """Serves the methods on a free port from a background thread with its own event loop.

    Its own loop lets a bot on any thread or loop, or in a subprocess, reach it over HTTP.
    """

    def __init__(self, bots: Collection[str], methods: MethodTable, calls: CallLog,
                 faults: Faults, updates: UpdateQueue, oracle: Oracle,
                 deliveries: Deliveries) -> None:
        self._bots, self._methods = bots, methods
        self._calls, self._faults, self._updates = calls, faults, updates
        self._oracle, self._deliveries = oracle, deliveries
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._port = 0

    def start(self) -> None:
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

    def stop(self) -> None:
        """Stop serving; pending long polls are answered with [] first."""
        if self._thread is None:
            return
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._begin_stop)
        self._thread.join(timeout=10)
        self._thread = self._loop = None

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
        loop.run_until_complete(self._deliveries.close())
        loop.run_until_complete(runner.cleanup())
        pending = asyncio.all_tasks(loop)
        for task in pending:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.close()

    async def _open(self) -> web.AppRunner:
        app = web.Application(client_max_size=MAX_REQUEST_BYTES)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        self._port = runner.addresses[0][1]
        self._updates.open()  # no await since the site started, so no request came before
        self._deliveries.open()
        return runner

    def _begin_stop(self) -> None:
        self._updates.close()  # so shutdown does not wait out held getUpdates
        asyncio.get_running_loop().stop()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        # Half the round trip before a call is handled (its timestamp is its arrival), half
        # before its answer is written, so an update for a held poll still travels to the bot.
        match = PATH_RE.fullmatch(request.path)
        if match is None:  # no method call at all, so there is nothing for the oracle to check
            await self._faults.arrive(None)
            await self._faults.way_back()
            return web.json_response(_error_body(ApiError(404, "Not Found")), status=404)
        token, name = match.groups()
        method, handler = self._methods.get(name.lower(), (name, None))
        try:
            params, files = await _read_params(request)
        except ApiError as exc:
            await self._faults.arrive(None)
            await self._faults.way_back()
            return self._respond(method, exc.status, _error_body(exc))
        filename, data = next(iter(files.values()), (None, None))
        # Recorded as it sets out, so that tests see an upload on its way; stamped with when
        # it arrives, and handled then.
        there = self._faults.way_there(data)
        call = Call(method, params, token, time.monotonic() + there, data, filename)
        self._calls.record(call)
        if there > 0:
            await asyncio.sleep(there)
        self._oracle.check_request(method, params, files)
        if self._faults.take_drop(method) and request.transport is not None:
            await self._faults.way_back()
            request.transport.close()  # the client sees the server hang up without answering
            return web.Response()
        status, body = await self._answer(call, handler, files)
        await self._faults.way_back()
        self._calls.answer(call, status, body.get("result"))
        return self._respond(call.method, status, body)

    async def _answer(self, call: Call, handler: Handler | None,
                      files: Files) -> tuple[int, dict[str, Any]]:
        """The status and body that answer the call, its effects (a message sent) done."""
        try:
            result = self._dispatch(call.token, call.method, handler, call.params, files)
            if isinstance(result, Awaitable):
                result = await result
        except ApiError as exc:
            return exc.status, _error_body(exc)
        if isinstance(result, Described):
            return 200, {"ok": True, "result": result.result, "description": result.description}
        return 200, {"ok": True, "result": result}

    def _respond(self, method: str, status: int, body: dict) -> web.Response:
        self._oracle.check_answer(method, status, body)
        return web.json_response(body, status=status)

    def _dispatch(self, token: str, method: str, handler: Handler | None, params: dict,
                  files: Files) -> Any:
        # A bad token is 401 even for an unknown method; injected failures hit only served calls.
        if token not in self._bots:
            raise ApiError(401, "Unauthorized")
        if handler is None:
            raise ApiError(404, "Not Found")
        injected = self._faults.take_failure(method)
        if injected is not None:
            raise injected
        if method.lower() in MESSAGE_METHODS:
            self._faults.check_flood(token, params.get("chat_id"))
        return handler(token, params, files)


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
    # Form fields arrive as strings; Telegram parses them back to JSON objects and integers.
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


def _error_body(exc: ApiError) -> dict[str, Any]:
    body: dict[str, Any] = {"ok": False, "error_code": exc.status, "description": exc.description}
    if exc.parameters:
        body["parameters"] = exc.parameters
    return body
