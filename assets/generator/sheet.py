"""The contact sheet: a titled thumbnail of every image in the collection."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from .collection import SHEET, image_files, load_credits, title_from_name

PAD = 14       # gap between tiles and around the edge
CAPTION = 44   # room under each tile for two caption lines
TOP = 64       # room for the heading
BACKGROUND = (14, 15, 20)
MAX_SHEET_BYTES = 1_000_000  # keeps the README's preview light

FONT_PATHS = ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
              "/usr/share/fonts/TTF/DejaVuSans.ttf",
              "/usr/share/fonts/dejavu/DejaVuSans.ttf")


def find_font(size: int):
    """DejaVu Sans where a distribution puts it, else Pillow's built-in font."""
    for p in FONT_PATHS:
        if Path(p).exists():
            return ImageFont.truetype(p, size)
    return ImageFont.load_default(size=size)


def contact_sheet(out: Path = SHEET, width: int = 1600, cols: int = 5) -> None:
    """Draw the sheet and save it as a JPEG under MAX_SHEET_BYTES."""
    meta = load_credits()
    files = image_files()
    tw = (width - PAD * (cols + 1)) // cols
    th = int(tw * 0.66)
    font = find_font(15)
    rows = (len(files) + cols - 1) // cols
    sheet = Image.new("RGB", (width, TOP + rows * (th + CAPTION + PAD) + PAD), BACKGROUND)
    d = ImageDraw.Draw(sheet)
    d.text((PAD, 18), f"cosmobot cosmic images ({len(files)})", fill=(225, 228, 235),
           font=find_font(26))
    for i, p in enumerate(files):
        r, c = divmod(i, cols)
        x = PAD + c * (tw + PAD)
        y = TOP + r * (th + CAPTION + PAD)
        entry = meta.get(p.name, {})
        title = entry.get("title", {}).get("en") or title_from_name(p.name)
        draw_tile(sheet, d, p, title, font, (x, y, tw, th))
    save_under_limit(sheet, out)
    print(f"{out.name}: {sheet.size[0]}x{sheet.size[1]}, {out.stat().st_size // 1024} KB")


def draw_tile(sheet, d, path, title, font, box):
    """Paste the thumbnail of ``path`` centred in ``box`` = (x, y, w, h), caption below it."""
    x, y, tw, th = box
    im = Image.open(path).convert("RGB")
    im.thumbnail((tw, th), Image.LANCZOS)
    sheet.paste(im, (x + (tw - im.size[0]) // 2, y + (th - im.size[1]) // 2))
    for k, line in enumerate(wrap(d, title, font, tw)[:2]):
        lw = d.textlength(line, font=font)
        d.text((x + (tw - lw) / 2, y + th + 4 + k * 19), line, fill=(205, 208, 215), font=font)


def save_under_limit(sheet, out: Path) -> None:
    """Save as JPEG, lowering the quality until the file fits MAX_SHEET_BYTES."""
    q = 85
    while True:
        sheet.save(out, "JPEG", quality=q, optimize=True)
        if out.stat().st_size <= MAX_SHEET_BYTES or q <= 50:
            break
        q -= 5


def wrap(d, text, font, width):
    """Split ``text`` into lines no wider than ``width`` (a long word gets a line of its own)."""
    words, lines, cur = text.split(), [], ""
    for wd in words:
        t = (cur + " " + wd).strip()
        if d.textlength(t, font=font) <= width or not cur:
            cur = t
        else:
            lines.append(cur)
            cur = wd
    if cur:
        lines.append(cur)
    return lines
