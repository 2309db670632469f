"""``--check``: every image against Telegram's photo limits, the size budget and its metadata."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from .catalog import IMAGES, credit_source
from .collection import SHEET, image_files, load_credits
from .output import MAX_BYTES, MIN_BYTES, MIN_LONG_SIDE
from .sheet import MAX_SHEET_BYTES


def check() -> int:
    """Validate every image against Telegram photo limits and the metadata files."""
    problems = []
    meta = load_credits()
    files = image_files()
    total = 0
    for p in files:
        size = p.stat().st_size
        total += size
        with Image.open(p) as im:
            w, h = im.size
            fmt = im.format
        issues = file_issues(p, w, h, fmt, size) + metadata_issues(p, meta.get(p.name))
        print(f"{'OK ' if not issues else 'BAD'} {p.name:45s} {w}x{h} {size // 1024:4d} KB"
              + ("  " + "; ".join(issues) if issues else ""))
        if issues:
            problems.append(p.name)
    problems += collection_problems({p.name for p in files}, meta)
    print(f"{len(files)} images, {total / 1024 / 1024:.1f} MB, {len(problems)} problem(s)")
    return 1 if problems else 0


def file_issues(p: Path, w: int, h: int, fmt: str, size: int) -> list[str]:
    """What is wrong with the file itself: format, Telegram limits, size budget, name."""
    issues = []
    if fmt != "JPEG":
        issues.append(f"format {fmt}")
    if max(w, h) < MIN_LONG_SIDE:
        issues.append(f"long side {max(w, h)} < {MIN_LONG_SIDE}")
    if w + h > 10000:
        issues.append("width+height > 10000")
    if max(w, h) / min(w, h) > 20:
        issues.append("aspect ratio > 20")
    if size > 10 * 1024 * 1024:
        issues.append("over 10 MB")
    if not (MIN_BYTES <= size <= MAX_BYTES):
        issues.append(f"size {size // 1024} KB outside 80-600 KB")
    if p.name != p.name.lower() or " " in p.name or "_" in p.name:
        issues.append("name is not lowercase kebab-case")
    return issues


def metadata_issues(p: Path, e: dict | None) -> list[str]:
    """What is missing or wrong in the image's metadata entry ``e``."""
    if e is None:
        return ["no metadata entry"]
    issues = []
    for key in ("credit", "license", "source"):
        if not isinstance(e.get(key), str) or not e[key]:
            issues.append(f"missing {key}")
    t = e.get("title", {})
    for lang in ("en", "ru"):
        if not t.get(lang):
            issues.append(f"missing title.{lang}")
        elif len(t[lang]) >= 60:
            issues.append(f"title.{lang} too long")
    stem = p.stem
    if stem in IMAGES and e.get("source") != credit_source(IMAGES[stem].seed):
        issues.append("source/seed does not match generate.py")
    return issues


def collection_problems(names: set[str], meta: dict) -> list[str]:
    """Report metadata without a file, generated images not rendered, an oversized sheet."""
    problems = []
    for k in meta:
        if k not in names:
            print(f"BAD metadata entry without a file: {k}")
            problems.append(k)
    for stem in IMAGES:
        if f"{stem}.jpg" not in names:
            print(f"BAD generated image missing: {stem}.jpg")
            problems.append(stem)
    if SHEET.exists() and SHEET.stat().st_size > MAX_SHEET_BYTES:
        print("BAD contact sheet over 1 MB")
        problems.append(SHEET.name)
    return problems
