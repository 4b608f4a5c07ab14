"""The report's one figure: every rate metric of the registry per arm, each with its 95 % interval
(``summary.json`` ``arms[ARM].ci95``; a point alone where a run has none), on one 0..1 axis. Written as a PNG
for ``report.md`` and as SVG text that ``report.html`` inlines (matplotlib, Agg backend: no display)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from ladder_core import metrics

FIGURE = "metrics"
"""``charts/metrics.png``: the figure's file name in the run folder."""
WIDTH_IN = 9.0
ROW_IN = 0.2
"""Height per arm within a metric's row."""
MARGIN_IN = 1.1
DPI = 100
# Colour-blind-safe (Okabe-Ito), in arm order.
COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")


def plotted(summary: dict[str, Any]) -> list[metrics.Metric]:
    """The rate metrics some arm has a value for, in the registry's order."""
    arms = summary["arms"].values()
    return [m for m in metrics.RATES if any(arm.get(m.summary_key) is not None for arm in arms)]


def draw(summary: dict[str, Any]) -> Any:
    """The matplotlib Figure; the caller closes it."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    arms = list(summary["arms"])
    shown = plotted(summary)
    rows = max(1, len(shown))
    figure, axes = plt.subplots(figsize=(WIDTH_IN, MARGIN_IN + rows * max(1, len(arms)) * ROW_IN))
    band = 0.8
    step = band / max(1, len(arms))
    for a, arm in enumerate(arms):
        data = summary["arms"][arm]
        intervals = data.get("ci95") or {}
        xs, ys, low, high = [], [], [], []
        for row, metric in enumerate(shown):
            value = data.get(metric.summary_key)
            if value is None:
                continue
            y = row - band / 2 + step * (a + 0.5)
            interval = intervals.get(metric.summary_key)
            lo, hi = (interval[0], interval[1]) if interval else (value, value)
            xs.append(value)
            ys.append(y)
            low.append(max(0.0, value - lo))
            high.append(max(0.0, hi - value))
        axes.errorbar(
            xs,
            ys,
            xerr=[low, high],
            fmt="o",
            color=COLOURS[a % len(COLOURS)],
            capsize=3,
            markersize=5,
            label=arm,
        )
    axes.set_yticks(range(len(shown)), [m.label for m in shown])
    axes.set_ylim(rows - 0.5, -0.5)
    if not shown:
        axes.text(0.5, 0, "no metric applied to any answered item", ha="center", va="center")
    # A little room beyond 0 and 1, so a point on either end is drawn whole.
    axes.set_xlim(-0.02, 1.02)
    axes.set_xlabel(f"{metrics.RATE.unit} (dot: the arm's value; bar: its 95 % interval)")
    axes.grid(axis="x", color="#dddddd")
    axes.set_axisbelow(True)
    for boundary in range(1, len(shown)):
        axes.axhline(boundary - 0.5, color="#eeeeee", linewidth=0.8)
    if arms:
        axes.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    figure.tight_layout()
    return figure


def write_png(folder: Path, summary: dict[str, Any]) -> Path:
    """``charts/metrics.png``; the path."""
    from matplotlib import pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    figure = draw(summary)
    path = folder / f"{FIGURE}.png"
    figure.savefig(path, dpi=DPI, metadata={"Software": None})
    plt.close(figure)
    return path


def svg(summary: dict[str, Any]) -> str:
    """The figure as an ``<svg>`` element to inline in HTML (text kept as text, no XML prologue, no date,
    so the same summary gives the same page)."""
    import matplotlib
    from matplotlib import pyplot as plt

    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "ladder"}):
        figure = draw(summary)
        figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    plt.close(figure)
    text = buffer.getvalue()
    return text[text.index("<svg") :]
