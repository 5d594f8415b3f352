"""Hugging Face export shared by every dataset: Parquet shards with audio bytes, solution
files, the dataset and audio digests, the dataset card and ``verify``. What a dataset has (configs,
views, folds, output spec) comes from its :class:`builders.hf.spec.DatasetSpec`."""
