"""What a separation leaves in the manifests, read back for the card: identity and quality.

``OUT/manifests/separation-<backend>.json`` holds the backend's identity (versions, model
files' hashes, method parameters), its digest and the quality summary; the dataset digest
covers the identity through the config's ``identity_file`` (``builders.misme.spec``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from builders.misme import separation_quality

BACKENDS = ("spleeter", "oracle")
VIEWS = {
    "spleeter": ("bss-music", "bss-speech"),
    "oracle": ("bss-oracle-music", "bss-oracle-speech"),
}
CONFIGS = {"spleeter": "bss", "oracle": "bss-oracle"}


def identity_path(out: Path, backend: str) -> Path:
    return Path(out) / "manifests" / f"separation-{backend}.json"


def card_sections(out: Path) -> Iterator[str]:
    """Markdown sections (method, identity, quality) of every separation done in OUT."""
    for backend in BACKENDS:
        path = identity_path(out, backend)
        if not path.is_file():
            continue
        document = json.loads(path.read_text())
        lines = [
            f"## BSS variant `{document['config']}` ({backend})",
            "",
            "Separation runs on the full mix; the speech estimate is then cropped to the SER window.",
            f"Separation digest (identity + clip checksums): `{document['digest']}`; the "
            f"identity (versions, model files' hashes, parameters): "
            f"[manifests/{path.name}](manifests/{path.name}).",
            "",
        ]
        lines.append(separation_quality.card_section(pd.DataFrame(document["quality"]), backend))
        yield "\n".join(lines)
