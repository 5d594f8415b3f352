"""A recipe-only release: what a group may publish of a corpus whose audio it may not share.

``OUT`` holds the plan (``manifests/``: recipe, manifests with every planned checksum, audits),
the card, its licence file, the Croissant file, the digest, the lock file's sha256 and the
source files' checksums, and no audio: no shards, clips, features or solutions, and not
``build-state.json`` (the building machine's paths). Another group copies it, renders it from
its own licensed copies of the sources (``--root CORPUS=PATH``) and proves with
``misme-build verify --digest`` that it holds the identical corpus.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow.parquet as pq

from builders.common.atomic import atomic_dir
from builders.common.recipe import read_toml
from builders.errors import UserError
from builders.hf.card_meta import LICENCE_FILE
from builders.hf.croissant import CROISSANT_FILE
from builders.hf.digest import build_digests, read_digests
from builders.hf.plan_match import check_plan_matches_shards
from builders.hf.shards import shard_files
from builders.hf.spec import DatasetSpec

COPIED = ("README.md", LICENCE_FILE, CROISSANT_FILE, "digest.txt", "build-report.json")
REQUIRED = ("README.md", "digest.txt", "manifests/recipe.toml")
SOURCE_CHECKSUMS = "source-checksums.sha256"
LOCK_DIGEST = "lock.sha256"
GUIDE = "RELEASE.md"


def write_release(build: Path, out: Path, spec: DatasetSpec) -> list[str]:
    """Write the release of ``build`` into ``out`` (new or empty) as a whole; returns the
    names of what it holds."""
    build, out = Path(build), Path(out)
    missing = [name for name in REQUIRED if not (build / name).is_file()]
    if missing or not any(shard_files(build, c.name) for c in spec.configs):
        raise UserError(
            f"{build} is not a finished build (missing {', '.join(missing) or 'data/ shards'}): "
            "render it first"
        )
    check_plan_matches_shards(build, spec)
    digests = build_digests(build, spec)
    if read_digests(build) != {"dataset": digests.dataset, "audio": digests.audio}:
        raise UserError(
            f"{build / 'digest.txt'} is not the digest of its shards: render it again "
            f"(misme-build {spec.name} render {build})"
        )
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise UserError(f"{out} exists and is not an empty folder: choose a new release folder")
    if out.resolve() == build.resolve() or build.resolve() in out.resolve().parents:
        raise UserError(f"the release folder {out} must lie outside the build {build}")
    with atomic_dir(out) as tmp:
        shutil.copytree(build / "manifests", tmp / "manifests")
        for name in COPIED:
            if (build / name).is_file():
                shutil.copy2(build / name, tmp / name)
        (tmp / SOURCE_CHECKSUMS).write_text(source_checksums(build, spec), encoding="utf-8")
        (tmp / LOCK_DIGEST).write_text(lock_digest(build) + "\n")
        (tmp / GUIDE).write_text(release_guide(build, spec), encoding="utf-8")
        names = sorted(p.relative_to(tmp).as_posix() for p in tmp.rglob("*") if p.is_file())
    return names


def source_checksums(build: Path, spec: DatasetSpec) -> str:
    """``sha256sum`` lines ``<sha256>  <corpus>/<path>`` of every source file the plan read."""
    path = build / "manifests" / spec.sources_manifest
    if not path.is_file():
        return ""
    rows = pq.read_table(path, columns=["corpus", "path", "sha256"]).to_pylist()
    lines = sorted(f"{r['sha256']}  {r['corpus']}/{r['path']}" for r in rows if r["sha256"])
    return "".join(line + "\n" for line in lines)


def lock_digest(build: Path) -> str:
    """The sha256 of the lock file the build was made with (its recipe's ``[build]``)."""
    recorded = read_toml(build / "manifests" / "recipe.toml").get("build", {})
    return str(recorded.get("lock_sha256", "unknown"))


def render_commands(build: Path, spec: DatasetSpec) -> list[str]:
    """The steps that make the build's present configs, in the spec's view order, once each."""
    present = {c.name for c in spec.configs if shard_files(build, c.name)}
    views = [v for c in spec.configs if c.name in present for v in c.views]
    commands = []
    for view in spec.views:
        if view.name in views and view.made_by not in commands:
            commands.append(view.made_by)
    return commands


def release_guide(build: Path, spec: DatasetSpec) -> str:
    """``RELEASE.md``: how to render and verify this release from your own sources."""
    digest = (read_digests(build) or {}).get("dataset", "<the dataset digest in digest.txt>")
    corpora = sorted(
        {
            line.split("  ", 1)[1].split("/", 1)[0]
            for line in source_checksums(build, spec).splitlines()
        }
    )
    roots = " ".join(f"--root {c}=/path/to/{c}" for c in corpora)
    steps = [step.strip("`").replace(" OUT", " my-build") for step in render_commands(build, spec)]
    steps = [f"{step} {roots}" if step.endswith(" render my-build") else step for step in steps]
    return "\n".join(
        [
            f"# Recipe-only release: {spec.card.pretty_name or spec.title}",
            "",
            "No audio: the manifests, recipe, card, Croissant file, digest, lock file sha256 and",
            f"source checksums (`{SOURCE_CHECKSUMS}`). Render it from your own licensed copies",
            "of the sources, then check that you hold the identical corpus:",
            "",
            "```",
            "cp -r this-release my-build",
            *steps,
            f"misme-build verify my-build --digest {digest}",
            "```",
            "",
            f"Install from the same lock file first (`{LOCK_DIGEST}`: `make install`), since",
            "another lock can give other bytes. To check your sources before rendering, make a",
            "folder with a link per corpus (e.g. `ln -s /path/to/deam deam`) and run",
            f"`sha256sum -c {SOURCE_CHECKSUMS}` in it: its lines are",
            "`<sha256>  <corpus>/<path below the corpus root>`.",
            "",
        ]
    )
