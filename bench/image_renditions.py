"""How long the image pipeline takes on a large photo, and how much memory it needs.

Usage: .venv/bin/python bench/image_renditions.py [--count 20] [--width 4000] [--height 3000]

Method: --count photo-like JPEGs (make_demo_image with Gaussian grain added, quality 92, like a camera's) are made
first, in a separate process, so that making them does not count towards this process's memory. Then, one at a time,
each goes through clean_image (as an upload) and make_renditions (from the cleaned bytes, at the configured widths),
timed with time.perf_counter. Figures: p50, p95 and mean per image in ms, and this process's peak resident set size
(getrusage ru_maxrss) after Django's setup and after the whole run.
"""

import argparse
import io
import os
import platform
import resource
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MB = 1024 * 1024


def _setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DJANGO_DEBUG", "1")
    import django

    django.setup()


def _make_photo(args: tuple[str, int, int, int]) -> int:
    """Write one photo-like JPEG; runs in a worker process."""
    sys.path.insert(0, str(ROOT))
    from PIL import Image, ImageChops

    from core.images import make_demo_image

    path, width, height, seed = args
    picture = Image.open(io.BytesIO(make_demo_image(width, height, title=f"Benchmark photograph {seed}", seed=seed)))
    grain = Image.merge("RGB", [Image.effect_noise((width, height), 14) for _ in range(3)])
    photo = ImageChops.add(picture.convert("RGB"), grain, scale=1.0, offset=-128)
    photo.save(path, "JPEG", quality=92)
    return os.path.getsize(path)


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _summary(label: str, seconds: list[float]) -> str:
    ms = sorted(s * 1000 for s in seconds)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    return f"{label:<16} p50 {statistics.median(ms):8.1f}   p95 {p95:8.1f}   mean {statistics.fmean(ms):8.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=20)
    parser.add_argument("--width", type=int, default=4000)
    parser.add_argument("--height", type=int, default=3000)
    options = parser.parse_args()

    _setup_django()
    from django.conf import settings
    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import __version__ as pillow_version

    from core.images import clean_image, make_renditions, rendition_widths

    rss_after_setup = _peak_rss_mb()
    clean_times, rendition_times, cleaned_sizes, rendition_bytes = [], [], [], []
    renditions = []
    with tempfile.TemporaryDirectory() as tmp:
        jobs = [(os.path.join(tmp, f"photo-{i}.jpg"), options.width, options.height, i) for i in range(options.count)]
        with ProcessPoolExecutor(max_workers=min(4, os.cpu_count() or 1), mp_context=get_context("spawn")) as pool:
            sizes = list(pool.map(_make_photo, jobs))
        for path, *_ in jobs:  # one photo in memory at a time, as in a worker
            upload = SimpleUploadedFile(os.path.basename(path), Path(path).read_bytes(), content_type="image/jpeg")
            started = time.perf_counter()
            cleaned = clean_image(upload)
            clean_times.append(time.perf_counter() - started)
            started = time.perf_counter()
            renditions = make_renditions(cleaned.content)
            rendition_times.append(time.perf_counter() - started)
            cleaned_sizes.append(len(cleaned.content))
            rendition_bytes.append(sum(len(r.content) for r in renditions))
            del upload, cleaned

    print(
        f"Method: {options.count} photo-like {options.width}x{options.height} JPEGs (demo image + grain, quality 92, "
        f"mean {statistics.fmean(sizes) / MB:.1f} MB) made in a separate process; then in this one, one at a time, "
        f"clean_image on each as an upload and make_renditions on the cleaned bytes (WebP + JPEG at widths "
        f"{rendition_widths()}), timed with perf_counter. Python {platform.python_version()}, Pillow {pillow_version}, "
        f"{os.cpu_count()} CPUs, {settings.SETTINGS_MODULE}."
    )
    print("Per image (ms):")
    print(_summary("clean_image", clean_times))
    print(_summary("make_renditions", rendition_times))
    print(_summary("both", [a + b for a, b in zip(clean_times, rendition_times, strict=True)]))
    print(f"Cleaned original: mean {statistics.fmean(cleaned_sizes) / MB:.2f} MB")
    print(
        f"Renditions: {len(renditions)} files, mean {statistics.fmean(rendition_bytes) / 1024:.0f} KB in all per image"
    )
    print(f"Peak RSS: {rss_after_setup:.0f} MB after Django setup, {_peak_rss_mb():.0f} MB after the run")


if __name__ == "__main__":
    main()
