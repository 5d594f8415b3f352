"""What a build derives from its manifests, and the stamp that ties the two together.

A render (and the steps after it) derives from ``OUT/manifests`` the shards, solutions,
digest, card, features, build report and the resume records under ``OUT/audio``. A plan
that changes the manifests of a folder holding any of them would leave a build that looks
complete but is not the plan's: :func:`clear_rendered` refuses unless forced, and then
deletes them all (the "complete" markers first).

The export writes ``OUT/data/.plan.json``, ``{"manifests": {file name: sha256}}`` of the
plan's own files (``recipe.toml``, ``audit.json``: no later step rewrites them) that the
shards were made from; :func:`stale_stamp` says when the manifests are no longer those.
A file's sha256 is :func:`plan_file_sha256`'s, of its content without its ``build`` table
(the environment that planned it, not the plan). The leaderboard's ``export-challenge``
checks the same file the same way.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tomllib
from pathlib import Path

from builders.common.atomic import atomic_file
from builders.errors import UserError

# The digest and the card first: a folder without them does not look like a finished build.
DERIVED = (
    "digest.txt",
    "README.md",
    "SECRET-README.md",
    "LICENSE.md",
    "croissant.json",
    "data",
    "solutions",
    "features",
    "audio",
    "baselines",
    "build-report.json",
)
STAMP = Path("data") / ".plan.json"
PLAN_FILES = ("recipe.toml", "audit.json")


def rendered_outputs(out: Path) -> list[str]:
    """The outputs derived from the manifests that ``out`` holds, in :data:`DERIVED` order."""
    return [name for name in DERIVED if (Path(out) / name).exists()]


def clear_rendered(out: Path, *, force: bool) -> None:
    """Before a changed plan replaces OUT's manifests: refuse (UserError naming ``--force``)
    when OUT holds outputs of the old plan, or with ``force`` delete them."""
    present = rendered_outputs(out)
    if not present:
        return
    if not force:
        raise UserError(
            f"{out} holds outputs of another plan ({', '.join(present)}); a new plan would "
            "leave them stale: pass --force to delete them with the old manifests, or plan "
            "into a new folder"
        )
    for name in present:
        path = Path(out) / name
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()


def plan_file_sha256(path: Path) -> str:
    """sha256 of a JSON or TOML file's content without its top-level ``build`` table, as
    sorted JSON."""
    text = Path(path).read_text(encoding="utf-8")
    value = tomllib.loads(text) if Path(path).suffix == ".toml" else json.loads(text)
    if isinstance(value, dict):
        value.pop("build", None)
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


def plan_stamp(out: Path) -> dict[str, dict[str, str]]:
    """``{"manifests": {file: sha256}}`` of the plan's own files present in OUT/manifests."""
    manifests = Path(out) / "manifests"
    return {
        "manifests": {
            name: plan_file_sha256(manifests / name)
            for name in PLAN_FILES
            if (manifests / name).is_file()
        }
    }


def write_plan_stamp(out: Path) -> None:
    """Record which plan the shards under OUT/data were made from."""
    with atomic_file(Path(out) / STAMP) as tmp:
        tmp.write_text(json.dumps(plan_stamp(out), indent=2, sort_keys=True) + "\n")


def stale_stamp(out: Path) -> str | None:
    """Why OUT's shards are not those of its manifests (None when they are, or when OUT has
    no stamp: a build exported before the stamp existed)."""
    path = Path(out) / STAMP
    try:
        recorded = json.loads(path.read_text())["manifests"]
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as error:
        return f"cannot read {path}: {error}"
    try:
        current = plan_stamp(out)["manifests"]
    except (OSError, ValueError) as error:
        return f"cannot read the plan under {Path(out) / 'manifests'}: {error}"
    changed = sorted(
        n for n in recorded.keys() | current.keys() if recorded.get(n) != current.get(n)
    )
    if not changed:
        return None
    return f"manifests/{', manifests/'.join(changed)} changed since the shards were rendered"
