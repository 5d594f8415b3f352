"""Mode (a): the thesis's dataset from its published tracklists and the user's audio.

The tracklists (``builders.corpora.mer_tracklists``) fix every clip: its id (the split
file's ``d_<clipId>``, ``s_<Filename>``, ``e_<clipname>``), its labels and, for DEAM, its
slice (``secondsSlice``, seconds inside the DEAM file). Soundtracks and EMOPIA clips are
the middle 10-15 s of their source. Only the tracklists of the corpora whose audio is given
are read. A tracklist clip whose audio is missing is reported and skipped (``--strict``
makes it fatal); an EMOPIA clip is found by its exact name, else by (YouTube id, segment)
when unambiguous, and every such relabelling is reported.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from builders.corpora.emopia import match_clips
from builders.corpora.listing import files_named
from builders.corpora.mer_tracklists import (
    compare_with_splits,
    find_thesis_files,
    read_thesis_splits,
    read_thesis_tracklists,
)
from builders.corpora.soundtracks import RATING_FILES, read_soundtracks_links
from builders.errors import UserError
from builders.instrumental_mer.inventory import LABELS, AudioFiles, find_audio
from builders.instrumental_mer.selection import CANDIDATE_COLUMNS, Selection, candidate_frame

CORPORA = ("deam", "soundtracks", "emopia")


def select_from_tracklists(folder: Path, roots: Mapping[str, Path]) -> Selection:
    """The tracklist clips of the corpora in ``roots`` and the audio files they need."""
    corpora = [corpus for corpus in CORPORA if corpus in roots]
    if not corpora:
        raise UserError("give the audio of at least one corpus (--deam, --soundtracks, --emopia)")
    table = read_thesis_tracklists(Path(folder), corpora)
    selection = Selection("tracklists", candidate_frame([]))
    kept = []
    for corpus in corpora:
        audio = find_audio(corpus, roots[corpus])
        selection.skipped.extend(audio.skipped)
        rows = table[table["corpus"] == corpus]
        if corpus == "emopia":
            rows = _emopia_sources(rows, audio, selection)
        kept.append(_with_audio(rows, audio, selection))
    clips = pd.concat(kept, ignore_index=True) if kept else table.iloc[:0]
    clips = _linked_pairs(clips, roots.get("soundtracks"), selection)
    selection.clips = candidate_frame(
        clips.reindex(columns=list(CANDIDATE_COLUMNS)).to_dict("records")
    )
    selection.report["thesis_split"] = _split_comparison(Path(folder), table)
    return selection


def _with_audio(rows: pd.DataFrame, audio: AudioFiles, selection: Selection) -> pd.DataFrame:
    """The rows whose source file exists (the others reported); their files noted as needed."""
    present = rows["source_id"].isin(list(audio.paths))
    for clip_id, source_id in zip(rows.loc[~present, "clip_id"], rows.loc[~present, "source_id"]):
        selection.missing.append((audio.corpus, clip_id, _missing(audio.corpus, source_id)))
    for source_id in rows.loc[present, "source_id"]:
        selection.files[source_id] = (audio.corpus, audio.paths[source_id])
    return rows[present]


def _missing(corpus: str, source_id: str) -> str:
    name = source_id.removeprefix(f"{corpus}-")
    if corpus == "soundtracks":
        name = "/".join((name.split("-")[0].capitalize(), name.split("-")[1]))
    return (
        f"tracklist clip without audio: no {LABELS[corpus]} file {name}.mp3/.wav/.flac below "
        f"the {LABELS[corpus]} root"
    )


def _emopia_sources(rows: pd.DataFrame, audio: AudioFiles, selection: Selection) -> pd.DataFrame:
    """EMOPIA rows pointed at the user's files: exact name, else (video, segment)."""
    wanted = [source_id.removeprefix("emopia-") for source_id in rows["source_id"]]
    available = [source_id.removeprefix("emopia-") for source_id in audio.paths]
    matches = {
        match.wanted: match
        for match in match_clips(wanted, available)
        .astype(object)
        .where(lambda frame: frame.notna(), None)
        .itertuples(index=False)
    }
    found = [matches[name].matched for name in wanted]
    rows = rows.copy()
    rows["source_id"] = [f"emopia-{name}" if name else "emopia-(none)" for name in found]
    relabelled = []
    for clip_id, name in zip(rows["clip_id"], wanted):
        match = matches[name]
        if match.matched is None:
            note = f"tracklist clip without audio: {match.note}"
            selection.missing.append(("emopia", clip_id, note))
        elif match.method == "video+segment":
            file = audio.paths[f"emopia-{match.matched}"]
            relabelled.append({"clip_id": clip_id, "file": file, "note": match.note})
    selection.report["relabelled"] = relabelled
    return rows[[name is not None for name in found]]


def _linked_pairs(clips: pd.DataFrame, root: Path | None, selection: Selection) -> pd.DataFrame:
    """Mark set-2 clips that are copies of a set-1 clip (``link``), so both share a fold."""
    clips = clips.assign(
        linked_song=pd.Series([None] * len(clips), dtype="object", index=clips.index)
    )
    ratings = files_named(Path(root), [RATING_FILES["set2"]]) if root is not None else []
    if not ratings:
        selection.report["soundtracks_pairs"] = {
            "note": "no mean_ratings_set2.csv below the Soundtracks root: pairs unknown"
        }
        return clips
    links = read_soundtracks_links(ratings[0])
    ids = set(clips["clip_id"])
    pairs = []
    for set2, set1 in zip(links["set2_number"], links["set1_number"]):
        copy, original = f"s_2_{set2}", f"s_1_{set1}"
        if copy in ids:
            clips.loc[clips["clip_id"] == copy, "linked_song"] = f"set1-{set1}"
            if original in ids:
                pairs.append(
                    {
                        "set1": original,
                        "set2": copy,
                        "note": "both in the tracklist: kept both, in one fold",
                    }
                )
    selection.report["soundtracks_pairs"] = pairs
    return clips


def _split_comparison(folder: Path, table: pd.DataFrame) -> dict:
    found = find_thesis_files(folder)
    if "splits" not in found:
        return {"note": "no MER-stratified-splits.json found below the tracklist folder"}
    splits = read_thesis_splits(found["splits"])
    prefixes = tuple(
        {clip_id[:2] for clip_id in table["clip_id"]}
    )  # d_, s_, e_ of the corpora read
    split_ids = [clip_id for clip_id in splits["clip_id"] if clip_id.startswith(prefixes)]
    only_tracklists, only_splits = compare_with_splits(table["clip_id"], split_ids)
    return {
        "file": found["splits"].name,
        "clips_in_split_file": len(split_ids),
        "only_in_tracklists": list(only_tracklists)[:20],
        "n_only_in_tracklists": len(only_tracklists),
        "only_in_split_file": list(only_splits)[:20],
        "n_only_in_split_file": len(only_splits),
    }
