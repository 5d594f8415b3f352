"""Render score and comparison reports as JSON, Markdown or a terminal table."""

from __future__ import annotations

import json

from benchmark.bootstrap import resampled_unit
from benchmark.pvalues import p_text
from benchmark.scoring import ScoreReport


def to_json(report) -> str:
    """Every number of ``report`` (a ScoreReport or ComparisonReport) as JSON; NaN -> null."""
    return json.dumps(report.to_dict(), indent=2, allow_nan=False) + "\n"


def _fmt(value) -> str:
    if value is None or value != value:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.3g}" if 0 < abs(value) < 1e-3 else f"{value:.4f}"
    return str(value)


def _metric_rows(report: ScoreReport) -> tuple[list[str], list[list[str]]]:
    folds = list(report.per_fold)
    header = ["metric", "pooled", "mean ± sd (folds)", *[f"fold {f}" for f in folds]]
    rows = [
        [
            name,
            _fmt(value),
            f"{_fmt(report.fold_mean[name])} ± {_fmt(report.fold_sd[name])}",
            *[_fmt(report.per_fold[f][name]) for f in folds],
        ]
        for name, value in report.pooled.items()
    ]
    return header, rows


def _text_table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(header, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += [
        "  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows
    ]
    return "\n".join(lines)


def _md_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


def _direction(report) -> str:
    return "higher is better" if report.higher_is_better else "lower is better"


def _classification_tables(report: ScoreReport):
    extras = report.extras
    labels = extras.get("labels")
    if not labels:
        return []
    cm_header = ["true \\ predicted", *labels]
    cm_rows = [
        [label, *map(str, row)]
        for label, row in zip(labels, extras["confusion_matrix"], strict=True)
    ]
    pc_header = ["class", "precision", "recall", "support"]
    pc_rows = [
        [label, _fmt(v["precision"]), _fmt(v["recall"]), str(v["support"])]
        for label, v in extras["per_class"].items()
    ]
    return [
        ("Confusion matrix (pooled)", cm_header, cm_rows),
        ("Per-class precision and recall (pooled)", pc_header, pc_rows),
    ]


def _group_table(report: ScoreReport):
    from benchmark.scoring import CLASSIFICATION_METRICS, REGRESSION_METRICS

    if not report.per_group:
        return []
    names = [n for n in (*CLASSIFICATION_METRICS, *REGRESSION_METRICS) if n in report.pooled]
    rows = [
        [f"{column} = {value}", str(scores["n"]), *[_fmt(scores.get(n)) for n in names]]
        for column, values in report.per_group.items()
        for value, scores in values.items()
    ]
    return [("Per group (pooled over folds)", ["group", "n", *names], rows)]


def _interval(b: dict) -> str:
    unit = resampled_unit(b.get("grouped_by"), b["n_groups"])
    return (
        f"bootstrap {b['confidence']:.0%} CI [{_fmt(b['low'])}, {_fmt(b['high'])}] "
        f"(resampling {unit}, {b['n_resamples']:,} resamples, seed {b['seed']})"
    )


def _score_sections(report: ScoreReport):
    header, rows = _metric_rows(report)
    return [("Metrics", header, rows), *_group_table(report), *_classification_tables(report)]


def _comparison_sections(report):
    names = ["metric", "A", "B"]
    rows = [
        [name, _fmt(report.a.pooled[name]), _fmt(report.b.pooled[name])] for name in report.a.pooled
    ]
    test_rows = [
        [
            t["test"],
            t["name"],
            _fmt(t.get("statistic")),
            p_text(t.get("pvalue")) or "n/a",
            p_text(t.get("pvalue_holm")) or "n/a",
            t.get("error", ""),
        ]
        for t in report.tests
    ]
    sections = [
        ("Pooled metrics", names, rows),
        (
            "Tests (" + ", ".join(f"{k}={v}" for k, v in report.settings.items()) + ")",
            ["test", "on", "statistic", "p", "p (Holm)", "note"],
            test_rows,
        ),
    ]
    if report.bootstrap:
        b = report.bootstrap
        ranks = {"a": b.get("rank_a"), "b": b.get("rank_b")}
        ci_rows = [
            [
                who,
                f"[{_fmt(b[key][0])}, {_fmt(b[key][1])}]",
                f"{ranks[key][0]}-{ranks[key][1]}" if ranks.get(key) else "",
            ]
            for who, key in (("A", "a"), ("B", "b"), ("A - B", "a_minus_b"))
        ]
        unit = resampled_unit(b.get("grouped_by"), b["n_groups"])
        sections.append(
            (
                f"Paired bootstrap {b['confidence']:.0%} CI of {report.primary_metric} "
                f"(resampling {unit})",
                ["system", "interval", "rank interval"],
                ci_rows,
            )
        )
    return sections


def _scale(report) -> str:
    scale = (report if isinstance(report, ScoreReport) else report.a).extras.get("scale")
    return f"; targets on the {scale} scale" if scale else ""


def scale_warnings(report) -> list[str]:
    """The off-scale warnings of a score report, or of a comparison's two systems."""
    if isinstance(report, ScoreReport):
        found = [report.extras.get("scale_warning")]
    else:
        found = [
            f"{who}: {system.extras['scale_warning']}"
            if system.extras.get("scale_warning")
            else None
            for who, system in (("A", report.a), ("B", report.b))
        ]
    return [warning for warning in found if warning]


def _title(report) -> str:
    if isinstance(report, ScoreReport):
        folds = len(report.per_fold)
        interval = f", {_interval(report.bootstrap)}" if report.bootstrap else ""
        return (
            f"{report.task}: {report.n:,} ids, {folds} fold{'s' * (folds != 1)}; "
            f"{report.primary_metric} = {_fmt(report.primary)} ({_direction(report)})"
            f"{_scale(report)}{interval}"
        )
    return (
        f"{report.task}: A vs B on {report.settings['n']:,} ids; pooled {report.primary_metric} "
        f"A = {_fmt(report.a.primary)}, B = {_fmt(report.b.primary)} ({_direction(report)})"
        f"{_scale(report)}"
    )


def _files(report) -> list[str]:
    """ "A: <file>" and "B: <file>" of a comparison that knows its files, else nothing."""
    files = getattr(report, "files", None)
    return [f"A: {files[0]}", f"B: {files[1]}"] if files else []


def _sections(report):
    return (
        _score_sections(report) if isinstance(report, ScoreReport) else _comparison_sections(report)
    )


def to_terminal(report) -> str:
    """Plain-text tables for a terminal."""
    parts = [*_files(report), _title(report)]
    for title, header, rows in _sections(report):
        parts += ["", title, _text_table(header, rows)]
    return "\n".join(parts) + "\n"


def to_markdown(report) -> str:
    """Markdown document with the same tables as :func:`to_terminal`."""
    parts = [f"# {_title(report)}"]
    parts += ["", *[f"- {line}" for line in _files(report)]] if _files(report) else []
    parts += [f"\n> **Warning:** {warning}" for warning in scale_warnings(report)]
    for title, header, rows in _sections(report):
        parts += ["", f"## {title}", "", _md_table(header, rows)]
    return "\n".join(parts) + "\n"
