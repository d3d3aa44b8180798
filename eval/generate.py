r"""Sample completions from a causal LM, optionally with a LoRA adapter, for every prompt of a JSONL file.

The rows it writes (``prompt_id``, ``sample``, ``prompt``, ``completion`` and every other input column) are the
generations ``evalkit compare`` reads, so a base model and its GRPO adapter can be sampled the same way and compared:

    evalkit generate --model tiny --data prompts.jsonl --num-samples 4 --out runs/baseline/generations.jsonl
    evalkit generate --model tiny --adapter out/grpo --data prompts.jsonl --num-samples 4 \\
        --out runs/grpo/generations.jsonl

torch, transformers and peft are imported only when generation starts.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import click

from eval.progress import Progress
from rewardlab.cli.framework import user_errors
from rewardlab.engine.read import InputError, read_jsonl, source_name
from rewardlab.engine.validate import require_text
from rewardlab.engine.write import write_jsonl
from rewardlab.errors import RewardlabError
from rewardlab.models import load_causal_lm

#: Columns every generation row has; an input column of the same name is replaced.
GENERATED = ("prompt_id", "sample", "prompt", "completion")
#: Without a terminal, a progress line is printed every this many completions.
PROGRESS_EVERY = 100


class GenerationError(RewardlabError):
    """The model, tokenizer or adapter cannot be loaded or cannot format a prompt."""


@dataclass(frozen=True)
class SamplingSettings:
    """How completions are sampled; ``temperature == 0`` means greedy decoding (one completion, repeated).

    Attributes:
        num_samples: Completions per prompt (the k of pass@k).
        temperature: Softmax temperature; 0 for greedy decoding.
        top_p: Nucleus sampling threshold (1 keeps the whole distribution).
        max_new_tokens: Longest completion, in tokens.
        batch_size: Sequences per forward pass.
        seed: Seed of every random generator; the same seed, data and batch size give the same rows.
        system_prompt: A system message put before every prompt that has none.

    """

    num_samples: int = 1
    temperature: float = 1.0
    top_p: float = 1.0
    max_new_tokens: int = 128
    batch_size: int = 8
    seed: int = 0
    system_prompt: str | None = None

    def __post_init__(self) -> None:
        checks = [
            (self.num_samples >= 1, f"num_samples must be at least 1, got {self.num_samples}"),
            (self.temperature >= 0, f"temperature must be 0 or more, got {self.temperature}"),
            (0 < self.top_p <= 1, f"top_p must be in (0, 1], got {self.top_p}"),
            (self.max_new_tokens >= 1, f"max_new_tokens must be at least 1, got {self.max_new_tokens}"),
            (self.batch_size >= 1, f"batch_size must be at least 1, got {self.batch_size}"),
        ]
        for ok, message in checks:
            if not ok:
                raise GenerationError(message)


def load_prompts(source: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Read prompt rows from JSONL: each needs ``prompt`` (text or chat messages); ``prompt_id`` is optional.

    A missing ``prompt_id`` becomes the row's 0-based position in the file, so runs sampled from the same file
    pair up in ``evalkit compare``.

    Raises:
        InputError: A row lacks ``prompt``, has one of the wrong type, or repeats a ``prompt_id``.

    """
    name = source_name(source)
    records: list[dict[str, Any]] = []
    first_line: dict[Any, int] = {}
    for index, row in enumerate(read_jsonl(source)):
        require_text(row, "prompt", name)
        prompt_id = row.data.get("prompt_id", index)
        if isinstance(prompt_id, bool) or not isinstance(prompt_id, (str, int)):
            raise InputError(
                name, row.line, f"expected a string or an integer, got {type(prompt_id).__name__}", "prompt_id"
            )
        if prompt_id in first_line:
            raise InputError(
                name, row.line, f"duplicate '{prompt_id}' (first on line {first_line[prompt_id]})", "prompt_id"
            )
        first_line[prompt_id] = row.line
        records.append({**row.data, "prompt_id": prompt_id})
    return records


def generate_rows(
    model: str | os.PathLike[str],
    prompts: Sequence[Mapping[str, Any]],
    settings: SamplingSettings | None = None,
    *,
    adapter: str | os.PathLike[str] | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[dict[str, Any]]:
    """Sample ``settings.num_samples`` completions for each prompt with a model (and LoRA adapter) from disk or hub.

    Args:
        model: A local directory or hub id that ``AutoModelForCausalLM.from_pretrained`` loads.
        prompts: Rows with ``prompt`` (a string, wrapped as a user message when the tokenizer has a chat template,
            or a list of chat messages) and optionally ``prompt_id`` (else the row's position); other keys are
            carried into every output row.
        settings: Sampling settings; the defaults of :class:`SamplingSettings` when None.
        adapter: A peft adapter directory applied on top of ``model``.
        progress: Called with the number of completions each batch produced.

    Returns:
        One row per prompt and sample, in input order: the input row with ``prompt_id``, ``sample`` (0-based) and
        ``completion`` (the new tokens decoded without special tokens; ``<think>`` blocks are kept).

    Raises:
        GenerationError: The model or adapter cannot be loaded, or chat messages meet a tokenizer without a template.

    """
    import torch
    import transformers

    settings = settings or SamplingSettings()
    lm, tokenizer = load_causal_lm(str(model), None if adapter is None else str(adapter))
    texts = [_format(tokenizer, record["prompt"], settings.system_prompt) for record in prompts]
    greedy = settings.temperature == 0
    draws = 1 if greedy else settings.num_samples
    jobs = [(index, sample) for index in range(len(prompts)) for sample in range(draws)]

    options: dict[str, Any] = {"max_new_tokens": settings.max_new_tokens, "pad_token_id": tokenizer.pad_token_id}
    if greedy:
        options.update(do_sample=False, temperature=None, top_p=None, top_k=None)
    else:
        options.update(do_sample=True, temperature=settings.temperature, top_p=settings.top_p)

    transformers.set_seed(settings.seed)
    completions: dict[tuple[int, int], str] = {}
    for start in range(0, len(jobs), settings.batch_size):
        batch = jobs[start : start + settings.batch_size]
        encoded = tokenizer(
            [texts[index] for index, _ in batch], return_tensors="pt", padding=True, add_special_tokens=False
        ).to(lm.device)
        with torch.inference_mode():
            output = lm.generate(**encoded, **options)
        new_tokens = output[:, encoded["input_ids"].shape[1] :]
        for job, text in zip(batch, tokenizer.batch_decode(new_tokens, skip_special_tokens=True), strict=True):
            completions[job] = text
        if progress is not None:
            progress(len(batch))

    rows = []
    for index, record in enumerate(prompts):
        carried = {key: value for key, value in record.items() if key not in GENERATED}
        for sample in range(settings.num_samples):
            completion = completions[(index, 0 if greedy else sample)]
            prompt_id = record.get("prompt_id", index)
            rows.append(
                {"prompt_id": prompt_id, "sample": sample, "prompt": record["prompt"], "completion": completion}
                | carried
            )
    return rows


def _format(tokenizer: Any, prompt: str | list[dict[str, Any]], system_prompt: str | None) -> str:
    """The text the model continues: the prompt through the chat template when there is one, else as it is."""
    if tokenizer.chat_template is None:
        if not isinstance(prompt, str):
            raise GenerationError("prompts are chat messages but the tokenizer has no chat template")
        return prompt if system_prompt is None else f"{system_prompt}\n\n{prompt}"
    messages = [{"role": "user", "content": prompt}] if isinstance(prompt, str) else list(prompt)
    if system_prompt is not None and (not messages or messages[0].get("role") != "system"):
        messages.insert(0, {"role": "system", "content": system_prompt})
    return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)


@click.command("generate")
@click.option("--model", required=True, help="Model directory or hub id (AutoModelForCausalLM).")
@click.option("--adapter", type=click.Path(file_okay=False), help="peft LoRA adapter directory to apply.")
@click.option("--data", required=True, type=click.Path(dir_okay=False, allow_dash=True), help="Prompts JSONL.")
@click.option("--num-samples", "-n", default=1, show_default=True, help="Completions per prompt (n of pass@k).")
@click.option("--temperature", default=1.0, show_default=True, help="Sampling temperature; 0 for greedy.")
@click.option("--top-p", default=1.0, show_default=True, help="Nucleus sampling threshold.")
@click.option("--max-new-tokens", default=128, show_default=True, help="Longest completion in tokens.")
@click.option("--batch-size", default=8, show_default=True, help="Sequences per forward pass.")
@click.option("--seed", default=0, show_default=True, help="Random seed.")
@click.option("--system-prompt", help="System message put before every prompt that has none.")
@click.option("--out", required=True, type=click.Path(dir_okay=False, allow_dash=True), help="Generations JSONL.")
def generate(
    model: str,
    adapter: str | None,
    data: str,
    num_samples: int,
    temperature: float,
    top_p: float,
    max_new_tokens: int,
    batch_size: int,
    seed: int,
    system_prompt: str | None,
    out: str,
) -> None:
    """Sample completions for every prompt of DATA and write generation rows that `evalkit compare` reads."""
    with user_errors():
        settings = SamplingSettings(num_samples, temperature, top_p, max_new_tokens, batch_size, seed, system_prompt)
        prompts = load_prompts(data)
        draws = len(prompts) * (1 if temperature == 0 else num_samples)
        with Progress("generating", draws, every=PROGRESS_EVERY, unit="completions") as progress:
            rows = generate_rows(model, prompts, settings, adapter=adapter, progress=progress.update)
        count = write_jsonl(out, rows)
    click.echo(f"wrote {count} generations ({len(prompts)} prompts x {num_samples} samples) to {out}", err=True)
