"""The instrumental-MER dataset (Rødningen 2022, seed 001): DEAM + Soundtracks + EMOPIA clips.

Two ways to the same kind of dataset: (a) the thesis's published tracklists plus the
user's audio, or (b) compiled afresh from the raw corpora (DEAM dynamic-annotation
segments, Spotify/manual screening, Soundtracks and EMOPIA middles). ``plan`` writes the
manifests, ``render`` the audio and the Hugging Face dataset (``builders.excerpts``).
"""
