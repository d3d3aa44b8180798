"""distinct-n (Li et al., 2016, "A Diversity-Promoting Objective Function for Neural Conversation Models", §4.2).

Variant used here: **distinct n-grams / all n-grams** over the texts given, a ratio in [0, 1] that is 1 when no
n-gram repeats. Li et al. divided by the number of generated *tokens* instead; the two differ by the factor
(tokens − texts·(n−1)) / tokens. Tokens are cut by sacrebleu's tokenizer, as for Self-BLEU.
"""

from __future__ import annotations

from collections.abc import Sequence

from eval.tokens import DEFAULT_TOKENIZER, tokenize


def distinct_counts(tokens: Sequence[Sequence[str]], n: int) -> tuple[int, int]:
    """Return the sufficient statistics of distinct-n: (distinct n-grams, all n-grams) over token lists.

    Example:
        >>> distinct_counts([["a", "b", "a", "b"], ["a", "b"]], 2)
        (2, 4)

    """
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    seen: set[tuple[str, ...]] = set()
    total = 0
    for text in tokens:
        grams = [tuple(text[i : i + n]) for i in range(len(text) - n + 1)]
        seen.update(grams)
        total += len(grams)
    return len(seen), total


def distinct_n(texts: Sequence[str], n: int = 2, *, tokenize_name: str = DEFAULT_TOKENIZER) -> float:
    """Return distinct-n of the texts taken together: distinct n-grams / all n-grams (0.0 when there are none).

    Args:
        texts: The texts.
        n: n-gram order.
        tokenize_name: sacrebleu tokenizer.

    Returns:
        The ratio in [0, 1].

    Example:
        >>> distinct_n(["the cat sat", "the cat ran"], n=1)
        0.6666666666666666
        >>> distinct_n(["the cat sat", "the cat ran"], n=2)
        0.75

    """
    unique, total = distinct_counts(tokenize(texts, tokenize_name), n)
    return unique / total if total else 0.0
