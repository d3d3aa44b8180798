"""Load Hugging Face models without the weight-loading progress bar or notices meant for library authors.

A `rewardlab score` or `evalkit generate` run should print its results, not transformers' internals.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager

# peft still calls a method transformers 5 renamed; the notice tells a user nothing they can act on.
RENAMED_METHOD_NOTICE = r".*is_gradient_checkpointing.*deprecated"


@contextmanager
def quiet_loading() -> Iterator[None]:
    """Within the block, transformers shows no progress bars and the renamed-method notice is not printed."""
    from transformers.utils import logging as transformers_logging

    bar_was_on = transformers_logging.is_progress_bar_enabled()
    transformers_logging.disable_progress_bar()
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=RENAMED_METHOD_NOTICE, category=FutureWarning)
            yield
    finally:
        if bar_was_on:
            transformers_logging.enable_progress_bar()
