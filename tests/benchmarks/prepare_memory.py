"""Benchmark: peak memory and time of preparing a huge image for upload, in a bot-sized process.

Usage:
    python -m tests.benchmarks.prepare_memory [--code PATH] [--keep DIR]

Builds a 144-megapixel palette PNG (about half a megabyte) and an 81-megapixel RGB PNG with
some noise, then runs `photo.prepare_upload` on each in a fresh process that first imports
`cosmobot.bot.app`, so the figure is the whole bot's size. `--code` points at another checkout
(a `git worktree` of an older commit, say) to measure its code instead.

Peak memory is the process's VmHWM from /proc: `ru_maxrss` would also count the memory of
the parent that spawned it (Linux carries it over exec), and pytest is large.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image

REPO_ROOT = Path(__file__).resolve().parent.parent.parent
# Runs in the child: import the bot, then prepare one image and report.
MEASURE = """
import json, resource, sys, time
from pathlib import Path
import cosmobot.bot.app
from cosmobot.images import photo

def peak_mb():
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

baseline = peak_mb()
started = time.perf_counter()
data = photo.prepare_upload(Path(sys.argv[1]))
seconds = time.perf_counter() - started
print(json.dumps({"baseline_mb": baseline, "peak_mb": peak_mb(), "seconds": seconds,
                  "output_bytes": len(data)}))
"""


def make_palette_png(path: Path, side: int = 12_000) -> Path:
    """A false-colour palette PNG of side x side pixels: small on disk, huge decoded."""
    gradient = Image.linear_gradient("L").resize((side, side), Image.Resampling.BILINEAR)
    patches = Image.effect_noise((16, 16), 40).resize((side, side), Image.Resampling.NEAREST)
    picture = Image.blend(gradient, patches, 0.3).convert("P")
    picture.putpalette([value for i in range(256) for value in (i, i // 2, 255 - i)])
    picture.save(path, compress_level=9)
    return path


def make_rgb_png(path: Path, side: int = 9_000) -> Path:
    """An RGB PNG with smooth colour and sensor-like noise, quick to make."""
    smooth = [
        Image.linear_gradient("L").rotate(angle).resize((side, side), Image.Resampling.BILINEAR)
        for angle in (0, 90, 45)
    ]
    noise = Image.effect_noise((side, side), 24)
    channels = [Image.blend(channel, noise, 0.2) for channel in smooth]
    del smooth, noise
    Image.merge("RGB", channels).save(path, compress_level=1)
    return path


def measure(image: Path, code: Path = REPO_ROOT) -> dict:
    """Prepare image in a fresh bot-sized process running code; return its figures."""
    env = {**os.environ, "PYTHONPATH": str(code), "PYTHONWARNINGS": "ignore"}
    result = subprocess.run(
        [sys.executable, "-c", MEASURE, str(image)],
        env=env, cwd=code, capture_output=True, text=True, check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"measuring {image} failed:\n{result.stderr}")
    return json.loads(result.stdout.splitlines()[-1])


def report(rows: list[tuple[str, Path, dict]], code: Path) -> None:
    print(f"code: {code}")
    print(f"{'image':<28} {'file':>9} {'bot before':>11} {'peak RSS':>9} {'time':>7} {'upload':>9}")
    for name, path, figures in rows:
        print(f"{name:<28} {path.stat().st_size / 1024:>6.0f} KB "
              f"{figures['baseline_mb']:>8.0f} MB {figures['peak_mb']:>6.0f} MB "
              f"{figures['seconds']:>6.2f}s {figures['output_bytes'] / 1024:>6.0f} KB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--code", type=Path, default=REPO_ROOT, help="checkout to measure")
    parser.add_argument("--keep", type=Path, help="build the images here and keep them")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        palette, rgb = folder / "palette-144mp.png", folder / "rgb-81mp.png"
        if not palette.exists():
            make_palette_png(palette)
        if not rgb.exists():
            make_rgb_png(rgb)
        rows = [(name, path, measure(path, args.code.resolve())) for name, path in (
            ("144 MP palette PNG", palette), ("81 MP RGB PNG", rgb))]
        report(rows, args.code.resolve())


if __name__ == "__main__":
    main()
