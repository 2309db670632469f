"""A fast reader for the plain TOML the title sidecars are written in, tomllib for the rest.

tomllib reads a 10,000-image sidecar in about a third of a second, most of a start-up scan.
The sidecars hold only tables of one key (`["name.jpg"]`) with keys or dotted keys set to
one-line strings. This reader takes exactly that subset and gives what tomllib would; for
any other text (another value type, an escape it does not know, a key set twice) it returns
None and the caller asks tomllib, which reads it or says what is wrong.
"""

from __future__ import annotations

import re
import tomllib

_BARE = r"[A-Za-z0-9_-]+"
# A basic string on one line: no quote, backslash or control character but tab, or an escape
# whose meaning JSON and TOML share. \u and \U are left to tomllib (it refuses surrogates).
_STRING = r'"(?:[^"\\\x00-\x08\x0a-\x1f\x7f]|\\["\\btnfr])*"'
_COMMENT = r"(?:\#[^\x00-\x08\x0a-\x1f\x7f]*)?"
_LINE = re.compile(
    rf"""[ \t]*(?:
        \[[ \t]*(?:(?P<bare_table>{_BARE})|(?P<table>{_STRING}))[ \t]*\]
      | (?P<key>{_BARE})(?:[ \t]*\.[ \t]*(?P<subkey>{_BARE}))?[ \t]*=[ \t]*(?P<value>{_STRING})
    )?[ \t]*{_COMMENT}(?:\r?\n|\Z)""",
    re.VERBOSE,
)
_ESCAPES = {'"': '"', "\\": "\\", "b": "\b", "t": "\t", "n": "\n", "f": "\f", "r": "\r"}
_ESCAPE = re.compile(r"\\(.)")


class _NotPlain(Exception):
    """The text leaves the plain subset: tomllib must read it."""


def loads(text: str) -> dict:
    """Parse TOML text as tomllib.loads does (and raise what it raises), faster when plain."""
    try:
        return _plain(text)
    except _NotPlain:
        return tomllib.loads(text)


def _plain(text: str) -> dict:
    document: dict[str, dict] = {}
    table: dict | None = None
    position, end = 0, len(text)
    while position < end:
        line = _LINE.match(text, position)
        if line is None or line.end() == position:
            raise _NotPlain
        position = line.end()
        if line["value"] is not None:
            if table is None:  # keys before the first table: left to tomllib
                raise _NotPlain
            _set(table, line["key"], line["subkey"], _string(line["value"]))
        elif line["bare_table"] is not None or line["table"] is not None:
            name = line["bare_table"] or _string(line["table"])
            if name in document:
                raise _NotPlain  # a table defined twice
            table = document[name] = {}
    return document


def _set(table: dict, key: str, subkey: str | None, value: str) -> None:
    if subkey is None:
        if key in table:
            raise _NotPlain
        table[key] = value
        return
    inner = table.setdefault(key, {})
    if not isinstance(inner, dict) or subkey in inner:
        raise _NotPlain
    inner[subkey] = value


def _string(quoted: str) -> str:
    inner = quoted[1:-1]
    return _ESCAPE.sub(lambda escape: _ESCAPES[escape[1]], inner) if "\\" in inner else inner
