"""The challenge as the organizer writes it: the TOML config (tasks, phases, quotas,
limits), the public/private split of ids, and the participant export (export-challenge)."""
