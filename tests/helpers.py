"""Helpers the test files share: writing and reading the JSONL rows the commands take and give."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from rewardlab.sandbox.bwrap import find_bwrap


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    """Write ``rows`` to ``path`` as JSONL (making its directory); return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """The rows of a JSONL file, blank lines skipped."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def require_bwrap() -> None:
    """Skip where bubblewrap is not installed (`make` installs it); installed but broken fails instead."""
    if find_bwrap() is None:
        pytest.skip("bubblewrap is not installed (apt-get install bubblewrap)")
