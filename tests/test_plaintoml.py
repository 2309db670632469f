"""The sidecar reader: tomllib's answer for every text, without tomllib for plain sidecars."""

import random
import tomllib

import pytest

from cosmobot.images import plaintoml

SIDECAR = (
    '# titles\n'
    '["orion.jpg"]\n'
    'title.en = "Orion Nebula"  # a comment\n'
    'title.ru = "Туманность Ориона"\n'
    'credit = "NASA \\"Hubble\\"\\tteam"\n'
    '\n'
    '[ m31 ]\r\n'
    'title = "Andromeda"\n'
    '[""]\n'
    'source\t.\tx = "tab\tinside"'
)
# Pieces of lines that a text is made of in the property test: mostly what the plain reader
# takes, and now and then what it must leave to tomllib or what tomllib refuses.
TABLES = (['["a.jpg"]', "[a]", '[ "b.jpg" ]', '[""]', "[b-1_X]"],
          ["[a.b]", '["a.jpg"', "[[a]]", "['a.jpg']", '["a\\"b"]'])
KEYS = (["title", "title.en", "title.ru", "title . en", "credit", "source"],
        ['"title"', "a.b.c", "", "x y", "title.'en'"])
VALUES = (['"text"', '"Туманность"', '"q\\"uote"', '"tab\tin"', '"a\\\\b"', '"\\n\\r\\t"', '""'],
          ['"\\u00e9"', '"\\x41"', '"\\e"', "'lit'", '"""multi"""', "1", "true", '"bad\x01"',
           '"\\ud800"', '"open'])
TAILS = (["", " # note", "  ", "\t#"], ["#\x7f", " x", "#\x00"])


def pick(rng, pieces):
    valid, other = pieces
    return rng.choice(other if rng.random() < 0.04 else valid)


def random_text(rng):
    lines = []
    for _ in range(rng.randrange(9)):
        if rng.random() < 0.3:
            body = pick(rng, TABLES)
        else:
            body = pick(rng, KEYS) + rng.choice(["=", " = ", "\t=\t"]) + pick(rng, VALUES)
        lines.append(rng.choice(["", " "]) + body + pick(rng, TAILS))
    newline = rng.choice(["\n", "\r\n"])
    return newline.join(lines) + rng.choice(["", newline])


def parsed(text):
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return "error"


def test_a_plain_sidecar_is_read_without_tomllib(monkeypatch):
    expected = tomllib.loads(SIDECAR)

    def refuse(text):
        raise AssertionError("tomllib was asked for a plain sidecar")

    monkeypatch.setattr(plaintoml.tomllib, "loads", refuse)
    assert plaintoml.loads(SIDECAR) == expected
    assert expected["orion.jpg"]["credit"] == 'NASA "Hubble"\tteam'


@pytest.mark.parametrize("text", [
    '["a.jpg"]\ntitle = "x"\ntitle = "y"\n',  # a key set twice
    '["a.jpg"]\ntitle = "x"\n["a.jpg"]\n',  # a table defined twice
    '["a.jpg"]\ntitle = "x"\ntitle.en = "y"\n',  # a string made a table
    '["a.jpg"]\ntitle.en = "y"\ntitle = "x"\n',  # a table made a string
    '["a.jpg"]\ntitle.en = "y"\ntitle.en = "z"\n',
    '["a.jpg"]\ncredit = "bad\x01control"\n',
    '["a.jpg"]\ncredit = "line\rbreak"\n',
    '["a.jpg"]\ncredit = "\\e"\n',
    '["a.jpg"]\ncredit = "\\ud800"\n',
    '["a.jpg"] # \x7f\n',
])
def test_what_tomllib_refuses_is_refused_as_tomllib_says(text):
    with pytest.raises(tomllib.TOMLDecodeError):
        tomllib.loads(text)
    with pytest.raises(tomllib.TOMLDecodeError):
        plaintoml.loads(text)


@pytest.mark.parametrize("text", [
    'credit = "top level"\n["a.jpg"]\ntitle = "x"\n',
    '["a.jpg"]\ncredit = "\\u00e9\\U0001F30C"\n',
    "['a.jpg']\ntitle = 'literal'\nyear = 2026\n",
    '[a.b]\nc = "d"\n',
])
def test_what_is_not_plain_is_read_by_tomllib(text):
    assert plaintoml.loads(text) == tomllib.loads(text)


@pytest.mark.parametrize("seed", range(4))
def test_any_text_reads_as_tomllib_reads_it(seed):
    rng = random.Random(seed)
    plain = 0
    for _ in range(1000):
        text = random_text(rng)
        try:
            ours = plaintoml.loads(text)
        except tomllib.TOMLDecodeError:
            ours = "error"
        assert ours == parsed(text), text
        plain += ours != "error" and _is_plain(text)
    assert plain > 50  # many texts were the plain reader's own, not only tomllib's


def _is_plain(text):
    try:
        return bool(plaintoml._plain(text))
    except plaintoml._NotPlain:
        return False
