"""Hugging Face export: Parquet shards with audio bytes, solutions, digest and dataset card.

Layout (docs/architecture.md): ``OUT/data/<config>/fold<k>-0000i-of-0000N.parquet``, one
folder per config written once (atomically, as a whole), rows sorted by id within a
fold. Audio columns are ``datasets.Audio`` features stored as ``{bytes, path}`` structs
(never decoded by ``datasets`` here; decode with soundfile). Each row carries its
checksum columns (``audio_sha256``, ``audio_window_sha256``), from which the dataset
digest is computed: sha256 over the sorted lines ``<view>\\t<id>\\t<sha256>\\n``.
"""

from __future__ import annotations

import hashlib
import json
import platform
from collections.abc import Mapping, Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from builders.atomic import atomic_dir, atomic_file
from builders.errors import UserError

N_FOLDS = 6
MAX_SHARD_BYTES = 500_000_000
ROWS_PER_GROUP = 64
# config -> (view of column `audio`, view of column `audio_window` or None)
CONFIG_VIEWS: dict[str, tuple[str, str | None]] = {
    "speech": ("speech", None),
    "music": ("music", None),
    "mixed": ("mixed", "mixed-window"),
    # written later by the separation step with write_variant_shards (same machinery):
    "bss": ("bss-music", "bss-speech"),  # audio = accompaniment, audio_window = vocals in the SER window
    "bss-oracle": ("bss-oracle-music", "bss-oracle-speech"),
}
SPEECH_COLUMNS = ("fold", "actor", "gender", "emotion", "emotion_name", "intensity", "statement", "repetition")
MUSIC_COLUMNS = ("corpus", "fold", "valence", "arousal", "valence_norm", "arousal_norm", "quadrant")
MIX_COLUMNS = ("speech_id", "music_id", "fold", "pair_index", "window_index", "window_start_s",
               "emotion", "emotion_name", "intensity", "statement", "actor", "gender",
               "valence", "arousal", "valence_norm", "arousal_norm", "mix_gain_db", "overlap")


def _norm(x: float | None) -> float | None:
    return None if x is None or x != x else (float(x) - 5.0) / 4.0


def _metadata_table(rows: Sequence[Mapping], id_column: str, columns: Sequence[str],
                    checksums: Sequence[str], types: Mapping[str, pa.DataType]) -> pa.Table:
    data = {"id": pa.array([r[id_column] for r in rows], pa.string())}
    for column in (*columns, *checksums):
        data[column] = pa.array([r.get(column) for r in rows], types.get(column))
    return pa.table(data)


def export_core_configs(out: Path, sources: Sequence[Mapping], mixes: Sequence[Mapping], audio_format: str) -> None:
    """Write the ``speech``, ``music`` and ``mixed`` configs from rendered clips and manifests."""
    from builders.render import SPEECH_CORPORA, clip_path

    audio = out / "audio"
    types = {"fold": pa.int64(), "emotion": pa.int64(), "intensity": pa.int64(), "statement": pa.int64(),
             "repetition": pa.int64(), "pair_index": pa.int64(), "window_index": pa.int64(),
             "valence": pa.float64(), "arousal": pa.float64(), "valence_norm": pa.float64(),
             "arousal_norm": pa.float64(), "window_start_s": pa.float64(), "mix_gain_db": pa.float64(),
             "overlap": pa.float64()}
    types.update({c: pa.string() for c in ("actor", "gender", "emotion_name", "corpus", "quadrant",
                                             "speech_id", "music_id", "audio_sha256", "audio_window_sha256")})
    speech = [s for s in sources if s["corpus"] in SPEECH_CORPORA]
    music = [{**s, "valence_norm": _norm(s["valence"]), "arousal_norm": _norm(s["arousal"])}
             for s in sources if s["corpus"] not in SPEECH_CORPORA]
    for config, rows, id_column, columns in (("speech", speech, "source_id", SPEECH_COLUMNS),
                                             ("music", music, "source_id", MUSIC_COLUMNS)):
        table = _metadata_table(rows, id_column, columns, ("audio_sha256",), types)
        paths = [clip_path(audio, config, r[id_column], audio_format) for r in rows]
        write_variant_shards(out, config, table, paths)
    table = _metadata_table(mixes, "mix_id", MIX_COLUMNS, ("audio_sha256", "audio_window_sha256"), types)
    write_variant_shards(out, "mixed", table, [clip_path(audio, "mixed", r["mix_id"], audio_format) for r in mixes],
                         [clip_path(audio, "mixed-window", r["mix_id"], audio_format) for r in mixes])


def _features(table: pa.Table, with_window: bool):
    import datasets

    features = datasets.Features.from_arrow_schema(table.schema)
    features["audio"] = datasets.Audio(sampling_rate=44100, decode=True)
    if with_window:
        features["audio_window"] = datasets.Audio(sampling_rate=44100, decode=True)
    return features


def _shard_plan(sizes: list[int], max_bytes: int) -> list[tuple[int, int]]:
    """Consecutive (start, stop) row ranges whose audio bytes stay under ``max_bytes``."""
    ranges, start, total = [], 0, 0
    for i, size in enumerate(sizes):
        if i > start and total + size > max_bytes:
            ranges.append((start, i))
            start, total = i, 0
        total += size
    ranges.append((start, len(sizes)))
    return ranges


def _audio_array(ids: Sequence[str], paths: Sequence[Path]) -> pa.StructArray:
    blobs = []
    for path in paths:
        try:
            blobs.append(Path(path).read_bytes())
        except FileNotFoundError:
            raise UserError(f"rendered clip missing: {path} (re-run the render)") from None
    names = [f"{i}{Path(p).suffix}" for i, p in zip(ids, paths, strict=True)]
    return pa.StructArray.from_arrays([pa.array(blobs, pa.binary()), pa.array(names, pa.string())],
                                      names=["bytes", "path"])


def write_variant_shards(out: Path, config: str, table: pa.Table, audio_paths: Sequence[Path],
                         window_paths: Sequence[Path] | None = None, *, n_folds: int = N_FOLDS,
                         max_shard_bytes: int = MAX_SHARD_BYTES) -> list[Path]:
    """Write ``OUT/data/<config>/fold<k>-*.parquet`` (the whole folder atomically, once).

    ``table``: one row per clip with ``id`` (string), ``fold`` (1..n_folds), label columns
    and ``audio_sha256`` (plus ``audio_window_sha256`` when ``window_paths`` is given),
    each the sha256 of the clip's int16 PCM. ``audio_paths[i]`` / ``window_paths[i]``
    are row i's encoded clips; their bytes become the ``audio`` / ``audio_window``
    Audio columns. Rows are sorted by id within each fold; a fold over
    ``max_shard_bytes`` of audio is cut into several shards. Returns the shard paths.
    """
    if config not in CONFIG_VIEWS:
        raise ValueError(f"unknown config {config!r}")
    needed = {"id", "fold", "audio_sha256"} | ({"audio_window_sha256"} if window_paths is not None else set())
    if missing := needed - set(table.column_names):
        raise ValueError(f"table lacks columns {sorted(missing)}")
    features = _features(table, window_paths is not None)
    schema = features.arrow_schema
    ids, folds = table.column("id").to_pylist(), table.column("fold").to_pylist()
    written = []
    with atomic_dir(out / "data" / config) as tmp:
        for fold in range(1, n_folds + 1):
            rows = sorted((i for i, f in enumerate(folds) if f == fold), key=lambda i: ids[i])
            sizes = [Path(audio_paths[i]).stat().st_size if Path(audio_paths[i]).exists() else 0 for i in rows]
            ranges = _shard_plan(sizes, max_shard_bytes)
            for n, (start, stop) in enumerate(ranges):
                name = f"fold{fold}-{n:05d}-of-{len(ranges):05d}.parquet"
                _write_shard(tmp / name, schema, table, rows[start:stop], audio_paths, window_paths)
                written.append(out / "data" / config / name)
    return written


def _write_shard(path: Path, schema: pa.Schema, table: pa.Table, rows: list[int],
                 audio_paths: Sequence[Path], window_paths: Sequence[Path] | None) -> None:
    with pq.ParquetWriter(path, schema, compression="none") as writer:
        if not rows:
            writer.write_table(schema.empty_table())
        for start in range(0, len(rows), ROWS_PER_GROUP):
            chunk = rows[start : start + ROWS_PER_GROUP]
            part = table.take(pa.array(chunk, pa.int64()))
            ids = part.column("id").to_pylist()
            part = part.append_column("audio", _audio_array(ids, [audio_paths[i] for i in chunk]))
            if window_paths is not None:
                part = part.append_column("audio_window", _audio_array(ids, [window_paths[i] for i in chunk]))
            writer.write_table(part.select(schema.names).cast(schema))


# ---------------------------------------------------------------- solutions


def write_solutions(out: Path, sources: Sequence[Mapping], mixes: Sequence[Mapping]) -> None:
    """Benchmark solution files under OUT/solutions/ (id, fold, targets)."""
    from builders.render import SPEECH_CORPORA

    speech = [s for s in sources if s["corpus"] in SPEECH_CORPORA]
    music = [s for s in sources if s["corpus"] not in SPEECH_CORPORA]
    files = {
        "misme-ser": (mixes, "mix_id", {"emotion": pa.int64()}),
        "misme-mer": (mixes, "mix_id", {"valence": pa.float64(), "arousal": pa.float64()}),
        "misme-ser-speech": (speech, "source_id", {"emotion": pa.int64()}),
        "misme-mer-music": (music, "source_id", {"valence": pa.float64(), "arousal": pa.float64()}),
    }
    for name, (rows, id_column, targets) in files.items():
        rows = sorted(rows, key=lambda r: r[id_column])
        data = {"id": pa.array([r[id_column] for r in rows], pa.string()),
                "fold": pa.array([r["fold"] for r in rows], pa.int64())}
        data.update({t: pa.array([r[t] for r in rows], kind) for t, kind in targets.items()})
        with atomic_file(out / "solutions" / f"{name}.parquet") as tmp:
            pq.write_table(pa.table(data), tmp)


# ---------------------------------------------------------------- digest and card


def shard_files(out: Path, config: str) -> list[Path]:
    """The config's shards in canonical order."""
    return sorted((out / "data" / config).glob("fold*-*.parquet"))


def recorded_checksums(out: Path) -> dict[tuple[str, str], str]:
    """(view, id) -> sha256 as recorded in the shards' checksum columns."""
    recorded = {}
    for config, (view, window_view) in CONFIG_VIEWS.items():
        for shard in shard_files(out, config):
            names = pq.read_schema(shard).names
            columns = ["id", "audio_sha256"] + (["audio_window_sha256"] if window_view and "audio_window_sha256" in names else [])
            table = pq.read_table(shard, columns=columns)
            for row in table.to_pylist():
                recorded[(view, row["id"])] = row["audio_sha256"]
                if len(columns) == 3:
                    recorded[(window_view, row["id"])] = row["audio_window_sha256"]
    return recorded


def digest_of(checksums: Mapping[tuple[str, str], str]) -> str:
    """sha256 over the sorted ``<view>\\t<id>\\t<sha256>\\n`` lines."""
    lines = "".join(f"{v}\t{i}\t{s}\n" for (v, i), s in sorted(checksums.items()))
    return hashlib.sha256(lines.encode()).hexdigest()


def tool_versions() -> dict[str, str]:
    """Versions of the tools that determine the rendered bytes."""
    import datasets
    import numpy
    import pyloudnorm
    import soundfile
    import soxr

    return {"python": platform.python_version(), "numpy": numpy.__version__, "soxr": soxr.__version__,
            "soundfile": soundfile.__version__, "libsndfile": soundfile.__libsndfile_version__,
            "pyarrow": pa.__version__, "datasets": datasets.__version__,
            "pyloudnorm": getattr(pyloudnorm, "__version__", "unknown")}


def identity_checksums(out: Path) -> dict[tuple[str, str], str]:
    """Entries that are not clips but still define the corpus: the BSS model identities."""
    from builders.separation import identity_checksums as separation_identities

    return separation_identities(out)


def finalize(out: Path) -> str:
    """Compute the dataset digest from the shards, write OUT/digest.txt and OUT/README.md.

    The digest covers every clip's checksum and the separation identities (model files'
    hashes, Spleeter's version), so a different model cannot pass as the same corpus.
    """
    digest = digest_of({**recorded_checksums(out), **identity_checksums(out)})
    with atomic_file(out / "digest.txt") as tmp:
        tmp.write_text(digest + "\n")
    with atomic_file(out / "README.md") as tmp:
        tmp.write_text(dataset_card(out, digest), encoding="utf-8")
    return digest


def _yaml_configs(out: Path) -> list[str]:
    lines = ["configs:"]
    present = [c for c in CONFIG_VIEWS if shard_files(out, c)]
    for config in present:
        lines += [f"- config_name: {config}", "  data_files:"]
        for k in range(1, N_FOLDS + 1):
            lines += [f"  - split: fold{k}", f"    path: data/{config}/fold{k}-*.parquet"]
    for config in present:  # cross-validation views: test fold k, train the other five
        for k in range(1, N_FOLDS + 1):
            lines += [f"- config_name: {config}-cv{k}", "  data_files:", "  - split: train", "    path:"]
            lines += [f"    - data/{config}/fold{j}-*.parquet" for j in range(1, N_FOLDS + 1) if j != k]
            lines += ["  - split: test", f"    path: data/{config}/fold{k}-*.parquet"]
    return lines


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def _fold_counts(out: Path) -> list[str]:
    rows = ["| config | " + " | ".join(f"fold{k}" for k in range(1, N_FOLDS + 1)) + " | total |",
            "|---|" + "---|" * (N_FOLDS + 1)]
    for config in CONFIG_VIEWS:
        shards = shard_files(out, config)
        if shards:
            counts = [sum(pq.read_metadata(s).num_rows for s in shards if s.name.startswith(f"fold{k}-"))
                      for k in range(1, N_FOLDS + 1)]
            rows.append(f"| {config} | " + " | ".join(map(str, counts)) + f" | {sum(counts)} |")
    return rows


def sources_digest(out: Path) -> str:
    """sha256 over the sorted ``<source_id>\\t<sha256>\\n`` lines of sources.parquet."""
    path = out / "manifests" / "sources.parquet"
    if not path.is_file():
        return "unknown"
    table = pq.read_table(path, columns=["source_id", "sha256"]).to_pylist()
    lines = "".join(f"{r['source_id']}\t{r['sha256']}\n" for r in sorted(table, key=lambda r: r["source_id"]))
    return hashlib.sha256(lines.encode()).hexdigest()


def dataset_card(out: Path, digest: str) -> str:
    """The dataset card: YAML configs header, recipe, versions, counts, audit, digest, report."""
    recipe_path = out / "manifests" / "recipe.toml"
    recipe = recipe_path.read_text(encoding="utf-8") if recipe_path.is_file() else "(no recipe.toml)\n"
    audit = json.dumps(_read_json(out / "manifests" / "audit.json"), indent=2, sort_keys=True)
    report = _read_json(out / "build-report.json")
    summary = {k: report[k] for k in ("n_mixes", "attenuated_mixes", "overlap", "loudness") if k in report}
    versions = "\n".join(f"- {k}: {v}" for k, v in tool_versions().items())
    return "\n".join([
        "---", *_yaml_configs(out), "---", "",
        "# MiSME: mixed speech and music emotion recognition", "",
        "Speech (RAVDESS) mixed with instrumental music (DEAM, Soundtracks), both normalised to",
        "-23 LUFS (EBU R128), 44.1 kHz stereo 16-bit. Splits `fold1`..`fold6` are the",
        "speaker- and music-independent folds; configs `<config>-cv<k>` test on fold k and",
        "train on the other five. Audio columns hold the encoded clips' bytes; each row carries",
        "`audio_sha256` (sha256 of the clip's int16 PCM, interleaved little-endian).", "",
        "## Dataset digest", "",
        f"`{digest}`", "",
        "sha256 over the sorted lines `<view>\\t<id>\\t<audio_sha256>\\n` of every clip (and of each",
        "separation model's identity); check a copy",
        "with `misme-build verify OUT --digest <digest>`.", "",
        f"Source checksums digest: `{sources_digest(out)}`", "",
        "## Counts", "", *_fold_counts(out), "",
        "## Recipe", "", "```toml", recipe.rstrip(), "```", "",
        "## Tool versions", "", versions, "",
        "## Fold audit", "", "```json", audit, "```", "",
        "## Build report (summary)", "", "```json", json.dumps(summary, indent=2, sort_keys=True), "```", "",
        *_separation_sections(out),
    ])


def _separation_sections(out: Path) -> list[str]:
    from builders.separation import iter_card_sections

    return list(iter_card_sections(out))
