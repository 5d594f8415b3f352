"""The MuSe-style VAD dataset: soundtrack valence/arousal/dominance from Last.fm tags (seed 002)."""
