"""Word tokens for the n-gram metrics, cut by sacrebleu's own tokenizers so our counts are sacrebleu's counts."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

#: sacrebleu's default tokenizer (mteval-v13a), used by Self-BLEU and distinct-n unless told otherwise.
DEFAULT_TOKENIZER = "13a"


def tokenize(texts: Sequence[str], name: str = DEFAULT_TOKENIZER) -> list[list[str]]:
    """Split each text into tokens exactly as sacrebleu's BLEU does before counting n-grams.

    sacrebleu strips trailing whitespace, applies the named tokenizer and splits on whitespace. sacrebleu is
    imported on first use, which keeps ``import eval`` cheap.

    Args:
        texts: Strings to tokenize.
        name: A sacrebleu tokenizer name (``13a``, ``intl``, ``char``, ``none``, …).

    Returns:
        One token list per text.

    Raises:
        ValueError: Unknown tokenizer name.
        TypeError: A text is not a string.

    Example:
        >>> tokenize(["Hello, world!", ""])
        [['Hello', ',', 'world', '!'], []]

    """
    tokenizer = _tokenizer(name)
    tokens = []
    for text in texts:
        if not isinstance(text, str):
            raise TypeError(f"expected a string, got {type(text).__name__}")
        tokens.append(tokenizer(text.rstrip()).split())
    return tokens


@functools.cache
def _tokenizer(name: str) -> Callable[[str], str]:
    """One sacrebleu tokenizer per name, so its line cache serves every metric that tokenizes the same texts."""
    from sacrebleu.metrics.bleu import BLEU

    if name not in BLEU.TOKENIZERS:
        raise ValueError(f"unknown sacrebleu tokenizer '{name}'; known: {', '.join(BLEU.TOKENIZERS)}")
    return BLEU(tokenize=name).tokenizer
