"""Readers for the source corpora as distributed on disk, one module per corpus.

``listing`` holds what they share; each reader module (``ravdess``, ``deam``,
``soundtracks``, ...) returns a :class:`builders.corpora.listing.CorpusListing`.
This package file imports nothing, so importing one reader never loads another.
"""
