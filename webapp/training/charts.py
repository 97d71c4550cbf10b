"""Small inline SVG line charts (loss curves, rating statistics): no JS library.

Only numbers and escaped labels go into the markup, so model names or other
user text cannot inject anything into the page.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

COLOURS = ("#3056d3", "#d9480f", "#2b8a3e", "#862e9c")
WIDTH, HEIGHT = 640, 220
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 48, 12, 14, 30


def _fmt(value: float) -> str:
    return f"{value:.3g}"


def line_chart(
    series: Sequence[tuple[str, Sequence[tuple[float, float]]]],
    *,
    title: str,
    x_label: str = "",
    y_range: tuple[float, float] | None = None,
    x_ticks: Sequence[tuple[float, str]] | None = None,
) -> SafeString:
    """An accessible SVG (role=img, title, one legend entry per series).

    ``series`` is [(label, [(x, y), ...]), ...]; empty series are skipped. A
    single point is drawn as a dot.
    """
    drawn = [(label, list(points)) for label, points in series if points]
    if not drawn:
        return mark_safe(f'<p class="muted">{escape(title)}: no data yet.</p>')
    xs = [x for _, points in drawn for x, _ in points]
    ys = [y for _, points in drawn for _, y in points]
    x0, x1 = min(xs), max(xs)
    y0, y1 = y_range if y_range else (min(ys), max(ys))
    if x1 == x0:
        x1 = x0 + 1
    if y1 == y0:
        y0, y1 = y0 - 0.5, y1 + 0.5
    plot_w = WIDTH - PAD_LEFT - PAD_RIGHT
    plot_h = HEIGHT - PAD_TOP - PAD_BOTTOM

    def px(x: float) -> float:
        return PAD_LEFT + (x - x0) / (x1 - x0) * plot_w

    def py(y: float) -> float:
        return PAD_TOP + (1 - (y - y0) / (y1 - y0)) * plot_h

    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
        f'<rect x="{PAD_LEFT}" y="{PAD_TOP}" width="{plot_w}" height="{plot_h}" '
        'fill="none" stroke="#c9cfd9"/>',
    ]
    for i in range(5):
        value = y0 + (y1 - y0) * i / 4
        y = py(value)
        parts.append(
            f'<line x1="{PAD_LEFT}" x2="{WIDTH - PAD_RIGHT}" y1="{y:.1f}" '
            f'y2="{y:.1f}" stroke="#eef0f4"/>'
            f'<text x="{PAD_LEFT - 6}" y="{y + 4:.1f}" font-size="11" '
            f'text-anchor="end" fill="#555">{_fmt(value)}</text>'
        )
    ticks = x_ticks or [
        (x0 + (x1 - x0) * i / 4, _fmt(x0 + (x1 - x0) * i / 4)) for i in range(5)
    ]
    for x, label in ticks:
        parts.append(
            f'<text x="{px(x):.1f}" y="{HEIGHT - 10}" font-size="11" '
            f'text-anchor="middle" fill="#555">{escape(label)}</text>'
        )
    if x_label:
        parts.append(
            f'<text x="{WIDTH - PAD_RIGHT}" y="{HEIGHT - 0.5}" font-size="10" '
            f'text-anchor="end" fill="#777">{escape(x_label)}</text>'
        )
    for n, (label, points) in enumerate(drawn):
        colour = COLOURS[n % len(COLOURS)]
        coords = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in points)
        if len(points) > 1:
            parts.append(
                f'<polyline fill="none" stroke="{colour}" stroke-width="2" '
                f'points="{coords}"/>'
            )
        for x, y in points[:: max(1, len(points) // 40)]:
            parts.append(
                f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="2.5" fill="{colour}"/>'
            )
        parts.append(
            f'<rect x="{PAD_LEFT + 8 + n * 150}" y="{PAD_TOP + 6}" width="10" '
            f'height="10" fill="{colour}"/><text x="{PAD_LEFT + 22 + n * 150}" '
            f'y="{PAD_TOP + 15}" font-size="11" fill="#333">{escape(label)}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))


def loss_chart(curve: Sequence[dict]) -> SafeString:
    """Training loss, held-out loss and (if any) DPO loss against steps."""
    train = [(p["step"], p["loss"]) for p in curve if "loss" in p]
    held = [(p["step"], p["heldout_loss"]) for p in curve if "heldout_loss" in p]
    dpo = [(p["step"], p["dpo_loss"]) for p in curve if "dpo_loss" in p]
    series = [("training loss", train), ("held-out loss", held)]
    chart = line_chart(series, title="Loss curve", x_label="step")
    if dpo:
        chart += line_chart(
            [("preference (DPO) loss", dpo)], title="Preference loss", x_label="step"
        )
    return chart


def rating_chart(by_day: Sequence[dict]) -> SafeString:
    """Mean stars (1-5) and approval rate (scaled to 1-5) per day."""
    stars = [
        (i, d["mean_stars"])
        for i, d in enumerate(by_day)
        if d["mean_stars"] is not None
    ]
    approval = [
        (i, 1 + 4 * d["approval_rate"])
        for i, d in enumerate(by_day)
        if d["approval_rate"] is not None
    ]
    step = max(1, len(by_day) // 6)
    ticks = [(i, d["day"][5:]) for i, d in enumerate(by_day)][::step]
    return line_chart(
        [("mean stars", stars), ("approval rate (1 = 0%, 5 = 100%)", approval)],
        title="Ratings of this version's candidates over time",
        y_range=(1, 5),
        x_ticks=ticks,
        x_label="day",
    )
