"""A trained reward model as a reward: any one-label ``AutoModelForSequenceClassification``.

Reward models trained with TRL's ``RewardTrainer`` (or published ones such as Skywork-Reward) are sequence
classifiers with a single output: the score of a whole conversation. This module formats each prompt and completion
the way such a model saw them in training, through the tokenizer's chat template, and scores them in batches.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from rewardlab.errors import RowError
from rewardlab.models import quiet_loading
from rewardlab.registry import register
from rewardlab.reward import Reward, Score
from rewardlab.text import strip_think, to_text


@register("reward-model")
class RewardModel(Reward):
    """Score each (prompt, completion) with a one-label sequence-classification model; the logit is the reward.

    When the tokenizer has a chat template, the prompt (a string, or chat messages kept as they are) and the
    completion (as the assistant's message) go through it; otherwise prompt and completion are joined with a
    newline. ``<think>`` blocks are removed from the completion first. Texts longer than ``max_length`` lose their
    beginning, so the model always sees the end of the completion. The model and tokenizer are loaded on first use
    with ``from_pretrained``, which reads a local folder without the network (and a hub name from the local cache
    when ``HF_HUB_OFFLINE=1``); pickling keeps only the settings.

    Args:
        model: Path or hub name of the reward model; its config must have ``num_labels == 1``.
        batch_size: Texts per forward pass.
        max_length: Longest input in tokens.
        device: Where to run the model (``"cuda"``, ``"cpu"``, ``"cuda:1"``); default: CUDA when available.

    Example:
        A reward model saved to a folder (by TRL's ``RewardTrainer``, say)::

            reward = rewardlab.get("reward-model", model="runs/reward-model", batch_size=32)
            values = reward(prompts=["What is 2+2?"], completions=["4"])  # one float per completion

    """

    columns = ("prompt",)

    own_parallelism = True

    def __init__(self, model: str, batch_size: int = 16, max_length: int = 2048, device: str | None = None) -> None:
        if not isinstance(model, str) or not model.strip():
            raise ValueError("model must be a path or a model name")
        if batch_size < 1 or max_length < 1:
            raise ValueError("batch_size and max_length must be >= 1")
        from transformers import AutoConfig

        try:
            config = AutoConfig.from_pretrained(model)
        except (OSError, ValueError) as error:
            raise ValueError(f"cannot load a model config from '{model}': {error}") from None
        if config.num_labels != 1:
            raise ValueError(f"'{model}' has {config.num_labels} labels; a reward model has exactly 1")
        self.model = model
        self.batch_size = batch_size
        self.max_length = max_length
        self.device = device
        self._loaded: tuple[Any, Any] | None = None

    def __getstate__(self) -> dict[str, Any]:
        return self.settings()

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(**state)

    def _load(self) -> tuple[Any, Any]:
        if self._loaded is None:
            import torch
            from transformers import AutoModelForSequenceClassification, AutoTokenizer

            tokenizer = AutoTokenizer.from_pretrained(self.model, truncation_side="left")
            if tokenizer.pad_token is None:
                tokenizer.pad_token = tokenizer.eos_token or tokenizer.unk_token
            device = self.device or ("cuda" if torch.cuda.is_available() else "cpu")
            with quiet_loading():
                model = AutoModelForSequenceClassification.from_pretrained(self.model, dtype="auto")
            model = model.to(device).eval()
            if model.config.pad_token_id is None:
                model.config.pad_token_id = tokenizer.pad_token_id
            self._loaded = (tokenizer, model)
        return self._loaded

    def text(self, prompt: Any, completion: Any) -> str:
        """Return the model input for one row: the chat template's rendering, or prompt and completion joined."""
        tokenizer, _ = self._load()
        answer = strip_think(to_text(completion))
        if not tokenizer.chat_template:
            question = to_text(prompt)
            return f"{question}\n{answer}" if question else answer
        messages = [{"role": "user", "content": prompt}] if isinstance(prompt, str) else list(prompt or [])
        messages = [m for m in messages if m.get("content")]
        messages.append({"role": "assistant", "content": answer})
        return tokenizer.apply_chat_template(messages, tokenize=False)

    def score(self, prompts: Sequence[Any], completions: Sequence[Any], **columns: Any) -> list[Score]:
        """Score the batch; texts are sorted by length so each forward pass pads little."""
        import torch

        texts = []
        for index, (prompt, completion) in enumerate(zip(prompts, completions, strict=True)):
            for field, value in (("prompt", prompt), ("completion", completion)):
                try:
                    to_text(value)
                except TypeError as error:
                    raise RowError(index, field, str(error)) from None
            texts.append(self.text(prompt, completion))
        tokenizer, model = self._load()
        special = not tokenizer.chat_template
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        values: list[float | None] = [None] * len(texts)
        with torch.inference_mode():
            for start in range(0, len(order), self.batch_size):
                batch = order[start : start + self.batch_size]
                inputs = tokenizer(
                    [texts[i] for i in batch],
                    padding=True,
                    truncation=True,
                    max_length=self.max_length,
                    add_special_tokens=special,
                    return_tensors="pt",
                ).to(model.device)
                logits = model(**inputs).logits[:, 0].float().tolist()
                for i, logit in zip(batch, logits, strict=True):
                    values[i] = logit if math.isfinite(logit) else None
        return [Score(value) for value in values]
