"""Small builders for test data: image files and an asset folder."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

TOKEN = "123456789:AAHfakeTestTokenForCosmobot0000000000"
OTHER_TOKEN = "987654321:AAHanotherFakeTokenForCosmobot00000000"
# The bots' ids, as Telegram and cosmobot know them: the number before the token's colon.
BOT_ID = int(TOKEN.split(":")[0])
OTHER_BOT_ID = int(OTHER_TOKEN.split(":")[0])


def make_image(path: Path, size: tuple[int, int] = (64, 48), colour=(20, 30, 90), fmt=None) -> Path:
    """Write a small solid-colour image; the format follows the suffix unless fmt is given."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, colour).save(path, fmt)
    return path


def make_assets(root: Path, names: tuple[str, ...] = ("orion.jpg",)) -> Path:
    """Create an assets root with the named images in its cosmic folder."""
    for index, name in enumerate(names):
        make_image(root / "cosmic" / name, colour=(10 + index * 20, 20, 80))
    return root


def seed_opening_with(index: int, count: int) -> int:
    """A shuffle bag's seed whose first round of count images opens with the index-th key.

    Patched in as random.getrandbits, it makes a chat's first pick the key at index among the
    sorted keys (the images are numbered in that order when they are all found at once).
    """
    from cosmobot.storage.shuffle import Shuffle

    return next(seed for seed in range(1, 1000) if Shuffle(seed, 0, count).at(0) == index % count)
