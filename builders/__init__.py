"""Dataset builders: MiSME, instrumental-MER and MuSe-style VAD corpora."""

__version__ = "0.1.0"
