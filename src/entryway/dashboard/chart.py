"""The auth-log chart as server-rendered SVG: completed logins and failures per time slice, failures stacked
by error code. No script, so it renders wherever the page does; it scales with the page width."""

from __future__ import annotations

from dataclasses import dataclass

from entryway.services.auth_log_search import Bucket

WIDTH = 720
HEIGHT = 220
LEFT = 40
BOTTOM = 28
TOP = 10
LOGIN_COLOUR = "#2f9e44"
# Failure colours by rank of error code (most frequent first); the rest share the last colour.
FAILURE_COLOURS = ("#c92a2a", "#e8590c", "#f08c00", "#9c36b5", "#1971c2", "#868e96")


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    width: float
    height: float
    colour: str
    title: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    rects: list[Rect]
    y_ticks: list[tuple[float, int]]
    x_labels: list[tuple[float, str]]
    legend: list[tuple[str, str, int]]  # (label, colour, total)
    peak: int
    baseline: float
    left: int


def _codes_by_frequency(buckets: list[Bucket]) -> list[str]:
    totals: dict[str, int] = {}
    for b in buckets:
        for code, n in b.failures.items():
            totals[code] = totals.get(code, 0) + n
    return sorted(totals, key=lambda c: (-totals[c], c))


def build(buckets: list[Bucket], label_format: str) -> Chart:
    codes = _codes_by_frequency(buckets)
    colour = {c: FAILURE_COLOURS[min(i, len(FAILURE_COLOURS) - 1)] for i, c in enumerate(codes)}
    peak = max([max(b.logins, b.failed) for b in buckets] + [1])
    plot_h = HEIGHT - BOTTOM - TOP
    slot = (WIDTH - LEFT) / max(len(buckets), 1)
    bar = max(slot / 2 - 1, 1)
    baseline = HEIGHT - BOTTOM
    rects: list[Rect] = []
    for i, b in enumerate(buckets):
        x = LEFT + i * slot
        when = b.start.strftime(label_format)
        if b.logins:
            h = plot_h * b.logins / peak
            rects.append(Rect(x, baseline - h, bar, h, LOGIN_COLOUR, f"{when}: {b.logins} login(s)"))
        y: float = baseline
        for code in codes:
            n = b.failures.get(code, 0)
            if not n:
                continue
            h = plot_h * n / peak
            y -= h
            rects.append(Rect(x + bar + 1, y, bar, h, colour[code], f"{when}: {n} failed with {code}"))
    step = max(1, len(buckets) // 6)
    x_labels = [(LEFT + i * slot, buckets[i].start.strftime(label_format)) for i in range(0, len(buckets), step)]
    y_ticks = [(baseline - plot_h * f, round(peak * f)) for f in (0.0, 0.5, 1.0)]
    totals = {c: sum(b.failures.get(c, 0) for b in buckets) for c in codes}
    legend = [("completed logins", LOGIN_COLOUR, sum(b.logins for b in buckets))]
    legend += [(c, colour[c], totals[c]) for c in codes]
    return Chart(WIDTH, HEIGHT, rects, y_ticks, x_labels, legend, peak, baseline, LEFT)
