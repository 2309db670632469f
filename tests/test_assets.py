"""The image library: scanning, key safety, fingerprints, rescans and metadata."""

import os
from pathlib import PurePosixPath

import pytest
from PIL import Image

from cosmobot.images import assets, metadata, photo
from cosmobot.images.assets import AssetLibrary
from cosmobot.images.metadata import ImageMeta
from tests.factories import make_assets, make_image
from tests.test_photo import bomb_png


def scanned(root):
    library = AssetLibrary(root)
    library.scan()
    return library


def test_scan_finds_images_recursively_with_posix_keys(tmp_path):
    make_assets(tmp_path, ("orion.jpg", "deep/sky/m31.png", "ring.webp"))
    assert scanned(tmp_path).cosmic_keys == [
        "cosmic/deep/sky/m31.png", "cosmic/orion.jpg", "cosmic/ring.webp",
    ]


def test_bad_files_are_skipped_with_one_warning_each(tmp_path, log_lines):
    make_assets(tmp_path, ("good.jpg",))
    cosmic = tmp_path / "cosmic"
    (cosmic / "notes.txt").write_text("not a picture")
    (cosmic / "empty.jpg").write_bytes(b"")
    (cosmic / "credits.toml").write_text("")
    (cosmic / ".hidden.jpg").write_text("junk")
    library = scanned(tmp_path)
    assert library.cosmic_keys == ["cosmic/good.jpg"]
    make_image(cosmic / "new.jpg")
    assert library.rescan_if_changed()  # a rescan must not repeat the warnings
    warnings = [line for line in log_lines if line.startswith("WARNING")]
    assert len(warnings) == 2
    for name in ("notes.txt", "empty.jpg"):
        assert sum(name in line for line in warnings) == 1


def test_discarded_image_stays_out_until_its_file_changes(tmp_path, log_lines):
    library = scanned(make_assets(tmp_path, ("a.jpg", "b.jpg")))
    library.discard("cosmic/b.jpg", "Telegram refused it")
    assert library.cosmic_keys == ["cosmic/a.jpg"]
    library.scan()
    assert library.cosmic_keys == ["cosmic/a.jpg"]
    assert sum("Telegram refused it" in line for line in log_lines) == 1
    make_image(tmp_path / "cosmic" / "b.jpg", size=(80, 60))  # replaced by a new file
    library.scan()
    assert library.cosmic_keys == ["cosmic/a.jpg", "cosmic/b.jpg"]


def test_unreadable_file_is_skipped(tmp_path, monkeypatch):
    make_assets(tmp_path, ("a.jpg", "b.jpg"))
    real_open = photo.Image.open

    def open_or_deny(path, *args, **kwargs):
        # chmod cannot lock out root, who runs CI; so deny the read the way the OS would.
        if str(getattr(path, "name", path)).endswith("b.jpg"):  # a path or an open file
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(photo.Image, "open", open_or_deny)
    assert scanned(tmp_path).cosmic_keys == ["cosmic/a.jpg"]


def test_missing_folder_means_no_images_and_a_hint(tmp_path, log_lines):
    library = scanned(tmp_path / "nowhere")
    assert library.cosmic_keys == []
    assert library.random_cosmic_key() is None
    assert any("put .jpg, .png or .webp files in" in line for line in log_lines)


@pytest.mark.parametrize(
    "key",
    ["../secret.jpg", "cosmic/../../secret.jpg", "/etc/passwd", "cosmic\\..\\x.jpg", "",
     "cosmic/missing.jpg", "cosmic"],
)
def test_unsafe_or_missing_keys_resolve_to_none(tmp_path, key):
    make_image(tmp_path / "secret.jpg")
    root = make_assets(tmp_path / "assets")
    assert AssetLibrary(root).resolve(key) is None


def test_symlink_pointing_outside_the_root_is_refused(tmp_path):
    outside = make_image(tmp_path / "outside.jpg")
    root = make_assets(tmp_path / "assets", ("inside.jpg",))
    (root / "cosmic" / "escape.jpg").symlink_to(outside)
    library = scanned(root)
    assert library.resolve("cosmic/escape.jpg") is None
    assert library.cosmic_keys == ["cosmic/inside.jpg"]


def test_symlink_inside_the_root_is_fine(tmp_path):
    root = make_assets(tmp_path, ("inside.jpg",))
    (root / "cosmic" / "alias.jpg").symlink_to(root / "cosmic" / "inside.jpg")
    assert scanned(root).resolve("cosmic/alias.jpg") == (root / "cosmic" / "inside.jpg").resolve()


def test_random_key_avoids_the_previous_one_when_it_can(tmp_path):
    library = scanned(make_assets(tmp_path, ("a.jpg", "b.jpg")))
    assert {library.random_cosmic_key(exclude="cosmic/a.jpg") for _ in range(20)} == {
        "cosmic/b.jpg"
    }
    only = scanned(make_assets(tmp_path / "one", ("solo.jpg",)))
    assert only.random_cosmic_key(exclude="cosmic/solo.jpg") == "cosmic/solo.jpg"


def test_rescan_notices_added_and_removed_files(tmp_path):
    library = scanned(make_assets(tmp_path, ("a.jpg",)))
    assert library.rescan_if_changed() is False
    make_image(tmp_path / "cosmic" / "b.jpg")
    assert library.rescan_if_changed() is True
    assert library.cosmic_keys == ["cosmic/a.jpg", "cosmic/b.jpg"]
    (tmp_path / "cosmic" / "a.jpg").unlink()
    assert library.rescan_if_changed() is True
    assert library.cosmic_keys == ["cosmic/b.jpg"]


def test_fingerprint_follows_the_content(tmp_path):
    library = scanned(make_assets(tmp_path, ("a.jpg",)))
    path = tmp_path / "cosmic" / "a.jpg"
    before = library.fingerprint(path)
    assert before == library.fingerprint(path)
    make_image(path, colour=(250, 0, 0))
    os.utime(path, ns=(1, 1))  # a different mtime, as any rewrite gives
    assert library.fingerprint(path) != before


def test_metadata_comes_from_every_toml_sidecar(tmp_path, log_lines):
    make_assets(tmp_path, ("orion.jpg", "mine.jpg", "plain_old-file.jpg"))
    cosmic = tmp_path / "cosmic"
    (cosmic / "credits.toml").write_text(
        '["orion.jpg"]\ntitle.en = "Orion Nebula"\ntitle.ru = "Туманность Ориона"\n'
        'credit = "NASA"\nlicense = "Public domain"\nsource = "Hubble"\n',
        encoding="utf-8",
    )
    (cosmic / "my-images.toml").write_text('["mine.jpg"]\ntitle = "My sky"\n')
    (cosmic / "broken.toml").write_text("[[[ nope")
    library = scanned(tmp_path)
    assert library.metadata("cosmic/orion.jpg").title("ru") == "Туманность Ориона"
    assert library.metadata("cosmic/orion.jpg").credit == "NASA"
    assert library.metadata("cosmic/mine.jpg").title("ru") == "My sky"
    assert library.metadata("cosmic/plain_old-file.jpg") == ImageMeta(
        titles={"en": "Plain old file"}
    )
    assert library.has_metadata("cosmic/orion.jpg")
    assert not library.has_metadata("cosmic/plain_old-file.jpg")
    assert sum("broken.toml" in line for line in log_lines) == 1


def test_metadata_added_while_running_is_picked_up(tmp_path):
    library = scanned(make_assets(tmp_path, ("orion.jpg",)))
    assert library.metadata("cosmic/orion.jpg").title("en") == "Orion"
    (tmp_path / "cosmic" / "mine.toml").write_text('["orion.jpg"]\ntitle = "The Hunter"\n')
    assert library.rescan_if_changed()
    assert library.metadata("cosmic/orion.jpg").title("en") == "The Hunter"


def test_paths_too_long_for_the_cache_are_skipped(tmp_path, log_lines):
    make_assets(tmp_path, ("ok.jpg", "x" * 250 + ".jpg"))
    assert scanned(tmp_path).cosmic_keys == ["cosmic/ok.jpg"]
    assert any("longer than 255 characters" in line for line in log_lines)


def replace_in_place(path, image, mtime_ns):
    image.save(path, "BMP")
    os.utime(path, ns=(mtime_ns, mtime_ns))


def test_rescan_notices_a_file_replaced_with_the_same_size(tmp_path):
    path = tmp_path / "cosmic" / "a.bmp"
    path.parent.mkdir()
    replace_in_place(path, Image.new("RGB", (64, 48)), 10**18)
    library = scanned(tmp_path)
    replace_in_place(path, Image.new("RGB", (48, 64)), 2 * 10**18)  # same byte count
    assert path.stat().st_size == library.get("cosmic/a.bmp").probe.size_bytes
    assert library.rescan_if_changed()
    assert library.get("cosmic/a.bmp").probe.width == 48


def test_rescan_notices_a_file_replaced_with_another_size(tmp_path):
    path = tmp_path / "cosmic" / "a.bmp"
    path.parent.mkdir()
    replace_in_place(path, Image.new("RGB", (64, 48)), 10**18)
    library = scanned(tmp_path)
    replace_in_place(path, Image.new("RGB", (80, 48)), 10**18)  # same mtime
    assert library.rescan_if_changed()
    assert library.get("cosmic/a.bmp").probe.width == 80


def test_an_image_over_the_decompression_bomb_limit_is_skipped(tmp_path, log_lines):
    make_assets(tmp_path, ("good.jpg",))
    bomb_png(tmp_path / "cosmic" / "bomb.png", 20_000, 20_000)
    assert scanned(tmp_path).cosmic_keys == ["cosmic/good.jpg"]
    assert any("bomb.png" in line and "too large" in line for line in log_lines)


def test_a_damaged_file_never_stops_a_scan_and_new_images_still_come(tmp_path, log_lines):
    make_assets(tmp_path, ("good.jpg",))
    damaged = make_image(tmp_path / "cosmic" / "damaged.png")
    data = bytearray(damaged.read_bytes())
    data[11] = 5  # "Truncated IHDR chunk": a ValueError inside Pillow
    damaged.write_bytes(bytes(data))
    library = scanned(tmp_path)
    assert library.cosmic_keys == ["cosmic/good.jpg"]
    make_image(tmp_path / "cosmic" / "later.jpg")
    assert library.rescan_if_changed()
    assert library.cosmic_keys == ["cosmic/good.jpg", "cosmic/later.jpg"]
    assert sum("damaged.png" in line for line in log_lines) == 1


def test_a_scan_that_failed_is_tried_again_at_the_next_rescan(tmp_path, monkeypatch):
    library = scanned(make_assets(tmp_path, ("a.jpg",)))
    make_image(tmp_path / "cosmic" / "b.jpg")

    def broken(sidecars, folder):
        raise RuntimeError("disk hiccup")

    monkeypatch.setattr(metadata.Sidecars, "load", broken)
    with pytest.raises(RuntimeError):
        library.rescan_if_changed()
    monkeypatch.undo()
    assert library.rescan_if_changed()
    assert library.cosmic_keys == ["cosmic/a.jpg", "cosmic/b.jpg"]


def test_memory_follows_the_files_not_their_versions(tmp_path):
    library = scanned(make_assets(tmp_path, ("a.jpg",)))
    path, bad = tmp_path / "cosmic" / "a.jpg", tmp_path / "cosmic" / "bad.jpg"
    for version in range(1, 30):
        make_image(path, colour=(version, 0, 0))
        os.utime(path, ns=(version, version))
        bad.write_text("junk " * version)
        library.fingerprint(library.resolve("cosmic/a.jpg"))
        library.rescan_if_changed()
    assert len(library._fingerprints) == 1
    assert list(library._rejected) == ["cosmic/bad.jpg"]
    path.unlink()
    bad.unlink()
    library.rescan_if_changed()
    assert library._fingerprints == {} and library._rejected == {}


def test_the_cosmic_folder_may_be_a_symlink_to_a_folder_elsewhere(tmp_path):
    volume = make_assets(tmp_path / "volume", ("m31.jpg",)) / "cosmic"
    root = tmp_path / "assets"
    root.mkdir()
    (root / "cosmic").symlink_to(volume, target_is_directory=True)
    library = scanned(root)
    assert library.cosmic_keys == ["cosmic/m31.jpg"]
    assert library.resolve("cosmic/m31.jpg") == (volume / "m31.jpg").resolve()


def test_a_symlink_out_of_the_cosmic_folder_is_skipped_even_inside_the_root(tmp_path, log_lines):
    root = make_assets(tmp_path, ("inside.jpg",))
    (root / "cosmic" / "escape.jpg").symlink_to(make_image(root / "private.jpg"))
    library = scanned(root)
    assert library.cosmic_keys == ["cosmic/inside.jpg"]
    assert library.resolve("cosmic/escape.jpg") is None
    assert any("escape.jpg: it points outside" in line for line in log_lines)


def test_a_symlink_loop_is_skipped(tmp_path):
    root = make_assets(tmp_path, ("inside.jpg",))
    (root / "cosmic" / "loop.jpg").symlink_to(root / "cosmic" / "loop.jpg")
    library = scanned(root)
    assert library.cosmic_keys == ["cosmic/inside.jpg"]
    assert library.resolve("cosmic/loop.jpg") is None


def test_a_file_turned_into_a_symlink_after_the_scan_resolves_anew(tmp_path):
    root = make_assets(tmp_path, ("inside.jpg", "escape.jpg"))
    library = scanned(root)
    escape = root / "cosmic" / "escape.jpg"
    escape.unlink()
    escape.symlink_to(make_image(tmp_path / "private.jpg"))
    alias = root / "cosmic" / "inside.jpg"
    alias.rename(root / "cosmic" / "moved.jpg")
    alias.symlink_to(root / "cosmic" / "moved.jpg")
    assert library.resolve("cosmic/escape.jpg") is None
    assert library.resolve("cosmic/inside.jpg") == (root / "cosmic" / "moved.jpg").resolve()


def test_a_file_deleted_after_the_scan_resolves_to_none(tmp_path):
    root = make_assets(tmp_path, ("gone.jpg",))
    library = scanned(root)
    (root / "cosmic" / "gone.jpg").unlink()
    assert library.resolve("cosmic/gone.jpg") is None


def test_a_scan_without_headers_leaves_bad_files_to_the_header_check(tmp_path, log_lines):
    make_assets(tmp_path, ("good.jpg", "later.jpg"))
    (tmp_path / "cosmic" / "empty.jpg").write_bytes(b"")
    library = AssetLibrary(tmp_path)
    library.scan(headers=False)
    assert library.cosmic_keys == ["cosmic/empty.jpg", "cosmic/good.jpg", "cosmic/later.jpg"]
    assert library.get("cosmic/good.jpg").probe is None
    assert library.check_headers() == 2
    assert library.cosmic_keys == ["cosmic/good.jpg", "cosmic/later.jpg"]
    assert library.get("cosmic/good.jpg").probe.width == 64
    library.scan()  # the bad file stays out, and is not warned about again
    assert library.check_headers() == 0
    assert sum("empty.jpg" in line for line in log_lines if line.startswith("WARNING")) == 1


def test_a_header_check_keeps_what_a_rescan_found_meanwhile(tmp_path, monkeypatch):
    make_assets(tmp_path, ("a.jpg",))
    library = AssetLibrary(tmp_path)
    library.scan(headers=False)
    real_probe = photo.probe

    def probe_while_the_file_is_replaced(path):
        found = real_probe(path)
        if found.width == 64:  # the old file: a rescan reads the new one meanwhile
            make_image(tmp_path / "cosmic" / "a.jpg", size=(80, 60))
            library.rescan_if_changed()
        return found

    monkeypatch.setattr(photo, "probe", probe_while_the_file_is_replaced)
    library.check_headers()
    assert library.get("cosmic/a.jpg").probe.width == 80


def test_a_rescan_reads_the_headers_of_new_and_changed_files_only(tmp_path, monkeypatch):
    library = scanned(make_assets(tmp_path, ("a.jpg", "b.jpg", "c.jpg")))
    probed = []
    real_probe = photo.probe
    monkeypatch.setattr(photo, "probe", lambda path: probed.append(path.name) or real_probe(path))
    make_image(tmp_path / "cosmic" / "d.jpg")
    make_image(tmp_path / "cosmic" / "b.jpg", size=(80, 60))
    assert library.rescan_if_changed()
    assert sorted(probed) == ["b.jpg", "d.jpg"]
    assert library.get("cosmic/b.jpg").probe.width == 80


def test_a_header_check_never_drops_a_file_fixed_meanwhile(tmp_path, monkeypatch):
    (tmp_path / "cosmic").mkdir()
    (tmp_path / "cosmic" / "a.jpg").write_text("not a picture yet")
    library = AssetLibrary(tmp_path)
    library.scan(headers=False)
    real_probe = photo.probe
    fixed = []

    def probe_while_the_file_is_fixed(path):
        if not fixed:  # the check reads the bad file; a rescan then finds it fixed
            fixed.append(make_image(tmp_path / "cosmic" / "a.jpg"))
            assert library.rescan_if_changed()
            raise photo.ImageError("cannot identify image file")
        return real_probe(path)

    monkeypatch.setattr(photo, "probe", probe_while_the_file_is_fixed)
    library.check_headers()
    assert library.cosmic_keys == ["cosmic/a.jpg"] and library.rejected == {}


def test_a_sidecar_is_read_again_only_when_it_changes(tmp_path, monkeypatch, log_lines):
    library = scanned(make_assets(tmp_path, ("orion.jpg",)))
    cosmic = tmp_path / "cosmic"
    sidecar = cosmic / "mine.toml"
    sidecar.write_text('["orion.jpg"]\ntitle = "The Hunter"\n')
    (cosmic / "broken.toml").write_text("[[[ nope")
    reads = []
    real_loads = metadata.rtoml.loads
    monkeypatch.setattr(metadata.rtoml, "loads",
                        lambda text: reads.append(text) or real_loads(text))
    assert library.rescan_if_changed() and len(reads) == 2
    make_image(cosmic / "new.jpg")
    assert library.rescan_if_changed() and len(reads) == 2  # the sidecars are as they were
    assert library.metadata("cosmic/orion.jpg").title("en") == "The Hunter"
    sidecar.write_text('["orion.jpg"]\ntitle = "The Archer"\n')  # the same size
    os.utime(sidecar, ns=(1, 1))
    assert library.rescan_if_changed() and len(reads) == 3
    assert library.metadata("cosmic/orion.jpg").title("en") == "The Archer"
    assert sum("broken.toml" in line for line in log_lines) == 1  # once for its one version
    sidecar.unlink()
    assert library.rescan_if_changed()
    assert library.metadata("cosmic/orion.jpg").title("en") == "Orion"


def test_many_entries_share_one_string_for_a_credit(tmp_path):
    make_assets(tmp_path, ("a.jpg", "b.jpg"))
    entry = '["{}"]\ntitle = "{}"\ncredit = "NASA"\nlicense = "Public domain"\n'
    text = entry.format("a.jpg", "A") + entry.format("b.jpg", "B")
    (tmp_path / "cosmic" / "t.toml").write_text(text)
    library = scanned(tmp_path)
    first, second = library.metadata("cosmic/a.jpg"), library.metadata("cosmic/b.jpg")
    assert (first.credit, first.license) == ("NASA", "Public domain")
    assert first.credit is second.credit and first.license is second.license


def test_hidden_and_symlinked_folders_are_not_entered(tmp_path, log_lines):
    root = make_assets(tmp_path / "assets", ("deep/m31.jpg",))
    cosmic = root / "cosmic"
    make_image(cosmic / ".thumbnails" / "m31.jpg")
    make_image(tmp_path / "elsewhere" / "m42.jpg")
    (cosmic / "linked").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    (cosmic / "again").symlink_to(cosmic / "deep", target_is_directory=True)
    (cosmic / "deep" / "notes.md").write_text("# my images")
    library = scanned(root)
    assert library.cosmic_keys == ["cosmic/deep/m31.jpg"]
    assert library.rejected == {}
    assert not [line for line in log_lines if line.startswith("WARNING")]


@pytest.mark.parametrize("key", [
    "cosmic/a.jpg", "cosmic/deep/a.jpg", "cosmic", "cosmic/../a.jpg", "cosmic/./a.jpg",
    "cosmic//a.jpg", "cosmic/a/..", "./cosmic/a.jpg", "/cosmic/a.jpg", "other/a.jpg",
    "cosmic/..", "cosmic/a\\b.jpg", "", "cosmicx/a.jpg", "cosmic/.hidden/a.jpg",
])
def test_the_quick_key_check_agrees_with_the_full_one(key):
    pure = PurePosixPath(key)
    full = "\\" in key or pure.is_absolute() or ".." in pure.parts or pure.parts[:1] != ("cosmic",)
    assert assets._unsafe(key) == full
