"""placeholder"""

from builders.hf.data_files import Build


def write_croissant(build: Build) -> None:
    return None
