"""The content hash of an image file, read once however many sends ask for it at once."""

from __future__ import annotations

import asyncio
from pathlib import Path

from cosmobot.images.assets import AssetLibrary

# The hash of each file being read now, for every send that asks meanwhile.
_hashing: dict[Path, asyncio.Future[str]] = {}


async def fingerprint(library: AssetLibrary, path: Path) -> str:
    """The SHA-256 of path's content: the library's cached one, or one read for everyone."""
    cached = library.cached_fingerprint(path)
    if cached is not None:
        return cached
    hashing = _hashing.get(path)
    if hashing is None:
        # A new file version is read whole: off the event loop, and once, not once a send.
        hashing = asyncio.ensure_future(asyncio.to_thread(library.fingerprint, path))
        _hashing[path] = hashing
        hashing.add_done_callback(_hashed)
    # Shielded: a send given up on (a timeout) does not stop the hash the others wait for.
    return await asyncio.shield(hashing)


def reset() -> None:
    """Forget hashes in progress: they belong to the event loop that started them."""
    _hashing.clear()


def _hashed(hashing: asyncio.Future[str]) -> None:
    for path in [path for path, future in _hashing.items() if future is hashing]:
        del _hashing[path]
    if not hashing.cancelled():
        hashing.exception()  # retrieved: a failure every waiter gave up on is not logged
