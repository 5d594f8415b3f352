"""The Streamlit pages (`misme-leaderboard serve` runs app/pages.py)."""
