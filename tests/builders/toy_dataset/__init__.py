"""A toy fourth dataset, made from ``builders/template/`` as ``docs/adding-a-dataset.md`` says:
the proof that the dataset protocol is enough (``test_toy_dataset.py`` builds it end to end)."""
