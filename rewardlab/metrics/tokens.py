"""Word tokens for the n-gram metrics, cut by sacrebleu's own tokenizers so our counts are sacrebleu's counts."""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from itertools import chain, count, islice

import numpy as np

#: sacrebleu's default tokenizer (mteval-v13a), used by Self-BLEU and distinct-n unless told otherwise.
DEFAULT_TOKENIZER = "13a"
#: Texts whose pieces are mapped to ids at a time, which bounds the Python strings alive at once.
CHUNK_TEXTS = 65_536


@dataclass
class TokenIds:
    """Texts as integer token ids, end to end: text i holds the ``lengths[i]`` ids after those of texts 0 to i - 1.

    Attributes:
        ids: ``(total tokens,)`` token ids, dense from 0 (equal tokens, equal ids).
        lengths: ``(N,)`` token count of each text.
        vocabulary_size: Number of distinct tokens.

    """

    ids: np.ndarray
    lengths: np.ndarray
    vocabulary_size: int

    @classmethod
    def from_lists(cls, tokens: Sequence[Sequence[str]]) -> TokenIds:
        """Number the tokens of ready-made token lists, in order of first appearance."""
        vocabulary: defaultdict[str, int] = defaultdict()
        vocabulary.default_factory = vocabulary.__len__
        flat = list(chain.from_iterable(tokens))
        ids = np.fromiter(map(vocabulary.__getitem__, flat), dtype=np.int32, count=len(flat))
        lengths = np.fromiter(map(len, tokens), dtype=np.int64, count=len(tokens))
        return cls(ids, lengths, len(vocabulary))

    def select(self, texts: np.ndarray) -> TokenIds:
        """The token ids of the texts where the ``(N,)`` boolean mask ``texts`` is true, numbered as here.

        Example:
            >>> token_ids(["a b", "c", "b a"]).select(np.array([True, False, True])).ids.tolist()
            [0, 1, 1, 0]

        """
        return TokenIds(self.ids[np.repeat(texts, self.lengths)], self.lengths[texts], self.vocabulary_size)


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


def token_ids(texts: Sequence[str], name: str = DEFAULT_TOKENIZER) -> TokenIds:
    """Tokenize like :func:`tokenize` and number the tokens, running sacrebleu's tokenizer on distinct words only.

    Under ``13a`` a text's tokens are its whitespace-separated words' tokens, end to end: 13a's first rule pads
    single characters, and its other rules look at two adjacent characters, where a whitespace character next to a
    word's edge acts like the space 13a itself puts around a line (neither is a digit, ``.``, ``,`` or ``-``). The
    one rule that crosses whitespace deletes a hyphen before a line break (which deleting ``<skipped>`` can form),
    so texts holding either are cut whole. The distinct pieces (words, and those whole texts) are then joined by
    tabs around a marker character found in none of them, and go through sacrebleu's tokenizer in one call; the
    markers cut its output back into pieces. A corpus has far fewer distinct words than words, and one long call
    avoids sacrebleu's per-call cost, so this takes a fraction of the time of tokenizing every text. Other
    tokenizers run once per distinct text.
    tests/test_eval_selfbleu.py checks the result against :func:`tokenize` on texts built to break these rules.

    Args:
        texts: Strings to tokenize.
        name: A sacrebleu tokenizer name.

    Returns:
        The token ids, flat, and each text's length.

    Raises:
        ValueError: Unknown tokenizer name.
        TypeError: A text is not a string.

    Example:
        >>> tokens = token_ids(["Hello, world!", "", "world"])
        >>> tokens.ids.tolist(), tokens.lengths.tolist()
        ([0, 1, 2, 3, 2], [4, 0, 1])

    """
    tokenizer = _tokenizer(name)
    word_wise = name == "13a"
    pieces: defaultdict[str, int] = defaultdict(count(1).__next__)  # a new piece gets the next id; 0 marks an end
    piece_ids, piece_counts = [np.zeros(0, dtype=np.int32)], [np.zeros(0, dtype=np.int64)]
    for chunk in _chunks(texts):
        whole = _concatenated(chunk)
        numbered = _numbered(chunk, str.split, pieces) if word_wise and not _joins_words(whole) else None
        if numbered is None:
            split = [[text.rstrip()] if not word_wise or _joins_words(text) else text.split() for text in chunk]
            flat = list(chain.from_iterable(split))
            numbered = (
                np.fromiter(map(pieces.__getitem__, flat), dtype=np.int32, count=len(flat)) - 1,
                np.fromiter(map(len, split), dtype=np.int64, count=len(split)),
            )
        piece_ids.append(numbered[0])
        piece_counts.append(numbered[1])
    vocabulary = _piece_tokens(tokenizer, list(pieces), word_wise)
    occurrences, counts = np.concatenate(piece_ids), np.concatenate(piece_counts)
    del piece_ids
    tokens_per_occurrence = vocabulary.lengths[occurrences]
    ends = np.cumsum(tokens_per_occurrence)
    # Output token k is token (k - first output token of its occurrence) of the occurrence's piece.
    offsets = (np.cumsum(vocabulary.lengths) - vocabulary.lengths)[occurrences]
    del occurrences
    offsets -= ends
    offsets += tokens_per_occurrence
    index = np.repeat(offsets, tokens_per_occurrence)
    del offsets, tokens_per_occurrence
    index += np.arange(len(index))
    ids = vocabulary.ids[index]
    del index
    last_piece = np.cumsum(counts)
    ends = np.r_[0, ends]
    return TokenIds(ids, ends[last_piece] - ends[last_piece - counts], vocabulary.vocabulary_size)


def _piece_tokens(tokenizer: Callable[[str], str], pieces: list[str], together: bool) -> TokenIds:
    """The tokens of each distinct piece: from one tokenizer call over all of them (``together``), else one by one."""
    vocabulary: defaultdict[str, int] = defaultdict(count(1).__next__)
    numbered = _numbered(pieces, lambda joined: _uncached(tokenizer, joined).split(), vocabulary) if together else None
    if numbered is None:
        return TokenIds.from_lists([tokenizer(piece).split() for piece in pieces])
    return TokenIds(numbered[0], numbered[1], len(vocabulary))


def _uncached(tokenizer: Callable[[str], str], line: str) -> str:
    """Tokenize a line and drop sacrebleu's cached lines, which would otherwise keep every joined batch.

    sacrebleu's 13a tokenizer, and the regexp tokenizer it calls, each keep their last 2^16 lines and results in an
    ``lru_cache``. A batch of pieces joined into one line is never tokenized twice, yet it would stay there: memory
    would grow with the batches of a run (by megabytes each, for a wide vocabulary).
    """
    tokenized = tokenizer(line)
    for part in (tokenizer, getattr(tokenizer, "_post_tokenizer", None)):
        cache_clear = getattr(vars(type(part)).get("__call__"), "cache_clear", None)
        if cache_clear is not None:
            cache_clear()
    return tokenized


def _numbered(
    strings: list[str], cut: Callable[[str], list[str]], numbers: defaultdict[str, int]
) -> tuple[np.ndarray, np.ndarray] | None:
    """Cut all strings into items with one call of ``cut``, number the items (from 0) and count them per string.

    The strings are joined by tabs around a private-use character that neither they nor ``numbers`` hold, which
    ``cut`` keeps as an item of its own and which then marks where each string's items end. ``numbers`` counts from
    1, as 0 stands for the marker. Returns None where every private-use character is taken.
    """
    if not strings:
        return np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.int64)
    for code in range(0xE000, 0xF900):
        mark = chr(code)
        joined = f"\t{mark}\t".join(strings) + f"\t{mark}"
        if mark not in numbers and joined.count(mark) == len(strings):
            break
    else:
        return None
    numbers[mark] = 0
    items = cut(joined)
    ids = np.fromiter(map(numbers.__getitem__, items), dtype=np.int32, count=len(items))
    del numbers[mark], items
    ends = np.flatnonzero(ids == 0)
    return ids[ids != 0] - 1, np.diff(ends, prepend=-1) - 1


def _joins_words(text: str) -> bool:
    """Whether 13a may join words of the text: it deletes ``<skipped>``, then a hyphen before a line break."""
    return "-\n" in text or "<skipped>" in text


def _concatenated(texts: list[str]) -> str:
    try:
        return "".join(texts)
    except TypeError:
        wrong = next(text for text in texts if not isinstance(text, str))
        raise TypeError(f"expected a string, got {type(wrong).__name__}") from None


def _chunks(texts: Sequence[str]) -> Iterator[list[str]]:
    iterator = iter(texts)
    while chunk := list(islice(iterator, CHUNK_TEXTS)):
        yield chunk
