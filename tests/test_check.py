"""`cosmobot check`: a readable report, and an exit status that tells the truth."""

import sqlite3

import pytest

from cosmobot.cli import ExitStatus, main
from cosmobot.images.assets import AssetLibrary
from tests.factories import TOKEN, make_assets, make_image


@pytest.fixture
def workdir(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COSMOBOT_TOKEN", TOKEN)
    monkeypatch.setenv("COSMOBOT_DATABASE_URL", f"sqlite:///{tmp_path / 'bot.db'}")
    monkeypatch.setenv("COSMOBOT_ASSETS_DIR", str(tmp_path / "assets"))
    monkeypatch.delenv("COSMOBOT_API_URL", raising=False)
    monkeypatch.delenv("COSMOBOT_LOG_LEVEL", raising=False)
    return tmp_path


def test_all_is_well_after_migrate(workdir, capsys):
    make_assets(workdir / "assets", ("a.jpg", "b.png"))
    (workdir / "assets" / "cosmic" / "credits.toml").write_text('["a.jpg"]\ntitle = "A"\n')
    assert main(["migrate"]) == ExitStatus.OK
    assert main(["check"]) == ExitStatus.OK
    out = capsys.readouterr().out
    assert "2 usable" in out and "1 with titles and credits" in out
    assert out.strip().endswith("All is well.")


def test_pending_migrations_and_bad_images_fail(workdir, capsys):
    make_assets(workdir / "assets", ("a.jpg",))
    (workdir / "assets" / "cosmic" / "broken.jpg").write_bytes(b"\xff\xd8 not really")
    sqlite3.connect(workdir / "bot.db").close()  # a database nobody has migrated yet
    assert main(["check"]) == ExitStatus.ERROR
    out = capsys.readouterr().out
    assert "migration(s) pending" in out
    assert "broken.jpg: not a readable image" in out
    assert "2 problem(s) found." in out
    with sqlite3.connect(workdir / "bot.db") as db:
        assert db.execute("SELECT name FROM sqlite_master").fetchall() == []  # only looked


def test_missing_database_file_is_reported_not_created(workdir, capsys):
    make_assets(workdir / "assets")
    assert main(["check"]) == ExitStatus.ERROR
    assert "bot.db does not exist yet" in capsys.readouterr().out
    assert not (workdir / "bot.db").exists()


def test_corrupt_pixels_are_found_by_a_full_decode(workdir, capsys):
    make_image(workdir / "assets" / "cosmic" / "a.jpg")
    # A valid header and a valid end marker, but garbage between: only decoding tells.
    header = make_image(workdir / "x.png", size=(300, 300)).read_bytes()[:60]
    (workdir / "assets" / "cosmic" / "damaged.png").write_bytes(header + b"\x00" * 50 + b"IEND")
    main(["migrate"])
    assert main(["check"]) == ExitStatus.ERROR
    assert "damaged.png: not a readable image" in capsys.readouterr().out


def test_oversized_images_are_noted_not_failed(workdir, capsys):
    make_image(workdir / "assets" / "cosmic" / "huge.jpg", size=(9000, 2000))
    main(["migrate"])
    assert main(["check"]) == ExitStatus.OK
    assert "will be downscaled for upload" in capsys.readouterr().out


def test_no_images_says_where_to_put_them(workdir, capsys):
    main(["migrate"])
    assert main(["check"]) == ExitStatus.ERROR
    assert f"no images in {workdir / 'assets' / 'cosmic'}" in capsys.readouterr().out


def test_missing_token_is_a_configuration_error(workdir, monkeypatch, capsys):
    monkeypatch.delenv("COSMOBOT_TOKEN")
    make_assets(workdir / "assets")
    main(["migrate"])
    assert main(["check"]) == ExitStatus.CONFIG_ERROR
    assert "COSMOBOT_TOKEN is not set" in capsys.readouterr().out


def test_report_masks_a_password_in_the_api_url(workdir, monkeypatch, capsys):
    monkeypatch.setenv("COSMOBOT_API_URL", "http://proxy:apipassw0rd@127.0.0.1:9/bot")
    make_assets(workdir / "assets")
    main(["check"])
    out = capsys.readouterr().out
    assert "http://proxy:[REDACTED]@127.0.0.1:9/bot" in out and "apipassw0rd" not in out


def test_a_cosmic_folder_symlinked_elsewhere_is_checked_like_the_bot_sees_it(workdir, capsys):
    volume = make_assets(workdir / "volume", ("m31.jpg", "m42.jpg")) / "cosmic"
    (workdir / "assets").mkdir()
    (workdir / "assets" / "cosmic").symlink_to(volume, target_is_directory=True)
    main(["migrate"])
    assert main(["check"]) == ExitStatus.OK
    assert "2 usable" in capsys.readouterr().out
    library = AssetLibrary(workdir / "assets")
    assert library.scan() == 2


def test_a_symlink_out_of_the_cosmic_folder_fails_like_the_bot_skips_it(workdir, capsys):
    root = make_assets(workdir / "assets", ("a.jpg",))
    (root / "cosmic" / "escape.jpg").symlink_to(make_image(workdir / "elsewhere.jpg"))
    main(["migrate"])
    assert main(["check"]) == ExitStatus.ERROR
    out = capsys.readouterr().out
    assert "escape.jpg: it points outside" in out and "1 usable" in out
    assert AssetLibrary(root).scan() == 1


def test_any_damage_is_one_fail_line_not_a_traceback(workdir, capsys):
    make_assets(workdir / "assets", ("a.jpg",))
    data = bytearray(make_image(workdir / "assets" / "cosmic" / "b.png").read_bytes())
    data[11] = 5  # "Truncated IHDR chunk": Pillow raises ValueError, not OSError
    (workdir / "assets" / "cosmic" / "b.png").write_bytes(bytes(data))
    main(["migrate"])
    assert main(["check"]) == ExitStatus.ERROR
    out = capsys.readouterr().out
    assert [line for line in out.splitlines() if "FAIL" in line] == [
        f"  FAIL  image: {workdir / 'assets' / 'cosmic' / 'b.png'}: not a readable image "
        "(ValueError: Truncated IHDR chunk); it will be skipped"
    ]
