"""aiogram's model of the Bot API, as the oracle reads it: methods by name and strict checks.

aiogram generates its pydantic types from the official Bot API documentation, so nobody here
wrote them. Where they differ from Telegram:
- looser: every object takes unknown fields, aiogram's field names beside Telegram's ("from"
  is from_user), "5" for an int, ISO strings for dates, and a default for each tag (such as
  ChatMember.status); the checks here add what Telegram guarantees on each of these.
- stricter: a JSON body with a number for a string parameter, which Telegram reads, fails;
  no client here sends one.
- newer: aiogram 3.31 models Bot API 10.3, python-telegram-bot 22.8 speaks 10.0, so answers
  carry the fields the Bot API added since (PTB keeps them in api_kwargs).
"""

from __future__ import annotations

import datetime as dt
import json
import types
import typing
from collections.abc import Iterator
from functools import cache
from typing import Any

from aiogram import methods as aiogram_methods
from aiogram.methods.base import TelegramMethod
from aiogram.types import BufferedInputFile
from pydantic import BaseModel, TypeAdapter, ValidationError

Problem = tuple[str, Any, str]  # (field path, the value found there, what is wrong with it)
Files = dict[str, tuple[str, bytes]]  # form field -> (filename, content)
MAX_PROBLEMS = 6  # a broken object fails in many places; the first few tell the story


def _methods_by_name() -> dict[str, type[TelegramMethod]]:
    found: dict[str, type[TelegramMethod]] = {}
    for name in aiogram_methods.__all__:
        model = getattr(aiogram_methods, name)
        if isinstance(model, type) and issubclass(model, TelegramMethod) \
                and model is not TelegramMethod:
            found[model.__api_method__.lower()] = model
    return found


METHODS = _methods_by_name()  # lower-case method name -> aiogram's model of it


def method_model(name: str) -> type[TelegramMethod] | None:
    """aiogram's model of a Bot API method, looked up case-insensitively like Telegram does."""
    return METHODS.get(name.lower())


def request_problems(model: type[TelegramMethod], params: dict, files: Files) -> list[Problem]:
    """What in a request the method's model does not accept: types, missing and unknown fields.

    Form fields arrive as strings and Telegram reads each by the parameter's type, so strings
    are parsed as JSON where the parameter cannot be a string. Uploads stand in for the
    parameter of their name, or for the one that names them with attach://.
    """
    values = {key: _read_form_value(model, key, value) for key, value in params.items()}
    problems: list[Problem] = []
    attached = {value.removeprefix("attach://") for value in params.values()
                if isinstance(value, str) and value.startswith("attach://")}
    for part, (filename, data) in files.items():
        if part in attached:
            continue
        if part in model.model_fields and part not in params:
            values[part] = BufferedInputFile(data, filename or part)
        else:
            problems.append((part, filename, "an uploaded file that no parameter names"))
    try:
        request = model.model_validate(values, by_name=False)
    except ValidationError as exc:
        return problems + _validation_problems(exc, "")
    # Telegram ignores a parameter it does not know, so a misspelt one fails silently there.
    return problems + list(_strays(request, values, "", typed=False))


def result_problems(returning: Any, result: Any) -> list[Problem]:
    """What in a method's result differs from the type the Bot API documents for it."""
    return value_problems(returning, result, "result")


def value_problems(annotation: Any, value: Any, path: str) -> list[Problem]:
    """What in a JSON value Telegram would never send as `annotation`, strictly."""
    try:
        validated = _adapter(annotation).validate_python(value, by_name=False)
    except ValidationError as exc:
        return _validation_problems(exc, path)
    return list(_strays(validated, value, path, typed=True))[:MAX_PROBLEMS]


@cache
def _adapter(annotation: Any) -> TypeAdapter:
    return TypeAdapter(annotation)


def _read_form_value(model: type[BaseModel], key: str, value: Any) -> Any:
    field = model.model_fields.get(key)
    if not isinstance(value, str) or field is None or _admits_str(field.annotation):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value  # left for the model to refuse, with the value as it came


def _admits_str(annotation: Any) -> bool:
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        return _admits_str(args[0])
    if origin in (typing.Union, types.UnionType):
        return any(_admits_str(arg) for arg in args)
    if origin is typing.Literal:
        return any(isinstance(arg, str) for arg in args)
    return isinstance(annotation, type) and issubclass(annotation, str)


def _strays(value: Any, raw: Any, path: str, typed: bool) -> Iterator[Problem]:
    """Fields the model does not know, walking the validated value beside its raw JSON.

    `typed` also demands JSON types as Telegram sends them (an int, never "5"), and no null:
    Telegram leaves out a field it has no value for.
    """
    if isinstance(value, BaseModel) and isinstance(raw, dict):
        names = _field_names(type(value))
        yield from _missing_tags(type(value), raw, path)
        for key, item in raw.items():
            where = f"{path}.{key}" if path else key
            if key not in names:
                yield where, item, f"no field of {type(value).__name__} in the Bot API"
            else:
                yield from _strays(getattr(value, names[key]), item, where, typed)
    elif isinstance(value, list | tuple) and isinstance(raw, list):
        for index, (item, raw_item) in enumerate(zip(value, raw)):
            yield from _strays(item, raw_item, f"{path}[{index}]", typed)
    elif typed and (problem := _json_type_problem(value, raw)):
        yield path, raw, problem


def _missing_tags(model: type[BaseModel], raw: dict, path: str) -> Iterator[Problem]:
    # aiogram defaults a tag such as ChatMember.status or ReplyKeyboardRemove.remove_keyboard,
    # so it takes an object without one (even as the wrong member of a union); the Bot API
    # requires every tag, and Telegram always sends it.
    for tag in _tags(model):
        if tag not in raw:
            yield f"{path}.{tag}" if path else tag, MISSING, "the Bot API requires this tag"


@cache
def _tags(model: type[BaseModel]) -> tuple[str, ...]:
    return tuple(field.alias or name for name, field in model.model_fields.items()
                 if typing.get_origin(field.annotation) is typing.Literal)


@cache
def _field_names(model: type[BaseModel]) -> dict[str, str]:
    # Telegram's name for each field (aiogram renames a few, such as "from" to from_user).
    return {field.alias or name: name for name, field in model.model_fields.items()}


def _json_type_problem(value: Any, raw: Any) -> str | None:
    if raw is None:
        return "null, which Telegram never sends: it leaves the field out"
    wanted = _json_kind(value)
    if wanted is None:
        return None
    name, kinds = wanted
    if isinstance(raw, kinds) and (bool in kinds or not isinstance(raw, bool)):
        return None
    return f"a {type(raw).__name__} where Telegram sends {name}"


def _json_kind(value: Any) -> tuple[str, tuple[type, ...]] | None:
    if isinstance(value, bool):
        return "a boolean", (bool,)
    if isinstance(value, int):
        return "an integer", (int,)
    if isinstance(value, float):
        return "a number", (int, float)
    if isinstance(value, dt.datetime):
        return "Unix time, an integer", (int,)  # aiogram reads ISO strings too
    return None


def _validation_problems(exc: ValidationError, path: str) -> list[Problem]:
    problems = []
    for error in _matching_branches(exc.errors(include_url=False))[:MAX_PROBLEMS]:
        where = path
        for part in error["loc"]:
            where += f"[{part}]" if isinstance(part, int) else f".{part}" if where else str(part)
        value = MISSING if error["type"] == "missing" else error["input"]
        problems.append((where or "(the request)", value, error["msg"]))
    return problems


def _matching_branches(errors: list[dict]) -> list[dict]:
    """The errors of union members whose tag matched (a ChatMember of the status given).

    pydantic reports every member of a failed union; a member whose literal tag (`status`,
    `type`) differs from the value's is not the one the value meant to be.
    """
    wrong = {_branch(error["loc"]) for error in errors if error["type"] == "literal_error"}
    wrong.discard(())
    kept = [error for error in errors
            if not any(error["loc"][:len(branch)] == branch for branch in wrong)]
    return kept or errors


def _branch(loc: tuple) -> tuple:
    # pydantic names a union member in the path by its class name (capitalised, unlike fields).
    members = [i for i, part in enumerate(loc) if isinstance(part, str) and part[:1].isupper()]
    return loc[:members[-1] + 1] if members else ()


class _Missing:
    def __repr__(self) -> str:
        return "(missing)"


MISSING = _Missing()
