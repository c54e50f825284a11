"""Charts drawn on the server as SVG: no script, nothing from another site, readable without colour."""

from datetime import datetime, timedelta

from django.utils.formats import date_format, number_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 12, 28


def _buckets(series: list[tuple[datetime, int]]) -> tuple[list[tuple[datetime, int]], str]:
    """Hourly counts as they are for up to three days; by day beyond that (a month is 30 bars, not 720)."""
    if not series:
        return [], "hour"
    span = series[-1][0] - series[0][0]
    if span <= timedelta(hours=72):
        start, end = series[0][0], series[-1][0]
        by_hour = dict(series)
        hours = int((end - start) / timedelta(hours=1)) + 1
        return [(start + timedelta(hours=i), by_hour.get(start + timedelta(hours=i), 0)) for i in range(hours)], "hour"
    days: dict = {}
    for hour, count in series:
        day = hour.replace(hour=0)
        days[day] = days.get(day, 0) + count
    start, end = min(days), max(days)
    total_days = (end - start).days + 1
    return [(start + timedelta(days=i), days.get(start + timedelta(days=i), 0)) for i in range(total_days)], "day"


def signatures_chart_svg(series: list[tuple[datetime, int]], *, title: str) -> SafeString:
    """Bars of new signatures per hour or day, and a line of the running total, with labelled axes."""
    buckets, unit = _buckets(series)
    if not buckets:
        return mark_safe("")
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    peak = max(max(count for _, count in buckets), 1)
    total = sum(count for _, count in buckets)
    step = plot_w / len(buckets)
    bars, points, running = [], [], 0
    for i, (when, count) in enumerate(buckets):
        running += count
        height = plot_h * count / peak
        x = LEFT + i * step
        label = date_format(when, "j M H:i" if unit == "hour" else "j M Y")
        bars.append((f"{x + step * 0.1:.1f}", f"{TOP + plot_h - height:.1f}", f"{max(step * 0.8, 0.5):.1f}",
                     f"{height:.1f}", f"{label}: {number_format(count, force_grouping=True)}"))  # fmt: skip
        points.append(f"{x + step / 2:.1f},{TOP + plot_h - plot_h * running / max(total, 1):.1f}")
    first, last = buckets[0][0], buckets[-1][0]
    fmt = "j M H:i" if unit == "hour" else "j M"
    return format_html(
        '<svg class="chart" viewBox="0 0 {w} {h}" role="img" aria-labelledby="chart-title chart-desc">'
        '<title id="chart-title">{title}</title>'
        '<desc id="chart-desc">{desc}</desc>'
        '<line class="chart__axis" x1="{l}" y1="{base}" x2="{r}" y2="{base}"></line>'
        '<line class="chart__axis" x1="{l}" y1="{t}" x2="{l}" y2="{base}"></line>'
        '<text class="chart__label" x="{lx}" y="{ty}" text-anchor="end">{peak}</text>'
        '<text class="chart__label" x="{lx}" y="{base}" text-anchor="end">0</text>'
        '<text class="chart__label" x="{l}" y="{by}">{first}</text>'
        '<text class="chart__label" x="{r}" y="{by}" text-anchor="end">{last}</text>'
        "{bars}"
        '<polyline class="chart__line" points="{points}"></polyline>'
        "</svg>",
        w=WIDTH, h=HEIGHT, l=LEFT, r=WIDTH - RIGHT, t=TOP, base=TOP + plot_h, lx=LEFT - 6, ty=TOP + 10,
        by=HEIGHT - 8, title=title, peak=number_format(peak, force_grouping=True),
        desc=(f"New signatures per {unit} (bars, up to {number_format(peak, force_grouping=True)}) and the running "
              f"total (line) from {date_format(first, fmt)} to {date_format(last, fmt)}."),
        first=date_format(first, fmt), last=date_format(last, fmt),
        bars=format_html_join(
            "", '<rect class="chart__bar" x="{}" y="{}" width="{}" height="{}"><title>{}</title></rect>', bars
        ),
        points=" ".join(points),
    )  # fmt: skip
