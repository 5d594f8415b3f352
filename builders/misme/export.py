"""MiSME's Hugging Face export: the columns of the ``speech``, ``music`` and ``mixed`` configs
(their shards are written by the render, ``builders.misme.render``), the benchmark solution
files, and the card sections only MiSME has (build report, separation).

Layout and digest: ``builders.hf``; what the configs are: ``builders.misme.spec``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import pyarrow as pa

from builders.hf.card import finalize_dataset, read_json
from builders.hf.digest import Digests
from builders.hf.solutions import write_solution
from builders.hf.spec import DatasetSpec
from builders.misme import separation_outputs
from builders.misme.spec import SPEECH_CORPORA

SPEECH_COLUMNS = (
    "fold",
    "actor",
    "gender",
    "emotion",
    "emotion_name",
    "intensity",
    "statement",
    "repetition",
)
MUSIC_COLUMNS = ("corpus", "fold", "valence", "arousal", "valence_norm", "arousal_norm", "quadrant")
MIX_COLUMNS = (
    "speech_id",
    "music_id",
    "fold",
    "pair_index",
    "window_index",
    "window_start_s",
    "emotion",
    "emotion_name",
    "intensity",
    "statement",
    "actor",
    "gender",
    "valence",
    "arousal",
    "valence_norm",
    "arousal_norm",
    "mix_gain_db",
    "overlap",
)
COLUMN_TYPES: dict[str, pa.DataType] = {
    **dict.fromkeys(
        ("fold", "emotion", "intensity", "statement", "repetition", "pair_index", "window_index"),
        pa.int64(),
    ),
    **dict.fromkeys(
        (
            "valence",
            "arousal",
            "valence_norm",
            "arousal_norm",
            "window_start_s",
            "mix_gain_db",
            "overlap",
        ),
        pa.float64(),
    ),
    **dict.fromkeys(
        (
            "actor",
            "gender",
            "emotion_name",
            "corpus",
            "quadrant",
            "speech_id",
            "music_id",
            "audio_sha256",
            "audio_window_sha256",
        ),
        pa.string(),
    ),
}


def _norm(x: float | None) -> float | None:
    return None if x is None or x != x else (float(x) - 5.0) / 4.0


def _metadata_table(
    rows: Sequence[Mapping], id_column: str, columns: Sequence[str], checksums: Sequence[str]
) -> pa.Table:
    data = {"id": pa.array([r[id_column] for r in rows], pa.string())}
    for column in (*columns, *checksums):
        data[column] = pa.array([r.get(column) for r in rows], COLUMN_TYPES.get(column))
    return pa.table(data)


def config_rows(config: str, sources: Sequence[Mapping], mixes: Sequence[Mapping]) -> list[Mapping]:
    """The manifest rows of ``config`` (``speech``, ``music`` or ``mixed``)."""
    if config == "mixed":
        return list(mixes)
    return [s for s in sources if (s["corpus"] in SPEECH_CORPORA) == (config == "speech")]


def config_table(config: str, rows: Sequence[Mapping]) -> pa.Table:
    """The shard columns (all but the audio) of ``rows`` of ``config``, in their order: manifest
    rows with the render's results (``audio_sha256``...)."""
    if config == "mixed":
        return _metadata_table(rows, "mix_id", MIX_COLUMNS, ("audio_sha256", "audio_window_sha256"))
    if config == "speech":
        return _metadata_table(rows, "source_id", SPEECH_COLUMNS, ("audio_sha256",))
    rows = [
        {**s, "valence_norm": _norm(s["valence"]), "arousal_norm": _norm(s["arousal"])}
        for s in rows
    ]
    return _metadata_table(rows, "source_id", MUSIC_COLUMNS, ("audio_sha256",))


def write_solutions(out: Path, sources: Sequence[Mapping], mixes: Sequence[Mapping]) -> None:
    """Benchmark solution files under OUT/solutions/ (id, fold, targets; SER: actor, gender;
    misme-mer: group = the music clip, corpus = its corpus)."""
    speech = [s for s in sources if s["corpus"] in SPEECH_CORPORA]
    music = [s for s in sources if s["corpus"] not in SPEECH_CORPORA]
    emotion, va = {"emotion": pa.int64()}, {"valence": pa.float64(), "arousal": pa.float64()}
    speaker = {"actor": pa.string(), "gender": pa.string()}  # bootstrap groups, per-gender scores
    music_of = {s["source_id"]: s["corpus"] for s in music}
    by_music = [{**m, "group": m["music_id"], "corpus": music_of.get(m["music_id"])} for m in mixes]
    write_solution(out, "misme-ser", mixes, "mix_id", emotion, speaker)
    write_solution(
        out, "misme-mer", by_music, "mix_id", va, {"group": pa.string(), "corpus": pa.string()}
    )
    write_solution(out, "misme-ser-speech", speech, "source_id", emotion, speaker)
    write_solution(out, "misme-mer-music", music, "source_id", va)


def build_report_section(out: Path) -> str:
    """The build report's headline numbers, for the card (the whole report is
    ``build-report.json``, linked from the card's audits)."""
    report = read_json(Path(out) / "build-report.json")
    if not report:
        return ""
    lines = ["## Build report (summary)", ""]
    if "n_mixes" in report:
        lines.append(f"- Mixes: {report['n_mixes']}")
    if "attenuated_mixes" in report:
        lines.append(
            f"- Mixes attenuated to stay within full scale (`mix_gain_db` < 0): "
            f"{report['attenuated_mixes']}"
        )
    overlap = report.get("overlap", {}).get("all")
    if isinstance(overlap, dict):
        lines.append("- Overlap: " + _stats(overlap))
    for view, stats in (report.get("loudness") or {}).items():
        if isinstance(stats, dict):
            lines.append(f"- Loudness of sampled `{view}` clips (LUFS): " + _stats(stats))
    lines.append("- Everything else: [build-report.json](build-report.json)")
    return "\n".join([*lines, ""])


def _stats(stats: Mapping) -> str:
    """count, mean, min and max of a build-report summary."""
    return ", ".join(
        f"{k} {stats[k]:.4g}" if isinstance(stats[k], float) else f"{k} {stats[k]}"
        for k in ("count", "mean", "min", "max")
        if k in stats
    )


def finalize_build(out: Path, spec: DatasetSpec) -> Digests:
    """Digest and card of the build as it stands (core configs and any separation)."""
    sections = [build_report_section(out), *separation_outputs.card_sections(out)]
    return finalize_dataset(out, spec, sections)
