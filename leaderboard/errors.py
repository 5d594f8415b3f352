"""The leaderboard's user-facing error: the CLI prints its message on one line and exits 2."""


class LeaderboardError(Exception):
    """A mistake the user can fix (bad config, wrong token, over quota, ...)."""
