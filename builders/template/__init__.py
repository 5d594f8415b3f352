"""A dataset to copy: ``docs/adding-a-dataset.md`` says which five things to fill in.

Not registered: ``builders.registry`` lists a dataset only once its package is filled in.
"""
