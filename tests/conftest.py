"""Shared fixtures: paths to the project's fixture files and the tiny Qwen3 model built once per session."""

from __future__ import annotations

import importlib.util
import signal
from pathlib import Path

import pytest
from hypothesis import settings

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"

# Hypothesis fails an example that runs longer than 200 ms by default: a timing assertion, which a loaded 2-core CI
# machine trips at random (a first example that loads the embedding model takes seconds). Time is not what these
# properties check.
settings.register_profile("rewardlab", deadline=None)
settings.load_profile("rewardlab")


@pytest.fixture(autouse=True, scope="session")
def ctrl_c_reaches_the_tests() -> None:
    """Let the Ctrl-C tests press Ctrl-C as a terminal does, even where the runner was started with SIGINT ignored.

    A shell without job control starts background commands (CI runners among them) with SIGINT ignored, and a
    process inherits that through exec: the commands those tests start would never see the key.
    """
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    return FIXTURES


@pytest.fixture(scope="session")
def tiny_qwen(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random Qwen3 model and tokenizer on disk, built by fixtures/tiny_qwen.py (deterministic)."""
    spec = importlib.util.spec_from_file_location("tiny_qwen", FIXTURES / "tiny_qwen.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = tmp_path_factory.mktemp("tiny-qwen")
    module.build(out)
    return out
