"""`misme-score`: validate and score prediction files (in progress)."""

import argparse


def main(argv=None) -> int:
    argparse.ArgumentParser(prog="misme-score", description=__doc__).parse_args(argv)
    return 0
