"""What every builder shares: atomic writes, seeding, audio io, loudness, manifests,
recipes, fold dealing, resume records and hashing. Imports nothing above itself."""
