"""Boards: ranking, significance (Diebold-Mariano, Holm), bootstrap rank intervals, the
terminal text of `show` and the file export of `export`."""
