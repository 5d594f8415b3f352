"""``OUT/croissant.json``: the build's Croissant 1.0 metadata (JSON-LD).

The distribution lists every shard as a ``cr:FileObject`` with its sha256 and a
``cr:FileSet`` per config (its shards, which the record set reads); one ``cr:RecordSet``
per config with a field per column (type and meaning from the dataset's column docs;
audio columns as ``sc:AudioObject`` holding the encoded clip); the licence, the citations,
the recipe and the dataset digest. Written without ``mlcroissant`` (the tests validate it
with ``mlcroissant``).
"""

from __future__ import annotations

import json
from pathlib import Path

from builders.common.atomic import atomic_file
from builders.hf.card_meta import LICENCE_FILE, present_configs, yaml_features
from builders.hf.data_files import Build
from builders.hf.shards import shard_files
from builders.hf.sources import SOURCES, THESES, TOOLKIT_BIBTEX

CROISSANT_FILE = "croissant.json"
CONFORMS_TO = "http://mlcommons.org/croissant/1.0"
PARQUET = "application/x-parquet"
CONTEXT = {
    "@language": "en",
    "@vocab": "https://schema.org/",
    "citeAs": "cr:citeAs",
    "column": "cr:column",
    "conformsTo": "dct:conformsTo",
    "cr": "http://mlcommons.org/croissant/",
    "rai": "http://mlcommons.org/croissant/RAI/",
    "data": {"@id": "cr:data", "@type": "@json"},
    "dataType": {"@id": "cr:dataType", "@type": "@vocab"},
    "dct": "http://purl.org/dc/terms/",
    "equivalentProperty": "cr:equivalentProperty",
    "examples": {"@id": "cr:examples", "@type": "@json"},
    "extract": "cr:extract",
    "field": "cr:field",
    "fileProperty": "cr:fileProperty",
    "fileObject": "cr:fileObject",
    "fileSet": "cr:fileSet",
    "format": "cr:format",
    "includes": "cr:includes",
    "isLiveDataset": "cr:isLiveDataset",
    "jsonPath": "cr:jsonPath",
    "key": "cr:key",
    "md5": "cr:md5",
    "parentField": "cr:parentField",
    "path": "cr:path",
    "recordSet": "cr:recordSet",
    "references": "cr:references",
    "regex": "cr:regex",
    "repeated": "cr:repeated",
    "replace": "cr:replace",
    "samplingRate": "cr:samplingRate",
    "sc": "https://schema.org/",
    "separator": "cr:separator",
    "source": "cr:source",
    "subField": "cr:subField",
    "transform": "cr:transform",
}
DATA_TYPES = {"string": "sc:Text", "large_string": "sc:Text", "bool": "sc:Boolean"}


def data_type(feature: dict) -> str:
    """The Croissant data type of a ``dataset_info.features`` entry."""
    dtype = feature.get("dtype")
    if isinstance(dtype, dict) and "audio" in dtype:
        return "sc:AudioObject"
    if isinstance(dtype, str) and dtype.startswith(("int", "uint")):
        return "sc:Integer"
    if isinstance(dtype, str) and dtype.startswith("float"):
        return "sc:Float"
    return DATA_TYPES.get(dtype, "sc:Text") if isinstance(dtype, str) else "sc:Text"


def distribution(build: Build) -> list[dict]:
    """Every shard with its sha256, then one file set per config."""
    files = [
        {
            "@type": "cr:FileObject",
            "@id": f.path,
            "name": f.path,
            "contentUrl": f.path,
            "contentSize": f"{f.size} B",
            "encodingFormat": PARQUET,
            "sha256": f.sha256,
        }
        for f in build.files
    ]
    sets = [
        {
            "@type": "cr:FileSet",
            "@id": f"{config}-shards",
            "name": f"{config}-shards",
            "description": f"The Parquet shards of config {config} ({_splits(build, config)}).",
            "encodingFormat": PARQUET,
            "includes": f"data/{config}/*.parquet",
        }
        for config in present_configs(build.out, build.spec)
    ]
    return files + sets


def _splits(build: Build, config: str) -> str:
    own = build.spec.config(config).splits
    return f"splits {', '.join(own)}" if own else "splits fold1..foldK"


def record_set(build: Build, config: str) -> dict:
    """The record set of one config: a field per column of its shards."""
    fields = []
    for feature in yaml_features(shard_files(build.out, config)[0]):
        name = feature["name"]
        doc = build.spec.card.column(name, config)
        fields.append(
            {
                "@type": "cr:Field",
                "@id": f"{config}/{name}",
                "name": name,
                "description": doc.describe() if doc else name,
                "dataType": data_type(feature),
                "source": {"fileSet": {"@id": f"{config}-shards"}, "extract": {"column": name}},
            }
        )
    return {
        "@type": "cr:RecordSet",
        "@id": config,
        "name": config,
        "description": f"Config {config}: one record per row of its shards ("
        + (
            "its shard's name is its split)."
            if build.spec.config(config).splits
            else "its `fold` column names the split)."
        ),
        "key": {"@id": f"{config}/id"},
        "field": fields,
    }


def croissant(build: Build) -> dict:
    """The Croissant document of a build."""
    spec, doc = build.spec, build.spec.card
    recipe_path = build.out / "manifests" / "recipe.toml"
    recipe = recipe_path.read_text(encoding="utf-8") if recipe_path.is_file() else ""
    citations = [TOOLKIT_BIBTEX, *([THESES[doc.thesis]] if doc.thesis else [])]
    citations += [SOURCES[k].bibtex for k in doc.sources]
    return {
        "@context": CONTEXT,
        "@type": "sc:Dataset",
        "conformsTo": CONFORMS_TO,
        "name": spec.name,
        "alternateName": doc.pretty_name or spec.title,
        "description": (
            f"{spec.summary.strip()} Dataset digest {build.digests.dataset} (every row of every "
            "config, the solution files and the audio); audio digest "
            f"{build.digests.audio} (the audio only); check with misme-build verify --digest. "
            f"Recipe (manifests/recipe.toml):\n{recipe}"
        ),
        "license": LICENCE_FILE,
        "url": "README.md",
        "version": _recipe_version(recipe),
        "citeAs": "\n".join(citations),
        "keywords": list(doc.tags),
        "identifier": f"sha256:{build.digest}",
        "distribution": distribution(build),
        "recordSet": [record_set(build, c) for c in present_configs(build.out, spec)],
    }


def _recipe_version(recipe: str) -> str:
    """``<version>.0.0`` from the recipe's ``version = "<n>"`` (Croissant wants semver)."""
    for line in recipe.splitlines():
        if line.startswith("version"):
            return line.split("=", 1)[1].strip().strip('"') + ".0.0"
    return "0.0.0"


def write_croissant(build: Build) -> Path:
    """Write ``OUT/croissant.json`` (atomically); returns its path."""
    path = Path(build.out) / CROISSANT_FILE
    with atomic_file(path) as tmp:
        tmp.write_text(json.dumps(croissant(build), indent=1, ensure_ascii=False) + "\n")
    return path
