"""The instrumental-MER dataset's plan options (``misme-build instrumental-mer plan|build``).

(a) from the thesis's tracklists: ``--tracklists DIR`` plus the audio of the corpora;
(b) compiled from the raw corpora: ``--deam`` (dynamic annotations, metadata, audio),
``--soundtracks``, ``--emopia``, with DEAM screened by ``--spotify-cache`` (a recorded
Spotify call cache; with ``SPOTIPY_CLIENT_ID``/``SPOTIPY_CLIENT_SECRET`` missing calls are
made and appended) and/or ``--screen`` (the review list ``song_id[,keep,note]``), and
``--instrumentalness`` (a user-supplied ``spotify_id|song_id,instrumentalness`` table:
Spotify's audio-features endpoint is closed to new apps).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from builders.corpora.spotify import SpotifyReader
from builders.corpora.spotify_tables import read_instrumentalness_table, read_review_list
from builders.engine import add_arguments as add_engine_arguments
from builders.errors import UserError
from builders.instrumental_mer.inventory import SourceRoots
from builders.instrumental_mer.plan import Screening, plan_dataset, summarise


def _add_source_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--tracklists",
        type=Path,
        help="mode (a): folder with the thesis's deam-/soundtracks-/emopia-final-tracklist.csv",
    )
    parser.add_argument(
        "--deam", type=Path, help="DEAM root (MEMD_audio/, annotations, metadata_*.csv)"
    )
    parser.add_argument(
        "--soundtracks", type=Path, help="Soundtracks root (Set1/, Set2/, mean_ratings_set*.csv)"
    )
    parser.add_argument("--emopia", type=Path, help="EMOPIA root (clip audio and label.csv)")
    parser.add_argument(
        "--spotify-cache",
        type=Path,
        help="mode (b): Spotify call cache (JSON Lines) for screening DEAM songs",
    )
    parser.add_argument(
        "--screen", type=Path, help="mode (b): review list CSV song_id[,keep,note] (overrides)"
    )
    parser.add_argument(
        "--instrumentalness",
        type=Path,
        help="mode (b): CSV spotify_id,instrumentalness or song_id,instrumentalness",
    )
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument(
        "--recipe",
        type=Path,
        help="recipe TOML (default manifests/instrumental-mer-v1/recipe.toml)",
    )
    parser.add_argument("--seed", type=int, help="override the recipe's seed")
    parser.add_argument(
        "--strict", action="store_true", help="fail instead of skipping missing or unusable files"
    )
    add_engine_arguments(parser)


def screening_from(args: argparse.Namespace) -> Screening:
    """The screening the options ask for (a Spotify reader over the cache, a review list)."""
    if args.instrumentalness is not None and args.spotify_cache is None:
        raise UserError("--instrumentalness is used with Spotify matches: give --spotify-cache too")
    table = read_instrumentalness_table(args.instrumentalness) if args.instrumentalness else None
    spotify = (
        SpotifyReader(args.spotify_cache, instrumentalness_table=table)
        if args.spotify_cache
        else None
    )
    review = read_review_list(args.screen) if args.screen else None
    return Screening(spotify, review)


def add_plan_arguments(parser: argparse.ArgumentParser, step: str) -> None:
    """The plan's options (the same for ``plan`` and ``build``)."""
    _add_source_arguments(parser)


def plan_from_args(args: argparse.Namespace) -> str:
    """Plan the dataset the options name; the summary lines."""
    plan = plan_dataset(
        roots=SourceRoots(args.deam, args.soundtracks, args.emopia),
        out=args.out,
        tracklists=args.tracklists,
        recipe_path=args.recipe,
        seed=args.seed,
        screening=screening_from(args),
        workers=args.workers,
        strict=args.strict,
        wait=args.wait,
        force=args.force,
    )
    return summarise(plan)
