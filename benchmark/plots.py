"""Charts of scores for the leaderboard page and for papers (matplotlib, no pyplot state).

Each ``draw_*`` function draws on a given Axes; :func:`chart` makes a one-chart Figure and
:func:`report_figure` / :func:`comparison_figure` the multi-panel figures of
``misme-score score/compare --plot``. Names (teams, groups, labels) are drawn as literal
text: a ``$`` never starts mathtext.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from benchmark.errors import BenchmarkError
from benchmark.pvalues import p_text

LEADER_COLOUR = "#d62728"
OTHER_COLOUR = "#1f77b4"
TOP_SHADE = "#ffe9a8"
MAX_NAME = 40
FORMATS = (".png", ".svg")


def literal(text: object, limit: int = MAX_NAME) -> str:
    """``text`` shortened to ``limit`` characters, with ``$`` escaped (never mathtext)."""
    text = str(text)
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return text.replace("$", r"\$")


def draw_intervals(
    ax,
    names: Sequence[str],
    point,
    low,
    high,
    *,
    metric: str,
    higher_is_better: bool,
    top: Sequence[bool] | None = None,
    leader: int = 0,
) -> None:
    """Dot-and-whisker chart: one row per submission in rank order (leader on top), the
    interval as a whisker, the leader in red, the top group's rows shaded."""
    point, low, high = (np.asarray(v, dtype=float) for v in (point, low, high))
    rows = np.arange(len(names))
    top = np.zeros(len(names), bool) if top is None else np.asarray(top, bool)
    for row in rows[top]:
        ax.axhspan(row - 0.5, row + 0.5, color=TOP_SHADE, zorder=0, lw=0)
    colours = [LEADER_COLOUR if r == leader else OTHER_COLOUR for r in rows]
    finite = np.isfinite(low) & np.isfinite(high)
    ax.hlines(rows[finite], low[finite], high[finite], colors=np.asarray(colours)[finite], lw=2)
    ax.scatter(point, rows, c=colours, zorder=3, s=36)
    ax.set_yticks(rows, [literal(n, 200) for n in names])  # whole names (size the figure)
    for row, label in zip(rows, ax.get_yticklabels(), strict=True):
        label.set_fontweight("bold" if row == leader else "normal")
    ax.set_ylim(len(names) - 0.5, -0.5)
    better = "higher" if higher_is_better else "lower"
    ax.set_xlabel(f"{literal(metric)} (95 % bootstrap interval; {better} is better)")
    if top.any():
        ax.text(
            1.0,
            1.01,
            "shaded: top group (rank interval overlaps the leader's)",
            transform=ax.transAxes,
            ha="right",
            va="bottom",
            fontsize=8,
        )
    ax.grid(axis="x", alpha=0.3)


def draw_pvalue_heatmap(ax, names: Sequence[str], pvalues, *, alpha: float = 0.05) -> None:
    """Heatmap of Holm-adjusted p-values; cells below ``alpha`` carry a star and a frame.

    Rows name the teams in full (numbered), columns by their numbers; the diagonal and
    missing pairs stay blank; each number is black or white, whichever reads on its cell."""
    from matplotlib import colormaps

    values = np.asarray(pvalues, dtype=float)
    blank = np.isnan(values) | np.eye(len(names), dtype=bool)
    colours = colormaps["viridis_r"].with_extremes(bad="white")
    image = ax.imshow(np.ma.masked_array(values, blank), cmap=colours, vmin=0, vmax=1)
    numbers = [str(i + 1) for i in range(len(names))]
    ax.set_xticks(range(len(names)), numbers)
    ax.set_yticks(range(len(names)), [f"{i + 1}. {literal(n, 200)}" for i, n in enumerate(names)])
    ax.set_xlabel("team (number as in the rows)")
    for i in range(len(names)):
        for j in range(len(names)):
            if blank[i, j]:
                continue
            significant = values[i, j] < alpha
            ax.text(
                j,
                i,
                p_text(values[i, j]) + ("*" if significant else ""),
                ha="center",
                va="center",
                fontsize=8,
                color=_readable_on(colours(values[i, j])),
                fontweight="bold" if significant else "normal",
            )
            if significant:
                ax.add_patch(_frame(ax, i, j))
    ax.figure.colorbar(image, ax=ax, label=f"Holm-adjusted p (* : < {alpha:g})")


def heatmap_size(names: Sequence[str]) -> tuple[float, float]:
    """A figure size (inches) that holds the heatmap's cells, its full row labels and the
    colour bar: about 0.09 in per label character at the default font size."""
    longest = max((len(literal(n, 200)) for n in names), default=0) + 4
    cells = 0.6 * max(len(names), 2)
    return 2.5 + cells + 0.09 * longest, 1.6 + cells


def _readable_on(rgba) -> str:
    """Black or white text, whichever contrasts more with a background colour (WCAG
    relative luminance)."""
    channels = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgba[:3]]
    luminance = 0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2]
    return "black" if (luminance + 0.05) / 0.05 >= 1.05 / (luminance + 0.05) else "white"


def _frame(ax, i: int, j: int):
    from matplotlib.patches import Rectangle

    return Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, edgecolor=LEADER_COLOUR, lw=1.5)


def draw_fold_bars(
    ax, folds: Sequence, values, *, metric: str, pooled: float | None = None
) -> None:
    """One bar per fold, the fold mean as a line and mean +- sd as a band; ``pooled`` (the
    metric over all ids at once) as a dashed line, each labelled as what it is."""
    values = np.asarray(values, dtype=float)
    labels = [str(f) for f in folds]
    ax.bar(labels, values, color=OTHER_COLOUR)
    finite = values[np.isfinite(values)]
    if len(finite):
        mean = float(finite.mean())
        sd = float(finite.std(ddof=1)) if len(finite) > 1 else 0.0
        ax.axhline(mean, color="black", lw=1.5, label=f"fold mean {mean:.4f} ± sd {sd:.4f}")
        ax.axhspan(mean - sd, mean + sd, color="grey", alpha=0.25, zorder=0)
    if pooled is not None and np.isfinite(pooled):
        ax.axhline(pooled, color=LEADER_COLOUR, lw=1.5, ls="--", label=f"pooled {pooled:.4f}")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="lower right", fontsize=8)
    ax.set_xlabel("fold")
    ax.set_ylabel(literal(metric))


def draw_confusion(ax, labels: Sequence[str], matrix) -> None:
    """Counts of (true, predicted); rows = truth."""
    counts = np.asarray(matrix)
    ax.imshow(counts, cmap="Blues")
    names = [literal(label, 16) for label in labels]
    ax.set_xticks(range(len(labels)), names, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), names)
    ceiling = counts.max() if counts.size else 0
    for i in range(counts.shape[0]):
        for j in range(counts.shape[1]):
            ax.text(
                j,
                i,
                str(int(counts[i, j])),
                ha="center",
                va="center",
                fontsize=8,
                color="white" if counts[i, j] > ceiling / 2 else "black",
            )
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")


def draw_scatter(ax, true, predicted, *, target: str) -> None:
    """Predicted against true values with the identity line."""
    true, predicted = np.asarray(true, dtype=float), np.asarray(predicted, dtype=float)
    ax.scatter(true, predicted, s=8, alpha=0.5, color=OTHER_COLOUR)
    both = np.concatenate([true, predicted])
    if len(both):
        low, high = float(both.min()), float(both.max())
        ax.plot([low, high], [low, high], color="grey", lw=1, label="identity")
        ax.legend(loc="upper left", fontsize=8)
    ax.set_xlabel(f"true {literal(target)}")
    ax.set_ylabel(f"predicted {literal(target)}")


def draw_group_bars(ax, groups: Mapping[str, Mapping[str, float]], *, metric: str) -> None:
    """One bar per (breakdown column, value), e.g. gender = female, corpus = deam."""
    labels, values = [], []
    for column, by_value in groups.items():
        for value, number in by_value.items():
            labels.append(literal(f"{column}={value}", 24))
            values.append(np.nan if number is None else float(number))
    ax.bar(labels, values, color=OTHER_COLOUR)
    ax.tick_params(axis="x", labelrotation=30)
    ax.set_ylabel(literal(metric))


def chart(draw: Callable, *args, size: tuple[float, float] = (7, 3.5), **options) -> Figure:
    """A Figure holding one chart drawn by ``draw(ax, *args, **options)``."""
    figure = Figure(figsize=size, layout="constrained")
    draw(figure.add_subplot(), *args, **options)
    return figure


def png_bytes(figure: Figure, dpi: int = 110) -> bytes:
    """The figure as PNG, cut to what is drawn: a long label is never cut off."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight", pad_inches=0.1)
    return buffer.getvalue()


def save(figure: Figure, path: Path) -> None:
    """Write ``figure`` as PNG or SVG (by the file's suffix)."""
    path = Path(path)
    check_plot_path(path)
    try:
        figure.savefig(path, format=path.suffix.lower()[1:], dpi=150)
    except OSError as error:
        raise BenchmarkError(f"cannot write {path}: {error.strerror or error}") from None


def check_plot_path(path: Path | None) -> None:
    if path is not None and Path(path).suffix.lower() not in FORMATS:
        raise BenchmarkError(f"--plot {path}: the file name must end in .png or .svg")


# ---------------------------------------------------------------- figures of reports


def _panels(report, scatter: Mapping | None = None) -> list[tuple[Callable, tuple, dict]]:
    """The charts of one score report: per-fold bars, confusion or scatter, per-group bars."""
    metric = report.primary_metric
    folds = sorted(report.per_fold)
    panels = [
        (
            draw_fold_bars,
            (folds, [report.per_fold[f][metric] for f in folds]),
            {"metric": f"{metric} per fold", "pooled": report.primary},
        )
    ]
    extras = report.extras
    if "confusion_matrix" in extras:
        panels.append((draw_confusion, (extras["labels"], extras["confusion_matrix"]), {}))
    for target, pairs in (scatter or {}).items():
        panels.append((draw_scatter, (pairs["true"], pairs["pred"]), {"target": target}))
    if report.per_group:
        groups = {
            c: {v: s.get(metric) for v, s in by.items()} for c, by in report.per_group.items()
        }
        panels.append((draw_group_bars, (groups,), {"metric": f"{metric} per group"}))
    return panels


def _grid(panels: list[tuple[Callable, tuple, dict]], title: str) -> Figure:
    """The panels two to a row; an odd last one spans its row, so no cell stays empty."""
    columns = min(2, len(panels))
    rows = math.ceil(len(panels) / columns)
    figure = Figure(figsize=(6 * columns, 4 * rows), layout="constrained")
    figure.suptitle(literal(title, 120))
    cells = figure.add_gridspec(rows, columns)
    for index, (draw, args, options) in enumerate(panels):
        row, column = divmod(index, columns)
        last_alone = index == len(panels) - 1 and column == 0
        draw(
            figure.add_subplot(cells[row, :] if last_alone else cells[row, column]),
            *args,
            **options,
        )
    return figure


def report_figure(report, scatter: Mapping[str, Mapping[str, list]] | None = None) -> Figure:
    """The charts of a :class:`benchmark.scoring.ScoreReport` in one figure; ``scatter``
    (target -> {"true", "pred"}) adds a predicted-vs-true panel per target."""
    title = f"{report.task}: {report.primary_metric} = {report.primary:.4f} (pooled over all ids)"
    return _grid(_panels(report, scatter), title)


def draw_fold_pairs(ax, folds: Sequence, values: Sequence, names: Sequence[str], *, metric: str):
    """Per fold, one bar for each system side by side (the comparison's per-fold panel)."""
    labels = [str(f) for f in folds]
    width = 0.8 / len(names)
    colours = (OTHER_COLOUR, "#ff7f0e", "#2ca02c", "#9467bd")
    for k, (name, series) in enumerate(zip(names, values, strict=True)):
        offsets = np.arange(len(labels)) + (k - (len(names) - 1) / 2) * width
        ax.bar(
            offsets,
            np.asarray(series, dtype=float),
            width,
            label=literal(name),
            color=colours[k % 4],
        )
    ax.set_xticks(range(len(labels)), labels)
    ax.set_xlabel("fold")
    ax.set_ylabel(literal(metric))
    ax.legend(fontsize=8)


def comparison_figure(report, names: Sequence[str] = ("A", "B")) -> Figure:
    """A and B (named by ``names``, e.g. their files) with their paired bootstrap intervals,
    then both per-fold bars in one panel: every panel drawn holds a chart."""
    metric = report.primary_metric
    panels = []
    if report.bootstrap:
        b = report.bootstrap
        point = [report.a.primary, report.b.primary]
        order = np.argsort(point)[::-1] if report.higher_is_better else np.argsort(point)
        ranks = [b["rank_a"], b["rank_b"]]
        leader = int(order[0])
        top = [ranks[i][0] <= ranks[leader][1] for i in order]
        panels.append(
            (
                draw_intervals,
                (
                    [names[i] for i in order],
                    [point[i] for i in order],
                    [b["ab"[i]][0] for i in order],
                    [b["ab"[i]][1] for i in order],
                ),
                {
                    "metric": f"pooled {metric}",  # over all ids; the folds are the next panel
                    "higher_is_better": report.higher_is_better,
                    "top": top,
                },
            )
        )
    folds = sorted(report.a.per_fold)
    per_fold = [[side.per_fold[f][metric] for f in folds] for side in (report.a, report.b)]
    panels.append((draw_fold_pairs, (folds, per_fold, names), {"metric": f"{metric} per fold"}))
    return _grid(panels, f"{report.task}: {names[0]} vs {names[1]} on {metric}")
