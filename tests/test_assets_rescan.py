"""A rescan in a worker thread while the bot fingerprints and discards images meanwhile."""

import sys
import threading
import time

import pytest

from cosmobot.images import assets
from cosmobot.images.assets import AssetLibrary
from tests.factories import make_assets, make_image

NAMES = tuple(f"image-{n:02}.jpg" for n in range(4))


@pytest.fixture
def fast_thread_switches():
    """Let threads take turns every microsecond, so a race shows up within a second."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(before)


def scanned(root):
    library = AssetLibrary(root)
    library.scan()
    return library


def test_a_discard_made_during_a_rescan_is_not_undone_by_it(tmp_path, monkeypatch):
    library = scanned(make_assets(tmp_path, ("a.jpg", "b.jpg", "c.jpg")))
    make_image(tmp_path / "cosmic" / "d.jpg")
    real_probe = assets.photo.probe

    def probe_while_the_bot_discards(path):
        if path.name == "d.jpg":  # the walk found a.jpg fine a moment ago (the new file)
            library.discard("cosmic/a.jpg", "Telegram refused it as a photo")
        return real_probe(path)

    monkeypatch.setattr(assets.photo, "probe", probe_while_the_bot_discards)
    assert library.rescan_if_changed()
    assert library.cosmic_keys == ["cosmic/b.jpg", "cosmic/c.jpg", "cosmic/d.jpg"]
    assert library.rejected == {"cosmic/a.jpg": "Telegram refused it as a photo"}
    monkeypatch.undo()
    library.scan()  # and it stays out until its file changes
    assert "cosmic/a.jpg" not in library.cosmic_keys


def test_a_file_fixed_since_it_was_discarded_is_no_longer_listed_as_rejected(tmp_path):
    library = scanned(make_assets(tmp_path, ("a.jpg", "b.jpg")))
    library.discard("cosmic/b.jpg", "Telegram refused it as a photo")
    make_image(tmp_path / "cosmic" / "b.jpg", size=(80, 60))
    assert library.rescan_if_changed()
    assert library.cosmic_keys == ["cosmic/a.jpg", "cosmic/b.jpg"]
    assert library.rejected == {}  # what `cosmobot check` reports


def test_a_fingerprint_stored_while_a_rescan_tidies_the_map_waits_for_it(tmp_path, monkeypatch):
    library = scanned(make_assets(tmp_path, ("a.jpg",)))
    newcomer = make_image(tmp_path / "elsewhere" / "new.jpg")
    hashing, tidying, stored_meanwhile = threading.Event(), threading.Event(), []
    real_sha256 = assets.files.sha256

    def sha256_done_as_the_rescan_tidies(path):
        if path == newcomer:
            hashing.set()
            tidying.wait(timeout=5)
        return real_sha256(path)

    monkeypatch.setattr(assets.files, "sha256", sha256_done_as_the_rescan_tidies)
    storer = threading.Thread(target=library.fingerprint, args=(newcomer,))

    class HookedPath(type(tmp_path)):
        """A path that, hashed while the rescan tidies the map, lets the storer go on."""

        armed = False

        def __hash__(self):
            if HookedPath.armed:
                HookedPath.armed = False
                tidying.set()
                storer.join(timeout=0.5)  # without the lock, it stores right now
                stored_meanwhile.append(not storer.is_alive())
            return super().__hash__()

    library.fingerprint(HookedPath(tmp_path / "cosmic" / "a.jpg"))
    make_image(tmp_path / "cosmic" / "b.jpg")
    storer.start()
    assert hashing.wait(timeout=5)  # past its look at the map, not yet storing
    HookedPath.armed = True
    assert library.rescan_if_changed()  # "dictionary changed size during iteration" if unsafe
    assert stored_meanwhile == [False]  # the hook ran, and the store waited for the rescan
    storer.join()
    assert library.cached_fingerprint(newcomer) is not None  # stored after it, not lost


def test_rescans_in_a_thread_while_others_fingerprint_and_discard(
    tmp_path, fast_thread_switches
):
    library = scanned(make_assets(tmp_path, NAMES))
    others = [tmp_path / "elsewhere" / f"{n}.bin" for n in range(3000)]
    others[0].parent.mkdir()
    for path in others:
        path.write_bytes(path.name.encode())
    errors, stop = [], threading.Event()

    def hammer(work):
        try:
            while not stop.is_set():
                work()
        except Exception as error:  # reported by the test's thread
            errors.append(error)

    def fingerprint_all():
        # Each rescan forgets these files' fingerprints, so each pass adds them again.
        for path in others:
            library.fingerprint(path)

    def discard_and_rescan():
        library.discard(f"cosmic/{NAMES[0]}", "Telegram refused it as a photo")
        library.scan()

    threads = [threading.Thread(target=hammer, args=(work,))
               for work in (fingerprint_all, fingerprint_all, discard_and_rescan)]
    for thread in threads:
        thread.start()
    time.sleep(1.0)
    stop.set()
    for thread in threads:
        thread.join()
    assert errors == []
    assert library.cosmic_keys == [f"cosmic/{name}" for name in NAMES[1:]]
