"""MiSME: RAVDESS speech mixed into instrumental music (Laugs 2020). Plan, render, export,
separation (oracle, Spleeter), baselines; the dataset is declared in ``spec``."""
