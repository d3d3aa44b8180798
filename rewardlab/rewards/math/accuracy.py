"""Rewards that judge the answer against the gold with math-verify: accuracy, and the cosine and length shapes."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from rewardlab.errors import RewardlabError, RowError
from rewardlab.params import require_bool, require_finite, require_positive
from rewardlab.registry import register
from rewardlab.reward import Reward, Score, group_keys
from rewardlab.rewards.math.answers import (
    DEFAULT_TIMEOUT,
    SHOWN_ANSWER_CHARS,
    answer_region,
    check_unit,
    completion_texts,
    lengths,
)
from rewardlab.rewards.math.extract import final_answer
from rewardlab.rewards.math.verify import Verdict, verify_batch


class _Verified(Reward):
    """Base of the rewards that check the answer against the gold ``solution`` with math-verify."""

    columns = ("solution",)

    def __init__(self, timeout: float = DEFAULT_TIMEOUT, think_prefilled: bool = False) -> None:
        self.timeout = require_positive("timeout", timeout)
        self.think_prefilled = require_bool("think_prefilled", think_prefilled)

    def region(self, text: str) -> str:
        """The part of ``text`` that holds the answer (see :func:`answer_region`)."""
        return answer_region(text, self.think_prefilled)

    def verdicts(self, completions: Sequence[Any], columns: dict[str, Any]) -> tuple[list[str], list[Any]]:
        """Return each completion's text and its verdict (``correct`` None: no parseable gold, or undecided).

        The answer is found by the one rule of :mod:`rewardlab.rewards.math.extract`; a completion where it finds none
        is wrong (False), one where it finds two different answers has no verdict (None); either way with the reason.
        """
        texts = completion_texts(completions)
        solutions = columns.get("solution")
        if solutions is None:
            raise RewardlabError(f"reward '{self.name}' needs the 'solution' column (the gold answer)")
        golds = [gold_text(index, value) for index, value in enumerate(solutions)]
        rows = [i for i, gold in enumerate(golds) if gold is not None]
        found = {i: final_answer(self.region(texts[i])) for i in rows}
        checked = verify_batch([golds[i] for i in rows], [found[i].text or "" for i in rows], self.timeout)
        verdicts: list[Any] = [Verdict(None, error="no gold solution")] * len(texts)
        for index, verdict in zip(rows, checked, strict=True):
            answer = found[index]
            verdict = replace(verdict, answer=answer.text, answer_rule=answer.rule)
            if answer.text is None and verdict.correct is not None:
                verdict = replace(verdict, correct=None if answer.undecided else False, error=answer.reason)
            verdicts[index] = verdict
        return texts, verdicts

    def details(self, text: str, verdict: Any) -> dict[str, Any]:
        """What was read from the answer (and by which rule) and the gold, and why there is no verdict if none."""
        region = self.region(text)
        if len(region) > SHOWN_ANSWER_CHARS:  # the answer is at the end; keep that
            region = "…" + region[-(SHOWN_ANSWER_CHARS - 1) :]
        details: dict[str, Any] = {"answer_text": region}
        if verdict.answer_rule is not None:
            details.update(answer=verdict.answer, answer_rule=verdict.answer_rule)
        details.update(answer_parsed=verdict.answer_parsed, gold_parsed=verdict.gold_parsed)
        if verdict.timed_out:
            details["timed_out"] = True
        if verdict.error:
            details["error"] = verdict.error
        return details


def gold_text(index: int, value: Any) -> str | None:
    """A row's gold solution as text for math-verify (numbers too), None when there is none."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise RowError(index, "solution", f"expected a string or a number, got {type(value).__name__}")
    return str(value)


@register("math-accuracy")
class MathAccuracy(_Verified):
    r"""1.0 if the answer equals the gold ``solution`` by math-verify, 0.0 if not or out of time, None without gold.

    The gold is read as LaTeX, bare LaTeX as MATH stores it (``2^{10}``, ``\frac{\sqrt{2}}{2}``) read whole, or a
    plain number; a gold that cannot be read as math → None (the row does not apply; ``details["error"]`` says
    why). The answer is read from the first ``<answer>…</answer>`` block, else the text after ``</think>``, else the
    whole completion, never the reasoning, by the one rule of :mod:`rewardlab.rewards.math.extract`: the last
    ``\boxed{}``, else the answer tag, else GSM8K's ``#### N``, else an "answer is" / "Final Answer:" phrase, else
    the last math span, else a text that is all math; normalised (mixed numbers, digit groups, trailing full stops)
    before math-verify reads it. No answer → 0.0; two different answers at one place → None; either with the reason
    in ``details["error"]``. Then ``verify(gold, answer)``, gold first (verify is not symmetric). TRL's
    ``accuracy_reward`` is this reward; its ``reasoning_accuracy_reward`` is this reward with ``think_prefilled=True``.

    Parsing and verifying run in worker processes (fresh interpreters that never import the caller's script) under
    a hard time limit, so no input can hang the caller: main thread, worker thread or TRL's async reward thread.

    Args:
        timeout: Seconds allowed for one answer's parse and verify (and for one gold's parse). An answer past it
            (or whose worker dies) is tried once more on a fresh worker, since a busy host can cause either; past it
            twice the row gets 0.0 and ``details["timed_out"]`` (a gold past it: None). Where math-verify itself
            raises, the row is None with the reason in ``details["error"]``.
        think_prefilled: The chat template ends the prompt with ``<think>`` (Qwen3 with thinking on): a completion
            that never closes it with ``</think>`` was cut off in its reasoning and has no answer.

    Example:
        >>> reward = MathAccuracy()
        >>> completions = ["<think>\n3*4\n</think>\n<answer>\n12\n</answer>", "<answer>\n$13$\n</answer>", "no gold"]
        >>> reward(completions=completions, solution=["12", "\\boxed{12}", "just words"])
        [1.0, 0.0, None]
        >>> MathAccuracy(think_prefilled=True)(completions=["so it is \\boxed{12}"], solution=["12"])
        [0.0]

    """

    #: Correct when the answer equals the gold.
    correct_when = "value"

    def score(self, prompts: Sequence[Any], completions: Sequence[Any], **columns: Any) -> list[Score]:
        """Verify each completion; details hold the answer text, the parsed answer and the parsed gold."""
        texts, verdicts = self.verdicts(completions, columns)
        scores = []
        for text, verdict in zip(texts, verdicts, strict=True):
            value = None if verdict.correct is None else float(verdict.correct)
            timed_out = None if verdict.correct is None else float(verdict.timed_out)
            scores.append(Score(value, {"timed_out": timed_out}, self.details(text, verdict)))
        return scores


@register("math-cosine")
class MathCosine(_Verified):
    r"""Cosine length scaling of correctness (Demystifying Long CoT Reasoning, Yeo et al. 2025, App. C.1).

    progress = min(length / max_len, 1); reward = lo + (hi − lo)(1 + cos(π·progress))/2, so correct answers go
    from ``max_correct`` (short) down to ``min_correct`` (at ``max_len`` and beyond) and wrong ones from
    ``min_wrong`` (short) up to ``max_wrong``. Clamped: open-r1's unclamped progress lets the cosine come back up,
    rewarding answers of twice ``max_len`` like short ones. Correctness as in ``math-accuracy`` (out of time counts
    as wrong); no parseable gold → None.

    Args:
        min_wrong: Reward of a wrong answer of length 0.
        max_wrong: Reward of a wrong answer of ``max_len`` or longer.
        min_correct: Reward of a correct answer of ``max_len`` or longer.
        max_correct: Reward of a correct answer of length 0.
        max_len: Length (tokens or characters, see ``unit``) where the scaling ends.
        unit: "auto" (tokens when ``completion_ids`` are passed, else characters), "tokens" or "chars".
        timeout: Seconds for one parse and verify, as in ``math-accuracy``.
        think_prefilled: The prompt ends with ``<think>``; an answer needs ``</think>``, as in ``math-accuracy``.

    Example:
        >>> reward = MathCosine(max_len=60)  # these completions are 30 characters: half way
        >>> reward(completions=["<answer>\n$\\boxed{7}$\n</answer>", "<answer>\n$\\boxed{8}$\n</answer>"],
        ...        solution=["7", "7"])
        [0.75, -0.75]

    """

    #: Correct when the answer equals the gold, whatever the length.
    correct_when = "correct"

    def __init__(
        self,
        min_wrong: float = -1.0,
        max_wrong: float = -0.5,
        min_correct: float = 0.5,
        max_correct: float = 1.0,
        max_len: int = 1000,
        unit: str = "auto",
        timeout: float = DEFAULT_TIMEOUT,
        think_prefilled: bool = False,
    ) -> None:
        super().__init__(timeout, think_prefilled)
        self.min_wrong = require_finite("min_wrong", min_wrong)
        self.max_wrong = require_finite("max_wrong", max_wrong)
        self.min_correct = require_finite("min_correct", min_correct)
        self.max_correct = require_finite("max_correct", max_correct)
        self.max_len = require_positive("max_len", max_len)
        self.unit = check_unit(unit)
        if self.unit == "tokens":
            self.columns = ("solution", "completion_ids")

    def value(self, correct: bool, length: int) -> float:
        """The reward of one answer: cosine interpolation between the short and the long end."""
        progress = min(length / self.max_len, 1.0)
        short, long = (self.max_correct, self.min_correct) if correct else (self.min_wrong, self.max_wrong)
        return long + 0.5 * (short - long) * (1.0 + math.cos(progress * math.pi))

    def score(self, prompts: Sequence[Any], completions: Sequence[Any], **columns: Any) -> list[Score]:
        """Verify each completion and scale by its length; components give correctness and length."""
        texts, verdicts = self.verdicts(completions, columns)
        counted, unit = lengths(texts, columns.get("completion_ids"), self.unit)
        scores = []
        for text, verdict, length in zip(texts, verdicts, counted, strict=True):
            details = {**self.details(text, verdict), "length": length, "unit": unit}
            if verdict.correct is None:
                scores.append(Score(None, {"correct": None, "length": float(length)}, details))
                continue
            value = self.value(verdict.correct, length)
            scores.append(Score(value, {"correct": float(verdict.correct), "length": float(length)}, details))
        return scores


@register("math-length")
class MathLength(_Verified):
    r"""Kimi 1.5 length reward, computed within each group of completions for the same prompt.

    λ = 0.5 − (len − min)/(max − min) over the group's lengths; correct → λ, wrong → min(0, λ); a group whose
    lengths are all equal (or of one completion) → 0. Groups are the rows of one call sharing a ``prompt_id``
    (when that column is present) or else the same prompt text — not the whole batch, as open-r1 normalises,
    which makes one prompt's reward depend on the other prompts it was batched with. Rows without a parseable
    gold get None and do not count towards their group's min and max. Correctness as in ``math-accuracy`` (out of
    time counts as wrong).

    Args:
        unit: "auto" (tokens when ``completion_ids`` are passed, else characters), "tokens" or "chars".
        timeout: Seconds for one parse and verify, as in ``math-accuracy``.
        think_prefilled: The prompt ends with ``<think>``; an answer needs ``</think>``, as in ``math-accuracy``.

    Example:
        >>> reward = MathLength()
        >>> reward(prompts=["2+2?"] * 3, completions=["<answer>\n$4$\n</answer>", "Answer: $4$ as 2+2 is 4, surely.",
        ...        "<answer>\n$5$\n</answer>"], solution=["4"] * 3)
        [0.5, -0.5, 0.0]

    """

    #: Correct when the answer equals the gold, whatever the length.
    correct_when = "correct"

    group_level = True

    def __init__(self, unit: str = "auto", timeout: float = DEFAULT_TIMEOUT, think_prefilled: bool = False) -> None:
        super().__init__(timeout, think_prefilled)
        self.unit = check_unit(unit)
        if self.unit == "tokens":
            self.columns = ("solution", "completion_ids")

    def score(self, prompts: Sequence[Any], completions: Sequence[Any], **columns: Any) -> list[Score]:
        """Verify each completion, then compare lengths within its group."""
        texts, verdicts = self.verdicts(completions, columns)
        counted, unit = lengths(texts, columns.get("completion_ids"), self.unit)
        keys = group_keys(prompts, columns.get("prompt_id"), len(texts))
        groups: dict[Any, list[int]] = {}
        for index, (key, verdict) in enumerate(zip(keys, verdicts, strict=True)):
            if verdict.correct is not None:
                groups.setdefault(key, []).append(counted[index])
        scores = []
        for text, verdict, length, key in zip(texts, verdicts, counted, keys, strict=True):
            details = {**self.details(text, verdict), "length": length, "unit": unit}
            if verdict.correct is None:
                scores.append(Score(None, {"correct": None, "length": float(length)}, details))
                continue
            shortest, longest = min(groups[key]), max(groups[key])
            details.update(group_min=shortest, group_max=longest, group_size=len(groups[key]))
            if longest == shortest:
                value = 0.0
            else:
                lam = 0.5 - (length - shortest) / (longest - shortest)
                value = lam if verdict.correct else min(0.0, lam)
            scores.append(Score(value, {"correct": float(verdict.correct), "length": float(length)}, details))
        return scores
