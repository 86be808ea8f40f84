"""Fixtures: the repository's `storyprint` command (the package is held to it), the example
corpus, and ../shared beside the repository (tests that need it skip without it)."""

import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared"


@pytest.fixture(scope="module")
def cli():
    """Runs the release build of the command (`cargo build --release` first) in the
    repository, returning its standard output."""
    binary = Path(os.environ.get("STORYPRINT_BIN", REPO / "target" / "release" / "storyprint"))
    assert binary.exists(), f"{binary} is missing: run `cargo build --release` first"

    def run(*args, check=True):
        done = subprocess.run(
            [str(binary), *map(str, args)], capture_output=True, text=True, cwd=REPO
        )
        if check:
            assert done.returncode == 0, done.stderr
        return done.stdout

    return run


@pytest.fixture(scope="module")
def examples():
    """The example corpus: (ids, texts), in the order the command reads the directory."""
    paths = sorted((REPO / "examples").glob("*.txt"))
    return [p.name for p in paths], [p.read_text(encoding="utf-8") for p in paths]


@pytest.fixture(scope="module")
def shared():
    """../shared, or a skip."""
    if not SHARED.is_dir():
        pytest.skip("../shared is absent beside the repository")
    return SHARED
