"""Length and repetition rewards: the n-gram repetition penalty and DAPO's soft overlong punishment."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rewardlab.params import require_finite, require_positive
from rewardlab.registry import register
from rewardlab.reward import Reward, Score
from rewardlab.rewards.math.answers import (
    check_unit,
    completion_texts,
    lengths,
    split_units,
    token_ids,
)


@register("math-repetition")
class MathRepetition(Reward):
    """N-gram repetition penalty: (1 − unique/total n-grams) × ``max_penalty`` (Yeo et al. 2025, App. C.2).

    N-grams of words (lower-cased, split on whitespace) as open-r1's ``repetition_penalty_reward`` counts them,
    except that Chinese and Japanese characters, which are written without spaces, each count as a word: chosen per
    text, so a mixed text splits its CJK part into characters and its other part into words. open-r1 splits on
    whitespace only unless told ``language="zh"`` (and jieba is installed), so a Chinese completion is one "word"
    and never penalised. With ``unit="tokens"`` the n-grams are of ``completion_ids``, as TRL's
    ``get_repetition_penalty_reward`` counts them. Fewer units than ``ngram_size`` → 0, except an empty completion
    (no unit at all), which gets ``max_penalty``: open-r1 and TRL give it 0, the best value, so the penalty alone
    would teach a policy to say nothing.

    Args:
        ngram_size: n.
        max_penalty: The reward of a text that is one n-gram repeated (≤ 0).
        language: "auto" (characters for CJK text, words otherwise), "en" (whitespace-separated words only), "zh"
            (words from the jieba segmenter when it is installed, else characters) or "ja" (characters).
        unit: "text" (the units ``language`` gives) or "tokens" (``completion_ids``).

    Example:
        >>> MathRepetition()(completions=["the cat sat on the mat", "go go go go go go", "too short", " "])
        [0.0, -0.75, 0.0, -1.0]
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
        if require_finite("max_penalty", max_penalty) > 0:
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
            sequences = [(ids, "tokens") for ids in token_ids(columns.get("completion_ids"))]
        else:
            sequences = [split_units(text, self.language) for text in completion_texts(completions)]
        scores = []
        for units, split in sequences:
            if not units:
                scores.append(Score(self.max_penalty, details={"units": 0, "split": split, "empty": True}))
                continue
            if len(units) < self.ngram_size:
                scores.append(Score(0.0, details={"units": len(units), "split": split}))
                continue
            ngrams = [tuple(units[i : i + self.ngram_size]) for i in range(len(units) - self.ngram_size + 1)]
            unique = len(set(ngrams))
            value = (1.0 - unique / len(ngrams)) * self.max_penalty
            scores.append(Score(value + 0.0, details={"ngrams": len(ngrams), "unique_ngrams": unique, "split": split}))
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
        require_positive("max_length", max_length)
        cache = max(1, max_length // 5) if cache is None else cache
        if cache != 0:
            require_positive("cache", cache)
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
