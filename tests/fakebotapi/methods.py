"""The Bot API methods the bot uses, each checking its parameters and answering like Telegram."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from tests.fakebotapi.errors import ApiError
from tests.fakebotapi.inline import InlineQueries
from tests.fakebotapi.media import mint_photo_sizes
from tests.fakebotapi.state import TelegramState
from tests.fakebotapi.updates import UpdateQueue
from tests.fakebotapi.webhooks import Webhooks

KEYBOARD_NOT_ROWS = ('Bad Request: field "inline_keyboard" of the InlineKeyboardMarkup must be '
                     'an Array of Arrays')
BUTTON_NOT_OBJECT = ("Bad Request: can't parse inline keyboard button: InlineKeyboardButton "
                     "must be an Object")
MAX_TEXT = 4096
MAX_CAPTION = 1024
COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")
# Methods whose only effect the tests care about is that they succeed.
TRUE_METHODS = (
    "setMyDescription", "setMyShortDescription", "setChatMenuButton",
    "answerCallbackQuery", "close", "logOut",
)

# What Telegram adds to a ChatMember of each status besides "status" and "user".
MEMBER_FIELDS: dict[str, dict] = {
    "creator": {"is_anonymous": False},
    "administrator": {
        "can_be_edited": False, "is_anonymous": False, "can_manage_chat": True,
        "can_delete_messages": True, "can_manage_video_chats": True,
        "can_restrict_members": True, "can_promote_members": False, "can_change_info": True,
        "can_invite_users": True, "can_post_stories": False, "can_edit_stories": False,
        "can_delete_stories": False, "can_send_welcome_messages": False,
    },
    "restricted": {
        "is_member": True, "until_date": 0,
        **dict.fromkeys((
            "can_send_messages", "can_send_audios", "can_send_documents", "can_send_photos",
            "can_send_videos", "can_send_video_notes", "can_send_voice_notes", "can_send_polls",
            "can_send_other_messages", "can_add_web_page_previews", "can_react_to_messages",
            "can_edit_tag", "can_change_info", "can_invite_users", "can_pin_messages",
            "can_manage_topics"), False),
    },
    "kicked": {"until_date": 0},
}

Files = dict[str, tuple[str, bytes]]  # form field -> (filename, content)
Handler = Callable[[str, dict, Files], Any]  # (token, params, files) -> result or its awaitable
MethodTable = dict[str, tuple[str, Handler]]  # lower-case name -> (canonical name, handler)


class BotMethods:
    """Handlers for one fake Telegram; each takes the bot's token, the parameters and files."""

    def __init__(self, state: TelegramState, updates: UpdateQueue, inline: InlineQueries,
                 webhooks: Webhooks) -> None:
        self._state, self._updates, self._inline = state, updates, inline
        self._webhooks = webhooks

    def table(self) -> MethodTable:
        """Every handler by method name."""
        handlers: dict[str, Handler] = {
            "getMe": self._get_me, "getUpdates": self._get_updates,
            "sendMessage": self._send_message, "sendPhoto": self._send_photo,
            "sendChatAction": self._send_chat_action, "editMessageCaption": self._edit_caption,
            "editMessageReplyMarkup": self._edit_reply_markup,
            "setMyCommands": self._set_commands, "getMyCommands": self._get_commands,
            "getChatMember": self._get_chat_member,
            "answerInlineQuery": lambda token, params, files: self._inline.answer(token, params),
            **{name: lambda *_: True for name in TRUE_METHODS},
            **self._webhooks.handlers(),
        }
        # Telegram treats method names case-insensitively.
        return {name.lower(): (name, fn) for name, fn in handlers.items()}

    def _get_me(self, token: str, params: dict, files: Files) -> dict:
        return {**self._state.bots[token], "can_join_groups": True,
                "can_read_all_group_messages": False, "supports_inline_queries": True}

    async def _get_updates(self, token: str, params: dict, files: Files) -> list[dict]:
        await self._webhooks.refuse_polling(token)
        return await self._updates.get_updates(token, params)

    def _send_chat_action(self, token: str, params: dict, files: Files) -> bool:
        self._state.checked_chat(params)
        return True

    def _send_message(self, token: str, params: dict, files: Files) -> dict:
        chat_id = self._state.checked_chat(params)
        text = _checked_text(params.get("text"))
        placed = self._state.placement(chat_id, params)
        return self._state.bot_message(token, chat_id,
                                       {**placed, "text": text, **_markup(params)})

    def _send_photo(self, token: str, params: dict, files: Files) -> dict:
        chat_id = self._state.checked_chat(params)
        caption = _checked_caption(params.get("caption"))
        placed = self._state.placement(chat_id, params)
        photo = self._photo_sizes(token, params.get("photo"), files)
        extra = {"caption": caption} if caption else {}
        return self._state.bot_message(token, chat_id,
                                       {**placed, "photo": photo, **extra, **_markup(params)})

    def _photo_sizes(self, token: str, photo: Any, files: Files) -> list[dict]:
        # A photo comes as an upload (the "photo" part, or one named by attach://), or a string.
        if photo is None or (isinstance(photo, str) and photo.startswith("attach://")):
            photo = files.get("photo" if photo is None else photo.removeprefix("attach://"))
        if isinstance(photo, tuple):
            sizes = mint_photo_sizes(photo[1])
            self._state.add_photo(token, sizes)
            return sizes
        if not photo:
            raise ApiError(400, "Bad Request: there is no photo in the request")
        if photo.startswith(("http://", "https://")):
            # The fake fetches nothing, so a URL fails as an unreachable one does on Telegram.
            raise ApiError(400, "Bad Request: failed to get HTTP URL content")
        return self._state.photo(token, photo)

    def _edit(self, token: str, params: dict, changes: dict) -> dict | bool:
        if params.get("inline_message_id"):
            return True  # Telegram answers True for inline messages; the fake keeps none of them
        chat_id = self._state.checked_chat(params)
        return self._state.edit_message(token, chat_id, params.get("message_id"), changes)

    def _edit_caption(self, token: str, params: dict, files: Files) -> dict | bool:
        caption = _checked_caption(params.get("caption")) or None
        return self._edit(token, params, {"caption": caption, "reply_markup": _inline(params)})

    def _edit_reply_markup(self, token: str, params: dict, files: Files) -> dict | bool:
        return self._edit(token, params, {"reply_markup": _inline(params)})

    def _get_chat_member(self, token: str, params: dict, files: Files) -> dict:
        chat_id = self._state.checked_chat(params)
        user_id = params.get("user_id")
        if not isinstance(user_id, int):
            raise ApiError(400, "Bad Request: invalid user_id specified")
        status = self._state.member_status(chat_id, user_id)
        member = {"status": status, "user": self._state.user(user_id, "en")}
        return {**member, **MEMBER_FIELDS.get(status, {})}

    def _set_commands(self, token: str, params: dict, files: Files) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise ApiError(400, "Bad Request: can't parse commands JSON object")
        for command in commands:
            if not isinstance(command, dict) or not COMMAND_RE.fullmatch(
                    str(command.get("command", ""))):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
        self._state.set_commands(token, params.get("language_code", ""), commands)
        return True

    def _get_commands(self, token: str, params: dict, files: Files) -> list[dict]:
        return self._state.commands(token, params.get("language_code", ""))


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
    if not isinstance(markup, dict) or "inline_keyboard" not in markup:
        return None
    rows = markup["inline_keyboard"]
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise ApiError(400, KEYBOARD_NOT_ROWS)
    if not all(isinstance(button, dict) for row in rows for button in row):
        raise ApiError(400, BUTTON_NOT_OBJECT)
    return markup if rows else None


def _markup(params: dict) -> dict:
    markup = _inline(params)
    return {"reply_markup": markup} if markup else {}
