"""A dataset's declaration as data: its configs, views, folds and output spec.

Each dataset package builds its :class:`DatasetSpec` (usually from its recipe); the
export, digest, card and verify code reads everything it needs from it and knows no
dataset by name.
"""

from __future__ import annotations

from dataclasses import dataclass

from builders.common.audio import OutputSpec
from builders.errors import UserError
from builders.hf.card_doc import CardDoc


@dataclass(frozen=True)
class ManifestLink:
    """Where a config's planned per-clip checksums live: ``OUT/manifests/<file>``.

    ``where`` = (column, values) keeps only the rows whose column is one of the values
    (e.g. the speech rows of ``sources.parquet``). The checksum columns are
    ``audio_sha256`` and, for a config with a window view, ``audio_window_sha256``.
    """

    file: str
    id_column: str
    where: tuple[str, tuple[str, ...]] | None = None


@dataclass(frozen=True)
class ConfigSpec:
    """One Hugging Face config: the view in its ``audio`` column (and ``audio_window``).

    A ``metadata_only`` config (e.g. one row per track) has no audio: it names no view, its
    shards hold only its table (:func:`builders.hf.shards.write_table_shards`), the card
    declares it with its fold splits but no ``-cv<k>`` configs, and the digest and verify
    leave it out. A metadata-only config may name its own ``splits`` instead of the folds
    (e.g. ``train``/``test`` of a protocol): its shards are then ``<split>-00000-of-00001.parquet``.
    """

    name: str
    audio_view: str = ""
    window_view: str | None = None
    manifest: ManifestLink | None = None
    identity_file: str | None = None  # manifests/<file> whose "identity_digest" the digest covers
    metadata_only: bool = False
    splits: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.splits and not self.metadata_only:
            raise ValueError(f"config {self.name!r}: only metadata-only configs name their splits")
        named = (self.audio_view, self.window_view, self.manifest, self.identity_file)
        if self.metadata_only and any(named):
            raise ValueError(
                f"metadata-only config {self.name!r} names no view, manifest or identity"
            )
        if not self.metadata_only and not self.audio_view:
            raise ValueError(f"config {self.name!r} needs an audio view (or metadata_only=True)")

    @property
    def views(self) -> tuple[str, ...]:
        if self.metadata_only:
            return ()
        return (
            (self.audio_view,) if self.window_view is None else (self.audio_view, self.window_view)
        )


@dataclass(frozen=True)
class ViewSpec:
    """A folder of clips ``OUT/audio/<name>/``: what it holds and which step makes it."""

    name: str
    content: str  # "speech" or "music": which feature sets apply
    made_by: str


@dataclass(frozen=True)
class DatasetSpec:
    """Everything generic code needs to know about one dataset's build."""

    name: str
    title: str
    summary: str  # the card's opening paragraph (Markdown)
    output: OutputSpec
    n_folds: int
    configs: tuple[ConfigSpec, ...]
    views: tuple[ViewSpec, ...] = ()
    sources_manifest: str = "sources.parquet"  # corpus, path, sha256 per source file
    card: CardDoc = CardDoc()  # what the card says beyond the shards: licence, columns, tasks

    @property
    def folds(self) -> range:
        return range(1, self.n_folds + 1)

    def splits_of(self, config: str) -> tuple[str, ...]:
        """The split names of ``config``: its own, else ``fold1``..``foldK``; each split's
        shards are ``data/<config>/<split>-*.parquet``."""
        return self.config(config).splits or tuple(f"fold{k}" for k in self.folds)

    def config(self, name: str) -> ConfigSpec:
        for config in self.configs:
            if config.name == name:
                return config
        raise ValueError(f"{self.name} has no config {name!r}")

    def view(self, name: str) -> ViewSpec:
        for view in self.views:
            if view.name == name:
                return view
        raise UserError(
            f"{self.name} has no view {name!r} (views: {', '.join(v.name for v in self.views)})"
        )
