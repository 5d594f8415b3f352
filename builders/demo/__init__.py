"""The demo: synthetic sources in the real corpora's formats, and the whole chain end to end.

The only part of ``builders`` that imports ``leaderboard`` (to fill the demo challenge)."""
