"""Math rewards for ``<think>…</think><answer>…</answer>`` completions, after open-r1 and TRL, with their bugs fixed.

Format and tag rewards (``math-format``, ``math-tags``, ``think-format``) check the layout; ``math-accuracy`` checks
the answer with math-verify in worker processes under a hard time limit; ``math-cosine``, ``math-length`` and
``overlong`` shape rewards by length; ``math-repetition`` (words, CJK characters or tokens) and ``math-steps`` look at
the reasoning. ``math`` is the usual preset: accuracy + format + tags. Every reward that reads the answer takes
``think_prefilled`` for chat templates that open ``<think>`` in the prompt. Where a peer's definition has a known
bug, ours differs and a test in ``tests/test_math.py`` names it; ``tests/test_math_peer_cases.py`` runs the peers'
own test cases against ours.

Lengths count tokens when the trainer passes ``completion_ids`` and characters otherwise; ``unit=`` forces one.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

from rewardlab.core import Reward, RewardlabError, RowError, Score, WeightedSum, group_keys, register
from rewardlab.text import split_think, to_text

THINK_OPEN, THINK_CLOSE, ANSWER_OPEN, ANSWER_CLOSE = "<think>", "</think>", "<answer>", "</answer>"
TAGS = (THINK_OPEN, THINK_CLOSE, ANSWER_OPEN, ANSWER_CLOSE)
#: The one layout ``math-format`` accepts; ``\Z`` (not open-r1's MULTILINE ``$``) so nothing may follow.
FORMAT_RE = re.compile(r"<think>\n.*?\n</think>\n<answer>\n.*?\n</answer>\Z", re.DOTALL)
ANSWER_BLOCK_RE = re.compile(r"<answer>.*?</answer>", re.DOTALL)
#: ``math-steps`` markers; MULTILINE so ``^`` starts every line (open-r1's ``^`` only matches the text's start).
STEP_RE = re.compile(r"Step \d+:|^[ \t]*\d+\.(?!\d)|^[ \t]*[-*][ \t]|First,|Second,|Next,|Finally,", re.MULTILINE)
UNITS = ("auto", "tokens", "chars")
#: Default seconds for one answer's parse and verify (math-verify's own default per operation).
DEFAULT_TIMEOUT = 5.0
#: Longest answer text shown in a score's details.
SHOWN_ANSWER_CHARS = 300


def completion_texts(completions: Sequence[Any]) -> list[str]:
    """Return each completion's text (strings or chat messages), naming the row of one that is neither.

    Raises:
        RowError: A completion is neither a string nor a list of chat messages.

    """
    texts = []
    for index, completion in enumerate(completions):
        try:
            texts.append(to_text(completion))
        except TypeError as error:
            raise RowError(index, "completion", str(error)) from None
    return texts


def answer_region(text: str, think_prefilled: bool = False) -> str:
    r"""Return the part of a completion that holds its final answer, never the reasoning.

    The first ``<answer>…</answer>`` block after the reasoning (tags included, so math-verify's "answer" anchor
    sees them as it does in open-r1), else the text after ``</think>``, else the whole completion. A ``<think>``
    that is never closed (generation cut off) leaves only what came before it; with ``think_prefilled`` (the chat
    template opened ``<think>`` in the prompt) a completion without ``</think>`` is all reasoning and has no answer.

    Example:
        >>> answer_region("<think>\nmaybe <answer>5</answer>\n</think>\n<answer>\n$4$\n</answer>")
        '<answer>\n$4$\n</answer>'
        >>> answer_region("<think>\nit is 5\n</think>\nThe answer is $4$.")
        '\nThe answer is $4$.'
        >>> answer_region("so it is \\boxed{12}", think_prefilled=True)
        ''

    """
    if think_prefilled:
        text = THINK_OPEN + text
    _, rest = split_think(text)
    block = ANSWER_BLOCK_RE.search(rest)
    return block.group(0) if block else rest


def check_unit(unit: str) -> str:
    """Validate a ``unit=`` parameter."""
    if unit not in UNITS:
        raise ValueError(f"unit must be one of {', '.join(UNITS)}, not {unit!r}")
    return unit


def lengths(texts: Sequence[str], completion_ids: Sequence[Any] | None, unit: str) -> tuple[list[int], str]:
    """Return each completion's length and the unit counted: tokens when ``completion_ids`` are given, else chars.

    Raises:
        RewardlabError: ``unit="tokens"`` without ``completion_ids``.
        RowError: A row's ``completion_ids`` is missing or not a sequence.

    """
    if unit == "chars" or (unit == "auto" and completion_ids is None):
        return [len(t) for t in texts], "chars"
    if completion_ids is None:
        raise RewardlabError("unit='tokens' needs the completion_ids column")
    counted = []
    for index, ids in enumerate(completion_ids):
        try:
            counted.append(len(ids))
        except TypeError:
            raise RowError(
                index, "completion_ids", f"expected a list of token ids, got {type(ids).__name__}"
            ) from None
    return counted, "tokens"


def _positive(name: str, value: float) -> float:
    if isinstance(value, bool) or not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive number, not {value!r}")
    return value


def _finite(name: str, value: float) -> float:
    if isinstance(value, bool) or not (isinstance(value, (int, float)) and math.isfinite(value)):
        raise ValueError(f"{name} must be a finite number, not {value!r}")
    return float(value)


def _flag(name: str, value: bool) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be true or false, not {value!r}")
    return value


@register("math-format")
class MathFormat(Reward):
    r"""1.0 if the completion is exactly ``<think>\n…\n</think>\n<answer>\n…\n</answer>``, else 0.0.

    Trailing whitespace is ignored; each of the four tags must occur exactly once and nothing may follow
    ``</answer>`` (open-r1's MULTILINE ``$`` lets text after ``</answer>`` through: a known reward hack).

    Args:
        think_prefilled: The chat template ends the prompt with ``<think>\n`` (Qwen3 with thinking on), so the
            completion is checked as if it began with it.

    Example:
        >>> reward = MathFormat()
        >>> reward(completions=["<think>\n2+2\n</think>\n<answer>\n4\n</answer>\n", "<answer>\n4\n</answer>"])
        [1.0, 0.0]

    """

    def __init__(self, think_prefilled: bool = False) -> None:
        self.think_prefilled = _flag("think_prefilled", think_prefilled)

    def score(self, prompts: Sequence[Any], completions: Sequence[Any], **columns: Any) -> list[Score]:
        """Check each completion's layout; details say what is wrong with one that fails."""
        scores = []
        for text in completion_texts(completions):
            if self.think_prefilled:
                text = THINK_OPEN + "\n" + text
            problem = format_problem(text.rstrip())
            scores.append(Score(0.0 if problem else 1.0, details={"problem": problem} if problem else {}))
        return scores


def format_problem(text: str) -> str | None:
    r"""Say why ``text`` is not in the ``math-format`` layout, or None when it is.

    Example:
        >>> format_problem("<think>\nx\n</think>\n<answer>\n4\n</answer>\nAlso 5.")
        'text after </answer>'

    """
    for tag in TAGS:
        count = text.count(tag)
        if count != 1:
            return f"{tag} occurs {count} times"
    if FORMAT_RE.match(text):
        return None
    if not text.endswith(ANSWER_CLOSE):
        return "text after </answer>"
    return "not laid out as <think>\\n…\\n</think>\\n<answer>\\n…\\n</answer>"


@register("math-tags")
class MathTags(Reward):
    r"""0.25 for each of ``<think>\n``, ``\n</think>\n``, ``\n<answer>\n``, ``\n</answer>`` occurring exactly once.

    A partial-credit companion of ``math-format`` (open-r1's ``tag_count_reward``).

    Args:
        think_prefilled: The chat template ends the prompt with ``<think>\n`` (Qwen3 with thinking on), so the
            completion is counted as if it began with it (without this, such completions score at most 0.75).

    Example:
        >>> MathTags()(completions=["<think>\nhm\n</think>\n<answer>\n4\n</answer>", "<answer>\n4\n</answer>"])
        [1.0, 0.25]
        >>> MathTags(think_prefilled=True)(completions=["hm\n</think>\n<answer>\n4\n</answer>"])
        [1.0]

    """

    PARTS = (
        ("think_open", THINK_OPEN + "\n"),
        ("think_close", "\n" + THINK_CLOSE + "\n"),
        ("answer_open", "\n" + ANSWER_OPEN + "\n"),
        ("answer_close", "\n" + ANSWER_CLOSE),
    )

    def __init__(self, think_prefilled: bool = False) -> None:
        self.think_prefilled = _flag("think_prefilled", think_prefilled)

    def score(self, prompts: Sequence[Any], completions: Sequence[Any], **columns: Any) -> list[Score]:
        """Count the four tags in each completion; details give each tag's 0.25 or 0."""
        scores = []
        for text in completion_texts(completions):
            if self.think_prefilled:
                text = THINK_OPEN + "\n" + text
            parts = {name: 0.25 if text.count(tag) == 1 else 0.0 for name, tag in self.PARTS}
            scores.append(Score(sum(parts.values()), details=parts))
        return scores


@register("think-format")
class ThinkFormat(Reward):
    r"""1.0 if the completion opens with ``<think>`` and closes it once with ``</think>``, else 0.0.

    TRL's ``think_format_reward``: the reasoning is enclosed in one ``<think>…</think>`` block at the very start;
    anything may follow it, newlines are optional, other tags may appear inside it. A second ``<think>`` (nested or
    later) fails, as in TRL; so does a second ``</think>``, which TRL lets through although the reasoning then ran on
    past its end.

    Args:
        think_prefilled: The chat template ends the prompt with ``<think>`` (Qwen3 with thinking on), so the
            completion is checked as if it began with it.

    Example:
        >>> ThinkFormat()(completions=["<think>\nI add.\n</think>\nIt is 4.", "<think>\nI add. It is 4."])
        [1.0, 0.0]
        >>> ThinkFormat(think_prefilled=True)(completions=["my reasoning\n</think>\nmy answer"])
        [1.0]

    """

    def __init__(self, think_prefilled: bool = False) -> None:
        self.think_prefilled = _flag("think_prefilled", think_prefilled)

    def score(self, prompts: Sequence[Any], completions: Sequence[Any], **columns: Any) -> list[Score]:
        """Check each completion's reasoning block; details say what is wrong with one that fails."""
        scores = []
        for text in completion_texts(completions):
            if self.think_prefilled:
                text = THINK_OPEN + text
            problem = think_problem(text)
            scores.append(Score(0.0 if problem else 1.0, details={"problem": problem} if problem else {}))
        return scores


def think_problem(text: str) -> str | None:
    """Say why ``text`` does not open with one ``<think>…</think>`` block, or None when it does.

    Example:
        >>> think_problem("I think</think> it is 4")
        'does not start with <think>'

    """
    if not text.startswith(THINK_OPEN):
        return "does not start with <think>"
    for tag in (THINK_OPEN, THINK_CLOSE):
        count = text.count(tag)
        if count != 1:
            return f"{tag} occurs {count} times"
    return None


class _Verified(Reward):
    """Base of the rewards that check the answer against the gold ``solution`` with math-verify."""

    columns = ("solution",)

    def __init__(self, timeout: float = DEFAULT_TIMEOUT, think_prefilled: bool = False) -> None:
        self.timeout = _positive("timeout", timeout)
        self.think_prefilled = _flag("think_prefilled", think_prefilled)

    def region(self, text: str) -> str:
        """The part of ``text`` that holds the answer (see :func:`answer_region`)."""
        return answer_region(text, self.think_prefilled)

    def verdicts(self, completions: Sequence[Any], columns: dict[str, Any]) -> tuple[list[str], list[Any]]:
        """Return each completion's text and its math-verify verdict (``correct`` None: no parseable gold)."""
        from rewardlab._verify import Verdict, verify_batch

        texts = completion_texts(completions)
        solutions = columns.get("solution")
        if solutions is None:
            raise RewardlabError(f"reward '{self.name}' needs the 'solution' column (the gold answer)")
        golds = [_gold_text(index, value) for index, value in enumerate(solutions)]
        rows = [i for i, gold in enumerate(golds) if gold is not None]
        found = verify_batch([golds[i] for i in rows], [self.region(texts[i]) for i in rows], self.timeout)
        verdicts: list[Any] = [Verdict(None, error="no gold solution")] * len(texts)
        for index, verdict in zip(rows, found):
            verdicts[index] = verdict
        return texts, verdicts

    def details(self, text: str, verdict: Any) -> dict[str, Any]:
        """What was read from the answer and the gold, and why there is no verdict when there is none."""
        region = self.region(text)
        if len(region) > SHOWN_ANSWER_CHARS:  # the answer is at the end; keep that
            region = "…" + region[-(SHOWN_ANSWER_CHARS - 1) :]
        details: dict[str, Any] = {"answer_text": region, "answer_parsed": verdict.answer_parsed}
        details["gold_parsed"] = verdict.gold_parsed
        if verdict.timed_out:
            details["timed_out"] = True
        if verdict.error:
            details["error"] = verdict.error
        return details


def _gold_text(index: int, value: Any) -> str | None:
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
    whole completion, never the reasoning: LaTeX as open-r1 reads it (``\boxed{}`` first, then LaTeX after an anchor
    such as ``<answer>`` or "answer:"), then a plain expression after such an anchor or standing alone
    (``<answer>23</answer>``, ``23.0``, ``1/2``); words are no answer. Then ``verify(gold, answer)``, gold first
    (verify is not symmetric). TRL's ``accuracy_reward`` is this reward; its ``reasoning_accuracy_reward`` is this
    reward with ``think_prefilled=True``.

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

    def score(self, prompts: Sequence[Any], completions: Sequence[Any], **columns: Any) -> list[Score]:
        """Verify each completion; details hold the answer text, the parsed answer and the parsed gold."""
        texts, verdicts = self.verdicts(completions, columns)
        scores = []
        for text, verdict in zip(texts, verdicts):
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
        self.min_wrong = _finite("min_wrong", min_wrong)
        self.max_wrong = _finite("max_wrong", max_wrong)
        self.min_correct = _finite("min_correct", min_correct)
        self.max_correct = _finite("max_correct", max_correct)
        self.max_len = _positive("max_len", max_len)
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
        for text, verdict, length in zip(texts, verdicts, counted):
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
        for index, (key, verdict) in enumerate(zip(keys, verdicts)):
            if verdict.correct is not None:
                groups.setdefault(key, []).append(counted[index])
        scores = []
        for text, verdict, length, key in zip(texts, verdicts, counted, keys):
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


@register("math-repetition")
class MathRepetition(Reward):
    """N-gram repetition penalty: (1 − unique/total n-grams) × ``max_penalty`` (Yeo et al. 2025, App. C.2).

    N-grams of words (lower-cased, split on whitespace) as open-r1's ``repetition_penalty_reward`` counts them,
    except that Chinese and Japanese characters, which are written without spaces, each count as a word: chosen per
    text, so a mixed text splits its CJK part into characters and its other part into words. open-r1 splits on
    whitespace only unless told ``language="zh"`` (and jieba is installed), so a Chinese completion is one "word"
    and never penalised. With ``unit="tokens"`` the n-grams are of ``completion_ids``, as TRL's
    ``get_repetition_penalty_reward`` counts them. Fewer units than ``ngram_size`` → 0.

    Args:
        ngram_size: n.
        max_penalty: The reward of a text that is one n-gram repeated (≤ 0).
        language: "auto" (characters for CJK text, words otherwise), "en" (whitespace-separated words only), "zh"
            (words from the jieba segmenter when it is installed, else characters) or "ja" (characters).
        unit: "text" (the units ``language`` gives) or "tokens" (``completion_ids``).

    Example:
        >>> MathRepetition()(completions=["the cat sat on the mat", "go go go go go go", "too short"])
        [0.0, -0.75, 0.0]
        >>> MathRepetition()(completions=["答案是五。答案是五。答案是五。"])
        [-0.6153846153846154]

    """

    LANGUAGES = ("auto", "en", "zh", "ja")
    UNITS = ("text", "tokens")

    def __init__(
        self, ngram_size: int = 3, max_penalty: float = -1.0, language: str = "auto", unit: str = "text"
    ) -> None:
        if isinstance(ngram_size, bool) or not isinstance(ngram_size, int) or ngram_size < 1:
            raise ValueError(f"ngram_size must be a positive integer, not {ngram_size!r}")
        if _finite("max_penalty", max_penalty) > 0:
            raise ValueError(f"max_penalty must be zero or negative, not {max_penalty!r}")
        if language not in self.LANGUAGES:
            raise ValueError(f"language must be one of {', '.join(self.LANGUAGES)}, not {language!r}")
        if unit not in self.UNITS:
            raise ValueError(f"unit must be one of {', '.join(self.UNITS)}, not {unit!r}")
        self.ngram_size = ngram_size
        self.max_penalty = float(max_penalty)
        self.language = language
        self.unit = unit
        if unit == "tokens":
            self.columns = ("completion_ids",)

    def score(self, prompts: Sequence[Any], completions: Sequence[Any], **columns: Any) -> list[Score]:
        """Count each completion's distinct and total n-grams; details say how the text was split."""
        if self.unit == "tokens":
            sequences = [(ids, "tokens") for ids in _token_ids(columns.get("completion_ids"))]
        else:
            sequences = [split_units(text, self.language) for text in completion_texts(completions)]
        scores = []
        for units, split in sequences:
            if len(units) < self.ngram_size:
                scores.append(Score(0.0, details={"units": len(units), "split": split}))
                continue
            ngrams = [tuple(units[i : i + self.ngram_size]) for i in range(len(units) - self.ngram_size + 1)]
            unique = len(set(ngrams))
            value = (1.0 - unique / len(ngrams)) * self.max_penalty
            scores.append(Score(value + 0.0, details={"ngrams": len(ngrams), "unique_ngrams": unique, "split": split}))
        return scores


#: Characters of scripts written without spaces: CJK punctuation, kana, CJK ideographs, full-width forms.
CJK_CHARS = (
    "\u3000-\u303f\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef\U00020000-\U0003ffff"
)
#: One CJK character, or a run of other characters up to whitespace or a CJK character.
UNITS_RE = re.compile(f"[{CJK_CHARS}]|[^\\s{CJK_CHARS}]+")


def split_units(text: str, language: str = "auto") -> tuple[list[str], str]:
    """Split a lower-cased text into the units ``math-repetition`` counts n-grams of, and say how it was split.

    Example:
        >>> split_units("所以 x = 5")
        (['所', '以', 'x', '=', '5'], 'characters')
        >>> split_units("So x = 5")
        (['so', 'x', '=', '5'], 'words')

    """
    text = text.lower()
    if language == "en":
        return text.split(), "words"
    if language == "zh":
        try:
            import jieba
        except ImportError:
            pass
        else:
            return [word for word in jieba.cut(text) if word.strip()], "jieba"
    units = UNITS_RE.findall(text)
    cjk = re.search(f"[{CJK_CHARS}]", text) is not None
    return units, "characters" if cjk else "words"


def _token_ids(completion_ids: Sequence[Any] | None) -> list[list[Any]]:
    """Each row's token ids as a list (TRL passes lists; arrays and tensors give theirs with ``tolist``)."""
    if completion_ids is None:
        raise RewardlabError("unit='tokens' needs the completion_ids column")
    rows = []
    for index, ids in enumerate(completion_ids):
        ids = ids.tolist() if hasattr(ids, "tolist") else ids
        if not isinstance(ids, (list, tuple)):
            raise RowError(index, "completion_ids", f"expected a list of token ids, got {type(ids).__name__}")
        rows.append(list(ids))
    return rows


@register("math-steps")
class MathSteps(Reward):
    r"""min(1, count / 3) for step markers: ``Step N:``, numbered lines, bullets, First/Second/Next/Finally.

    Numbered lines (``1.``) and bullets (``-`` or ``*`` then a space) are matched at the start of every line;
    open-r1's ``reasoning_steps_reward`` anchors ``^`` only at the start of the whole text, so it counts a numbered
    list as one step.

    Example:
        >>> MathSteps()(completions=["1. add\n2. multiply\n3. check", "Step 1: add", "It is 4."])
        [1.0, 0.3333333333333333, 0.0]

    """

    def score(self, prompts: Sequence[Any], completions: Sequence[Any], **columns: Any) -> list[Score]:
        """Count each completion's step markers; details give the count."""
        scores = []
        for text in completion_texts(completions):
            count = len(STEP_RE.findall(text))
            scores.append(Score(min(1.0, count / 3), details={"steps": count}))
        return scores


@register("overlong")
class Overlong(Reward):
    """DAPO soft overlong punishment (Yu et al. 2025, eq. 13): 0, then linearly down to −1 at ``max_length``.

    0 up to ``max_length − cache``; (max_length − cache − length) / cache up to ``max_length``; −1 beyond.
    Defaults are DAPO's (20,480 tokens with a 4,096-token cache, a fifth of ``max_length``).

    Args:
        max_length: Length at which the punishment reaches −1.
        cache: Width of the linear zone before ``max_length``; None means a fifth of ``max_length``, DAPO's ratio;
            0 makes it a hard cut at ``max_length`` (as TRL's ``soft_punish_cache=0``).
        unit: "auto" (tokens when ``completion_ids`` are passed, else characters), "tokens" or "chars".

    Example:
        >>> Overlong(max_length=10, cache=4)(completions=["abcdef", "abcdefgh", "abcdefghijkl"])
        [0.0, -0.5, -1.0]

    """

    def __init__(self, max_length: int = 20480, cache: int | None = None, unit: str = "auto") -> None:
        _positive("max_length", max_length)
        cache = max(1, max_length // 5) if cache is None else cache
        if cache != 0:
            _positive("cache", cache)
        if cache > max_length:
            raise ValueError(f"cache ({cache}) must not exceed max_length ({max_length})")
        self.max_length = max_length
        self.cache = cache
        self.unit = check_unit(unit)
        if self.unit == "tokens":
            self.columns = ("completion_ids",)

    def value(self, length: int) -> float:
        """The punishment of one completion of ``length``."""
        start = self.max_length - self.cache
        if length <= start:
            return 0.0
        if length <= self.max_length:
            return (start - length) / self.cache
        return -1.0

    def score(self, prompts: Sequence[Any], completions: Sequence[Any], **columns: Any) -> list[Score]:
        """Measure each completion and punish the part past ``max_length − cache``."""
        counted, unit = lengths(completion_texts(completions), columns.get("completion_ids"), self.unit)
        return [Score(self.value(n), details={"length": n, "unit": unit}) for n in counted]


@register("math")
class MathPreset(WeightedSum):
    r"""The usual math reward: ``math-accuracy`` + ``math-format`` + ``math-tags``, weight 1 each (0 to 3).

    Components are each part's value, so a log shows which part moved.

    Args:
        timeout: Seconds for one parse and verify, as in ``math-accuracy``.
        think_prefilled: The chat template ends the prompt with ``<think>\n``; passed to every part.

    Example:
        >>> reward = MathPreset()
        >>> reward(completions=["<think>\n3*4\n</think>\n<answer>\n\\boxed{12}\n</answer>"], solution=["12"])
        [3.0]

    """

    columns = ("solution",)

    def __init__(self, timeout: float = DEFAULT_TIMEOUT, think_prefilled: bool = False) -> None:
        parts = [MathAccuracy(timeout, think_prefilled), MathFormat(think_prefilled), MathTags(think_prefilled)]
        super().__init__(parts, [1.0, 1.0, 1.0])
        self.name = type(self).name
        self.timeout = self.rewards[0].timeout
        self.think_prefilled = self.rewards[1].think_prefilled

    settings = Reward.settings
