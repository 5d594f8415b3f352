"""Are a build's shards those of its manifests? (A re-planned or hand-edited plan is not.)

Two checks, both cheap (no audio is decoded): the plan stamp the export wrote
(:func:`builders.common.rendered.stale_stamp`), and the ids each config's manifest plans
against the ids in its shards.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from builders.common.rendered import stale_stamp
from builders.errors import UserError
from builders.hf.shards import shard_files
from builders.hf.spec import ConfigSpec, DatasetSpec


def planned_ids(out: Path, config: ConfigSpec) -> set[str] | None:
    """The ids ``config``'s manifest plans (None when it has no manifest file)."""
    link = config.manifest
    path = Path(out) / "manifests" / link.file if link else None
    if path is None or not path.is_file():
        return None
    columns = [link.id_column] + ([link.where[0]] if link.where else [])
    rows = pq.read_table(path, columns=list(dict.fromkeys(columns))).to_pylist()
    return {
        str(row[link.id_column])
        for row in rows
        if not link.where or row[link.where[0]] in link.where[1]
    }


def shard_ids(out: Path, config: ConfigSpec) -> set[str]:
    """The ids in ``config``'s shards."""
    return {
        str(i) for s in shard_files(out, config.name) for i in pq.read_table(s, columns=["id"])[0]
    }


def id_mismatch(out: Path, spec: DatasetSpec) -> str | None:
    """How the planned ids differ from the shards' (None when every config agrees)."""
    for config in spec.configs:
        planned = planned_ids(out, config) if shard_files(out, config.name) else None
        if planned is None:
            continue
        present = shard_ids(out, config)
        if planned != present:
            missing, extra = sorted(planned - present), sorted(present - planned)
            first = (missing or extra)[0]
            return (
                f"{len(missing)} planned {config.name} clips are not in its shards and "
                f"{len(extra)} of its shard clips are not planned (first: {first})"
            )
    return None


def check_plan_matches_shards(out: Path, spec: DatasetSpec) -> None:
    """UserError (one line) when OUT's shards were not made from its manifests."""
    out = Path(out)
    try:
        reason = stale_stamp(out) or id_mismatch(out, spec)
    except (OSError, pa.ArrowException) as error:
        raise UserError(f"cannot read the manifests or shards of {out}: {error}") from error
    if reason:
        raise UserError(
            f"the shards under {out / 'data'} were not made from {out / 'manifests'} "
            f"({reason}): was it planned again after its render? Render it again "
            f"(misme-build {spec.name} render {out})"
        )
