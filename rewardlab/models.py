"""Load Hugging Face models: a causal LM with its tokenizer and adapter, quietly, with one-line errors.

``evalkit generate`` and the training commands load the policy through :func:`load_causal_lm`; every loader runs
under :func:`quiet_loading`, since a `rewardlab score` or `evalkit generate` run should print its results, not
transformers' progress bars or notices meant for library authors.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rewardlab.errors import RewardlabError, first_line

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


class ModelError(RewardlabError):
    """A model, tokenizer or adapter that cannot be loaded, in one line."""


def load_causal_lm(
    model: str, adapter: str | None = None, dtype: Any = "auto", **model_kwargs: Any
) -> tuple[Any, Any]:
    """Load a causal LM (on the GPU when there is one), its tokenizer set for left padding, and a peft adapter.

    ``dtype`` goes to ``from_pretrained``: ``auto`` keeps the checkpoint's (bf16 for Qwen). ``model_kwargs`` go
    there too (``attn_implementation``, ``quantization_config``, ...); ``revision`` and ``trust_remote_code`` also
    to the tokenizer's; with a ``device_map`` the model stays where that put it.
    ``grpo-train`` and ``sft-train`` load their policy through here too.

    Raises:
        ModelError: The model, its tokenizer or the adapter cannot be loaded.

    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if not Path(model).exists() and (
        Path(model).is_absolute() or model.startswith((".", "~")) or model.count("/") > 1
    ):
        raise ModelError(f"cannot load model '{model}': no such directory")
    if adapter is not None and not (Path(adapter) / "adapter_config.json").is_file():
        raise ModelError(f"adapter '{adapter}': no adapter_config.json there (expected a peft adapter directory)")
    try:
        shared = {key: model_kwargs[key] for key in ("revision", "trust_remote_code") if key in model_kwargs}
        tokenizer = AutoTokenizer.from_pretrained(model, **shared)
        with quiet_loading():
            lm = AutoModelForCausalLM.from_pretrained(model, dtype=dtype, **model_kwargs)
    except (OSError, ValueError) as error:
        hint = "" if Path(model).exists() else " (and there is no local directory of that name)"
        raise ModelError(f"cannot load model '{model}': {first_line(error)}{hint}") from None
    if adapter is not None:
        from peft import PeftModel

        try:
            with quiet_loading():
                lm = PeftModel.from_pretrained(lm, adapter)
        except (OSError, ValueError, RuntimeError, KeyError) as error:
            raise ModelError(f"cannot load adapter '{adapter}' on '{model}': {first_line(error)}") from None
    tokenizer.padding_side = "left"
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    if "device_map" in model_kwargs:
        return lm.eval(), tokenizer
    device = "cuda" if torch.cuda.is_available() else "cpu"
    return lm.to(device).eval(), tokenizer
