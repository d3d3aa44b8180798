"""distinct-n (Li et al., 2016, "A Diversity-Promoting Objective Function for Neural Conversation Models", §4.2).

Variant used here: **distinct n-grams / all n-grams** over the texts given, a ratio in [0, 1] that is 1 when no
n-gram repeats. Li et al. divided by the number of generated *tokens* instead; the two differ by the factor
(tokens − texts·(n−1)) / tokens. Tokens are cut by sacrebleu's tokenizer, as for Self-BLEU.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from rewardlab.metrics.tokens import DEFAULT_TOKENIZER, TokenIds, token_ids


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


def grouped_distinct_counts(
    tokens: TokenIds, groups: np.ndarray, orders: Sequence[int]
) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Return distinct-n's statistics of each group of texts, for each order n: (distinct n-grams, all n-grams).

    The same counts as :func:`distinct_counts` on each group's token lists, from integer token ids in numpy, with no
    Python object per n-gram: every n-gram occurrence gets an integer key that holds its group, equal keys meaning
    the same n-gram in the same group, and one sort per order counts the distinct keys. An n-gram's key is
    its (n-1)-gram prefix's rank among the distinct keys of order n-1, times the vocabulary size, plus its last
    token's id: below 2^63 while there are fewer than 2^32 tokens (ids are 31-bit).

    Args:
        tokens: The texts' token ids (:func:`rewardlab.metrics.tokens.token_ids`).
        groups: ``(N,)`` non-negative integer group code of each text; groups are numbered 0 to ``groups.max()``.
        orders: The orders n (each at least 1).

    Returns:
        For each order, two ``(groups.max() + 1,)`` int64 arrays: distinct n-grams and all n-grams of each group.

    Example:
        >>> tokens = token_ids(["a b a b", "a b", "c c"])
        >>> counts = grouped_distinct_counts(tokens, np.array([0, 0, 1]), [2])
        >>> [values.tolist() for values in counts[2]]
        [[2, 1], [4, 1]]

    """
    if min(orders, default=1) < 1:
        raise ValueError(f"n must be at least 1, got {min(orders)}")
    size = int(groups.max()) + 1 if len(groups) else 0
    ids, lengths, vocabulary = tokens.ids, tokens.lengths, max(tokens.vocabulary_size, 1)
    group_of = np.repeat(groups.astype(np.int64), lengths)
    # Tokens from each position to the end of its text (the position's own included).
    left = np.repeat(np.cumsum(lengths), lengths) - np.arange(len(ids))
    positions = np.arange(len(ids))
    unique, rank = np.unique(group_of * vocabulary + ids, return_inverse=True)
    key_groups = unique // vocabulary
    counts = {}
    for order in range(1, max(orders, default=0) + 1):
        if order > 1:
            extends = left[positions] >= order
            positions = positions[extends]
            unique, rank = np.unique(rank[extends] * vocabulary + ids[positions + order - 1], return_inverse=True)
            # Ranks of order - 1 sort by group, so the keys built on them do too.
            key_groups = key_groups[unique // vocabulary]
        if order in orders:
            counts[order] = np.bincount(key_groups, minlength=size), np.bincount(group_of[positions], minlength=size)
    return counts


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
    tokens = token_ids(texts, tokenize_name)
    unique, total = grouped_distinct_counts(tokens, np.zeros(len(texts), dtype=np.int64), [n])[n]
    return int(unique[0]) / int(total[0]) if len(texts) and total[0] else 0.0
