"""Scoring a prediction file in a sandbox: the typed request and result, the worker
process and its limits, the warm zygote it is forked from (or a fresh interpreter), and
the init probe of the limits. It reads no database."""
