"""The pictures read as a person needs: heatmap numbers legible on every cell colour, a
blank diagonal and full team names; a comparison that names its files and leaves no
panel empty; a three-panel report without an empty cell."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.colors import to_rgba

from benchmark import plots
from benchmark.compare import compare
from benchmark.io import read_predictions, read_solution
from benchmark.tasks import get_task
from tests.benchmark.conftest import MER_GOOD

NAMES = ["RF E: mixed->BSS (oracle separation), a very long team name", "Team B", "$x$ <b>"]


def _luminance(colour) -> float:
    r, g, b, _ = to_rgba(colour)
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in (r, g, b)]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def _contrast(a, b) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_heatmap_numbers_contrast_with_their_cells_and_names_are_whole() -> None:
    p = np.array([[np.nan, 1e-9, 0.5], [1e-9, np.nan, 0.999], [0.5, 0.999, np.nan]])
    figure = plots.chart(plots.draw_pvalue_heatmap, NAMES, p, size=plots.heatmap_size(NAMES))
    ax = figure.axes[0]
    image = ax.images[0]
    for text in ax.texts:
        j, i = (round(v) for v in text.get_position())
        cell = image.cmap(image.norm(p[i, j]))
        assert _contrast(text.get_color(), cell) >= 4.5, (text.get_text(), cell)
    assert len(ax.texts) == 6  # no number on the diagonal
    assert np.ma.getmaskarray(image.get_array()).diagonal().all()  # drawn blank
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["1. " + NAMES[0], "2. Team B", "3. \\$x\\$ <b>"]
    plots.png_bytes(figure)  # renders


def _compared(tmp_path, mer_solution, n_resamples: int):
    """A comparison of two MER prediction files a.csv and b.csv that differ in one row."""
    task = get_task("misme-mer")
    solution = read_solution(mer_solution, task, group_columns=True)
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text(MER_GOOD)
    b.write_text(MER_GOOD.replace("007,5.0,4.0", "007,1.0,8.0"))
    frames = [read_predictions(path, solution, task) for path in (a, b)]
    return compare(*frames, solution, task, n_resamples=n_resamples, seed=0)


@pytest.mark.parametrize("n_resamples", [50, 0])
def test_comparison_names_its_files_and_fills_every_panel(
    tmp_path, mer_solution, n_resamples
) -> None:
    result = _compared(tmp_path, mer_solution, n_resamples)
    figure = plots.comparison_figure(result, ("A: a.csv", "B: b.csv"))
    assert figure.get_suptitle() == "misme-mer: A: a.csv vs B: b.csv on rmse"
    assert len(figure.axes) == (2 if n_resamples else 1)
    assert all(ax.has_data() for ax in figure.axes)  # no empty panel
    rows, columns = figure.axes[0].get_subplotspec().get_gridspec().get_geometry()
    spans = [ax.get_subplotspec() for ax in figure.axes]
    assert sum(len(s.rowspan) * len(s.colspan) for s in spans) == rows * columns  # no empty cell
    legend = [t.get_text() for t in figure.axes[-1].get_legend().get_texts()]
    assert legend == ["A: a.csv", "B: b.csv"]
    if n_resamples:  # the intervals are of the pooled value; the folds are beside them
        assert figure.axes[0].get_xlabel().startswith("pooled rmse (95 % bootstrap interval")


def test_an_odd_last_panel_spans_its_row() -> None:
    panels = [(plots.draw_fold_bars, ([1, 2], [0.5, 0.6]), {"metric": "m"})] * 3
    figure = plots._grid(panels, "three panels")
    assert len(figure.axes) == 3 and all(ax.has_data() for ax in figure.axes)
    last = figure.axes[2].get_subplotspec()
    assert (last.colspan.start, last.colspan.stop) == (0, 2)


def test_compare_says_which_file_is_a_and_which_is_b(tmp_path, mer_solution, run_cli) -> None:
    (tmp_path / "run1").mkdir()
    (tmp_path / "run2").mkdir()
    a, b = tmp_path / "run1" / "pred.csv", tmp_path / "run2" / "pred.csv"  # same names
    a.write_text(MER_GOOD)
    b.write_text(MER_GOOD.replace("007,5.0,4.0", "007,1.0,8.0"))
    plot, markdown = tmp_path / "ab.png", tmp_path / "ab.md"
    code, out, err = run_cli(
        "compare", a, b, "--solution", mer_solution, "--task", "misme-mer", "--plot", plot,
        "--markdown", markdown,
    )  # fmt: skip
    assert code == 0, err
    assert out.splitlines()[:2] == [f"A: {a}", f"B: {b}"]
    assert plot.read_bytes().startswith(b"\x89PNG")
    lines = markdown.read_text().splitlines()  # the markdown report names them too
    assert lines[0].startswith("# misme-mer: A vs B on 6 ids; pooled rmse")
    assert lines[1:4] == ["", f"- A: {a}", f"- B: {b}"]


def _full_range() -> np.ndarray:
    """Every colour of the map, from 3e-20 through 0.5 to 1, symmetric; the diagonal p = 1
    (as a self-comparison would come: the map must still leave it blank)."""
    upper = [3e-20, 3.2e-7, 0.0004, 0.03, 0.2, 0.35, 0.5, 0.65, 0.8, 1.0]
    values = np.full((5, 5), np.nan)
    values[np.triu_indices(5, k=1)] = upper
    values.T[np.triu_indices(5, k=1)] = upper
    np.fill_diagonal(values, 1.0)
    return values


def test_every_colour_of_the_map_gets_readable_text_and_a_blank_diagonal() -> None:
    names = ["Team A", NAMES[0], "Team $x$", "D", "E"]
    values = _full_range()
    figure = plots.chart(plots.draw_pvalue_heatmap, names, values, size=plots.heatmap_size(names))
    ax = figure.axes[0]
    image = ax.images[0]
    assert len(ax.texts) == 20  # every off-diagonal cell, none on the diagonal
    by_value = {}
    for text in ax.texts:
        j, i = (round(v) for v in text.get_position())
        assert i != j
        cell = image.cmap(image.norm(values[i, j]))
        assert _contrast(text.get_color(), cell) >= 4.5, (text.get_text(), cell)
        by_value[values[i, j]] = text.get_color()
    assert by_value[3e-20] == "black" and by_value[1.0] == "white"  # on yellow, on dark purple
    mask = np.ma.getmaskarray(image.get_array())
    assert mask.diagonal().all() and mask.sum() == 5
    assert tuple(image.cmap.get_bad()[:3]) == (1.0, 1.0, 1.0)  # blank drawn white
    texts = {t.get_text() for t in ax.texts}
    assert {"< 1e-16*", "3.2e-07*", "4.0e-04*", "0.030*", "0.500", "1.000"} <= texts


@pytest.mark.parametrize(
    ("p", "shown"),
    [
        (3.2e-07, "3.2e-07"),
        (1e-300, "< 1e-16"),
        (0.0, "< 1e-16"),
        (0.00049, "4.9e-04"),
        (0.047, "0.047"),
        (1.0, "1.000"),
        (float("nan"), ""),
        (None, ""),
    ],
)
def test_p_text_never_rounds_a_small_p_to_zero(p, shown: str) -> None:
    assert plots.p_text(p) == shown


def test_fold_bars_label_the_fold_mean_and_the_pooled_value() -> None:
    figure = plots.chart(plots.draw_fold_bars, [1, 2, 3], [0.5, 0.6, 0.7], metric="m", pooled=0.58)
    legend = [t.get_text() for t in figure.axes[0].get_legend().get_texts()]
    assert legend == ["fold mean 0.6000 ± sd 0.1000", "pooled 0.5800"]
    lines = {round(line.get_ydata()[0], 4): line.get_linestyle() for line in figure.axes[0].lines}
    assert lines == {0.6: "-", 0.58: "--"}


def test_score_plot_says_its_title_value_is_pooled(tmp_path, mer_solution, run_cli) -> None:
    predictions, plot = tmp_path / "p.csv", tmp_path / "p.svg"
    predictions.write_text(MER_GOOD)
    code, _, err = run_cli(
        "score", predictions, "--solution", mer_solution, "--task", "misme-mer", "--plot", plot
    )
    assert code == 0, err
    svg = plot.read_text()
    assert "(pooled over all ids)" in svg and "fold mean " in svg and "pooled " in svg


def test_compare_reports_never_print_a_p_value_of_zero(tmp_path, mer_solution) -> None:
    import dataclasses

    from benchmark.report import to_markdown, to_terminal

    result = _compared(tmp_path, mer_solution, 0)
    underflow = [{**t, "pvalue": 0.0, "pvalue_holm": 0.0} for t in result.tests]
    assert underflow  # the comparison has tests to print
    report = dataclasses.replace(result, tests=underflow)
    for text in (to_terminal(report), to_markdown(report)):
        assert "< 1e-16" in text and "0.0000" not in text
