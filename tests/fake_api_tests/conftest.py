"""The fake Bot API's own tests run it with two bots."""

import pytest

from tests.fake_api_tests.client import OTHER, TOKEN
from tests.fakebotapi import FakeBotApi


@pytest.fixture
def fake_api():
    """A fake Bot API serving two bot tokens."""
    with FakeBotApi([TOKEN, OTHER]) as fake:
        yield fake
