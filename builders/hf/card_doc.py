"""What a dataset's card says about it, declared once as data (audformat style).

A dataset's :class:`CardDoc` names its Hub metadata (pretty name, licence, task categories,
tags), its sources (keys of :data:`builders.hf.sources.SOURCES`), the thesis whose recipe it
follows, every column of its shards (:class:`ColumnDoc`: type, meaning, scale, codes), the
benchmark tasks that score its configs (:class:`TaskDoc`) and its limitations. The card
(:mod:`builders.hf.card`) and the Croissant file (:mod:`builders.hf.croissant`) read it;
nothing else describes a column.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ColumnDoc:
    """One column: what it means, on what scale, with which codes (``code: meaning``); in
    ``configs`` only when it names some (a column that means another thing elsewhere)."""

    name: str
    meaning: str
    scale: str = ""
    codes: tuple[tuple[str, str], ...] = ()
    configs: tuple[str, ...] = ()

    def describe(self) -> str:
        """Meaning, scale and codes in one line (a Markdown table cell)."""
        text = self.meaning
        if self.scale:
            text += f" Scale: {self.scale}."
        if self.codes:
            text += " Codes: " + ", ".join(f"{code} = {name}" for code, name in self.codes) + "."
        return text


@dataclass(frozen=True)
class TaskDoc:
    """A benchmark task: which config (and audio column) it scores, its targets."""

    name: str
    configs: tuple[str, ...]
    targets: str
    audio: str = "audio"


@dataclass(frozen=True)
class CardDoc:
    """Everything the card and the Croissant file say about a dataset beyond its shards."""

    pretty_name: str = ""
    sources: tuple[str, ...] = ()
    thesis: str = ""
    task_categories: tuple[str, ...] = ("audio-classification",)
    tags: tuple[str, ...] = ()
    language: tuple[str, ...] = ()
    columns: tuple[ColumnDoc, ...] = ()
    tasks: tuple[TaskDoc, ...] = ()
    limitations: tuple[str, ...] = ()
    folds: str = ""  # how the folds were drawn (Markdown)
    default_config: str = ""  # the card's default config (else the first with shards)

    def column(self, name: str, config: str) -> ColumnDoc | None:
        """The doc of column ``name`` in ``config``: the dataset's own, else a common one
        (:data:`COMMON_COLUMNS`); None when there is none."""
        for column in (*self.columns, *COMMON_COLUMNS):
            if column.name == name and (not column.configs or config in column.configs):
                return column
        return None


COMMON_COLUMNS = (
    ColumnDoc("id", "The row's id, unique in the config; the `id` of prediction files."),
    ColumnDoc("fold", "The fold the row belongs to (its split `fold<k>`).", "1..K"),
    ColumnDoc(
        "audio",
        "The encoded clip (`{bytes, path}`, not decoded by default: decode the bytes with "
        "soundfile).",
    ),
    ColumnDoc(
        "audio_sha256",
        "sha256 of the `audio` clip's int16 PCM (interleaved, little-endian): what the "
        "dataset digest covers.",
    ),
    ColumnDoc(
        "audio_window_sha256",
        "sha256 of the `audio_window` clip's int16 PCM (interleaved, little-endian).",
    ),
)

# the Hub's size_categories buckets: (upper bound, name)
SIZE_CATEGORIES = (
    (1_000, "n<1K"),
    (10_000, "1K<n<10K"),
    (100_000, "10K<n<100K"),
    (1_000_000, "100K<n<1M"),
    (10_000_000, "1M<n<10M"),
)


def size_category(n: int) -> str:
    """The Hub's ``size_categories`` value for ``n`` rows."""
    return next((name for bound, name in SIZE_CATEGORIES if n < bound), "10M<n<100M")
