"""The database: its tables, schema versions and upgrades, sessions, teams and tokens,
quotas, and the stored arrays."""
