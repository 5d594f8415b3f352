"""`misme-leaderboard`: run a challenge leaderboard (in progress)."""

import argparse


def main(argv=None) -> int:
    argparse.ArgumentParser(prog="misme-leaderboard", description=__doc__).parse_args(argv)
    return 0
