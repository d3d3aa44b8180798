"""Self-BLEU (Zhu et al., 2018, "Texygen", SIGIR): how much each text repeats the others; lower is more diverse.

Each text is scored with sentence BLEU against all the other texts as references, and the scores are averaged.
The plain way to compute this re-reads every reference for every text, O(N²) in the number of texts. Here each
text's BLEU comes from sufficient statistics that need one pass over all n-grams:

* the clipping count of an n-gram g for text i is ``max_{j≠i} count_j(g)``. Keeping, per n-gram, the largest count,
  how many texts hold it and the largest count below it gives that maximum without a scan: it is the lower count
  for the only holder of the largest, and the largest for every other text;
* the brevity penalty needs the other length closest to text i's (ties go to the shorter, as in sacrebleu and
  nltk): text i's own length if another text shares it, else its neighbour below or above in the sorted lengths.

Tokens are sacrebleu's own (:func:`rewardlab.metrics.tokens.token_ids`), numbered; counting runs in numpy over integer
n-gram keys, one sort per n-gram order; the scores apply sacrebleu's ``BLEU.compute_bleu`` formula
(``smooth_method="exp"``, ``effective_order=True``) to all texts at once, with the same operations in the same
order, so the result equals ``BLEU(effective_order=True).sentence_score(text, others).score / 100`` (capped at 1.0:
sacrebleu's rounding can give 100.00000000000004 for a text identical to a reference). The ``nltk`` mode applies
nltk's ``sentence_bleu`` with ``SmoothingFunction().method1`` and uniform weights to the same statistics, the
variant of Texygen-era papers (which used 3-grams: pass ``max_order=3`` to compare with them).

Self-BLEU is undefined for a single text (it has no references); it rises with the number of texts, so grouped
scores (per prompt, then the mean) are only comparable between groups of equal size.
"""

from __future__ import annotations

import math
import warnings
from collections import Counter
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np

from rewardlab.metrics.grouping import group_means
from rewardlab.metrics.tokens import DEFAULT_TOKENIZER, TokenIds, token_ids

MODES = ("sacrebleu", "nltk")
#: nltk's SmoothingFunction default epsilon, added to a zero match count in method 1.
NLTK_EPSILON = 0.1


@dataclass
class BleuStatistics:
    """Per-text sufficient statistics of sentence BLEU against the other texts of the same group.

    Attributes:
        matches: ``(N, max_order)`` clipped n-gram matches.
        totals: ``(N, max_order)`` n-grams in each text.
        lengths: ``(N,)`` token counts.
        ref_lengths: ``(N,)`` the closest other length in the group (ties to the shorter).

    """

    matches: np.ndarray
    totals: np.ndarray
    lengths: np.ndarray
    ref_lengths: np.ndarray


def sentence_self_bleu(
    texts: Sequence[str] | TokenIds,
    *,
    groups: Sequence[Hashable] | None = None,
    mode: str = "sacrebleu",
    max_order: int = 4,
    tokenize_name: str = DEFAULT_TOKENIZER,
) -> list[float]:
    """Return each text's sentence BLEU in [0, 1] against the other texts (of its group) as references.

    Args:
        texts: The texts, or their token ids from :func:`rewardlab.metrics.tokens.token_ids` (so a caller that
            needs the tokens for another metric tokenizes once).
        groups: One label per text; each text is then scored against the other texts with its label only.
        mode: ``"sacrebleu"`` (exp smoothing, effective order) or ``"nltk"`` (smoothing method 1).
        max_order: Longest n-gram.
        tokenize_name: sacrebleu tokenizer applied to every text (not used for token ids).

    Returns:
        One score per text, in input order.

    Raises:
        ValueError: Fewer than two texts (in some group), unknown mode, or ``max_order < 1``.

    Example:
        >>> sentence_self_bleu(["the cat sat", "the cat sat", "a dog ran off"])
        [1.0, 1.0, 0.0]

    """
    if mode not in MODES:
        raise ValueError(f"unknown Self-BLEU mode '{mode}'; choose one of {', '.join(MODES)}")
    if max_order < 1:
        raise ValueError(f"max_order must be at least 1, got {max_order}")
    tokens = texts if isinstance(texts, TokenIds) else token_ids(texts, tokenize_name)
    codes = _group_codes(len(tokens.lengths), groups)
    stats = bleu_statistics(tokens, codes, max_order)
    scores = _nltk_scores(stats, max_order) if mode == "nltk" else _sacrebleu_scores(stats, max_order)
    return scores.tolist()


def self_bleu(
    texts: Sequence[str],
    *,
    groups: Sequence[Hashable] | None = None,
    mode: str = "sacrebleu",
    max_order: int = 4,
    tokenize_name: str = DEFAULT_TOKENIZER,
) -> float:
    """Return Self-BLEU in [0, 1]: the mean sentence BLEU of each text against all the others.

    With ``groups`` (for example each row's ``prompt_id``) it is the mean of :func:`self_bleu_by_group`. Arguments
    as in :func:`sentence_self_bleu`.

    Example:
        >>> round(self_bleu(["the cat sat on the mat", "the cat sat on a mat", "a dog ran off"]), 4)
        0.3988
        >>> self_bleu(["a b", "a b", "c d", "e f"], groups=[1, 1, 2, 2])
        0.5

    """
    options = {"mode": mode, "max_order": max_order, "tokenize_name": tokenize_name}
    if groups is None:
        scores = sentence_self_bleu(texts, **options)
        return math.fsum(scores) / len(scores)
    per_group = self_bleu_by_group(texts, groups, **options)
    return math.fsum(per_group.values()) / len(per_group)


def self_bleu_by_group(
    texts: Sequence[str],
    groups: Sequence[Hashable],
    *,
    mode: str = "sacrebleu",
    max_order: int = 4,
    tokenize_name: str = DEFAULT_TOKENIZER,
) -> dict[Hashable, float]:
    """Return the Self-BLEU of each group of texts (those sharing a label), in order of first appearance.

    Warns when groups differ in size: Self-BLEU rises with the number of texts, so such scores are not comparable.
    Arguments as in :func:`sentence_self_bleu`.

    Example:
        >>> self_bleu_by_group(["a b", "a b", "c d", "e f"], ["x", "x", "y", "y"])
        {'x': 1.0, 'y': 0.0}

    """
    scores = sentence_self_bleu(texts, groups=groups, mode=mode, max_order=max_order, tokenize_name=tokenize_name)
    sizes = Counter(groups)
    if len(set(sizes.values())) > 1:
        warnings.warn(
            f"Self-BLEU groups differ in size ({min(sizes.values())} to {max(sizes.values())} texts); Self-BLEU "
            "rises with the number of texts, so their scores are not directly comparable",
            UserWarning,
            stacklevel=2,
        )
    return dict(zip(sizes, group_means(scores, groups).tolist(), strict=True))


def signature(mode: str = "sacrebleu", max_order: int = 4, tokenize_name: str = DEFAULT_TOKENIZER) -> str:
    """A sacrebleu-style signature of the settings, so two Self-BLEU numbers are visibly comparable or not.

    Example:
        >>> signature().split("|")[:4]
        ['self-bleu', 'mode:sacrebleu', 'smooth:exp', 'eff:yes']

    """
    import sacrebleu

    smooth = "exp|eff:yes" if mode == "sacrebleu" else f"method1[{NLTK_EPSILON}]|eff:no"
    return (
        f"self-bleu|mode:{mode}|smooth:{smooth}|order:{max_order}|tok:{tokenize_name}|version:{sacrebleu.__version__}"
    )


def _group_codes(texts: int, groups: Sequence[Hashable] | None) -> np.ndarray:
    if groups is None:
        if texts < 2:
            raise ValueError(f"Self-BLEU needs at least two texts (each is scored against the others), got {texts}")
        return np.zeros(texts, dtype=np.int64)
    if len(groups) != texts:
        raise ValueError(f"{len(groups)} group labels given for {texts} texts")
    index: dict[Hashable, int] = {}
    codes = np.fromiter((index.setdefault(g, len(index)) for g in groups), dtype=np.int64, count=len(groups))
    sizes = np.bincount(codes)
    if sizes.min() < 2:
        lonely = list(index)[int(np.argmin(sizes))]
        raise ValueError(f"Self-BLEU needs at least two texts per group; group {lonely!r} has one")
    return codes


def bleu_statistics(tokens: TokenIds | Sequence[Sequence[str]], groups: np.ndarray, max_order: int) -> BleuStatistics:
    """Compute every text's BLEU statistics against the other texts of its group in O(total n-grams · log).

    Args:
        tokens: Token ids from :func:`rewardlab.metrics.tokens.token_ids`, or token lists, one per text.
        groups: Integer group code per text (all zeros for one group); every group has at least two texts.
        max_order: Longest n-gram.

    Returns:
        The statistics, row i for text i.

    """
    if not isinstance(tokens, TokenIds):
        tokens = TokenIds.from_lists(tokens)
    lengths = tokens.lengths
    # Texts are laid out group by group, so once n-grams are sorted the texts of one group sit together.
    layout = np.argsort(groups, kind="stable")
    laid_groups, laid_lengths = groups[layout], lengths[layout]
    laid_ends = np.cumsum(laid_lengths)
    ids = tokens.ids
    if np.any(layout[1:] < layout[:-1]):
        shift = (np.cumsum(lengths) - lengths)[layout] - (laid_ends - laid_lengths)
        ids = ids[np.repeat(shift, laid_lengths) + np.arange(len(ids))]
    # 32-bit indices where they fit: the work is bound by memory traffic.
    index_type = np.int32 if max(len(ids), len(lengths)) < 2**31 else np.int64
    text_of = np.repeat(np.arange(len(lengths), dtype=index_type), laid_lengths)

    matches = np.zeros((len(lengths), max_order), dtype=np.int64)
    positions, keys = np.arange(len(ids), dtype=index_type), ids.astype(np.int64)
    for order in range(1, max_order + 1):
        if positions.size == 0:
            break
        positions, keys = _sort_by_key(keys, positions, len(ids))
        texts = text_of[positions]
        matches[:, order - 1], gram_ids, shared = _clipped_matches(keys, texts, laid_groups)
        # An n-gram that no other text of the group holds cannot be extended into one that another text holds.
        keep = shared & (laid_ends[texts] - positions > order)
        positions = positions[keep]
        keys = gram_ids[keep] * tokens.vocabulary_size + ids[positions + order]
    unlaid = np.empty_like(matches)
    unlaid[layout] = matches
    totals = np.maximum(lengths[:, None] - np.arange(max_order)[None, :], 0)
    return BleuStatistics(unlaid, totals, lengths, _closest_other_lengths(lengths, groups))


def _clipped_matches(grams: np.ndarray, texts: np.ndarray, groups: np.ndarray) -> tuple[np.ndarray, ...]:
    """Sum, per text, min(count of an n-gram in the text, its largest count in another text of the group).

    Args:
        grams: An n-gram key per occurrence, sorted (equal keys, equal n-grams).
        texts: The text of each occurrence, non-decreasing within an n-gram (texts laid out group by group).
        groups: Group code per text, non-decreasing.

    Returns:
        The clipped matches per text; per occurrence, a dense n-gram id and whether another text of the group holds
        the n-gram.

    """
    new_gram = _run_starts(grams)
    # One (text, n-gram) pair per run of equal n-gram and text; its count is the run's length.
    pair_start = np.flatnonzero(new_gram | _run_starts(texts))
    counts = np.diff(pair_start, append=len(grams))
    pair_text = texts[pair_start]
    # A segment holds the pairs of one n-gram within one group.
    new_segment = new_gram[pair_start]
    if groups[0] != groups[-1]:
        new_segment |= _run_starts(groups[pair_text])
    segment_start = np.flatnonzero(new_segment)
    segment = np.cumsum(new_segment, dtype=texts.dtype)  # texts' index type holds any count of occurrences
    segment -= 1
    largest = np.maximum.reduceat(counts, segment_start)
    is_largest = counts == largest[segment]
    sole = np.add.reduceat(is_largest, segment_start, dtype=np.int64) == 1
    second = np.maximum.reduceat(np.where(is_largest, 0, counts), segment_start)
    # The largest count among the *other* texts is the largest, except for the only holder of the largest: the
    # second largest. So every count is matched whole but the only holder's, which loses (largest - second).
    holder = is_largest & sole[segment]
    lost = np.bincount(pair_text[holder], weights=(largest - second)[sole], minlength=len(groups))
    clipped = np.bincount(texts, minlength=len(groups)) - lost.astype(np.int64)
    shared = np.repeat((np.diff(segment_start, append=len(counts)) > 1)[segment], counts)
    del segment, counts, pair_text, is_largest, holder
    gram_ids = np.cumsum(new_gram, dtype=np.int64)
    gram_ids -= 1
    return clipped, gram_ids, shared


def _run_starts(values: np.ndarray) -> np.ndarray:
    """True where a run of equal values starts."""
    starts = np.empty(len(values), dtype=bool)
    starts[:1] = True
    np.not_equal(values[1:], values[:-1], out=starts[1:])
    return starts


def _sort_by_key(keys: np.ndarray, positions: np.ndarray, span: int) -> tuple[np.ndarray, np.ndarray]:
    """Positions and non-negative int64 keys, sorted by key and then position (every position is below ``span``).

    Sorting the keys with the positions packed into their low bits gives this order several times faster than an
    argsort (a sort moves values, an argsort chases indices), so it is used whenever the packed values fit an int64.
    It works in place: ``keys`` is overwritten.
    """
    bits = span.bit_length()
    if int(keys.max()) >= 2 ** (63 - bits):
        order = np.lexsort((positions, keys))
        return positions[order], keys[order]
    keys <<= bits
    keys |= positions
    keys.sort()
    positions = (keys & (2**bits - 1)).astype(positions.dtype)
    keys >>= bits
    return positions, keys


def _closest_other_lengths(lengths: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Per text, the length of another text of its group closest to its own; ties go to the shorter."""
    span = int(lengths.max()) + 1
    keys = groups * span + lengths
    unique, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
    below = np.maximum(inverse - 1, 0)
    above = np.minimum(inverse + 1, len(unique) - 1)
    has_below = (inverse > 0) & (unique[below] // span == groups)
    has_above = (inverse < len(unique) - 1) & (unique[above] // span == groups)
    below_len, above_len = unique[below] % span, unique[above] % span
    take_below = has_below & (~has_above | (lengths - below_len <= above_len - lengths))
    closest = np.where(take_below, below_len, above_len)
    return np.where(counts[inverse] >= 2, lengths, closest)


def _sacrebleu_scores(stats: BleuStatistics, max_order: int) -> np.ndarray:
    """Score all texts as sacrebleu's ``BLEU.compute_bleu(..., smooth_method="exp", effective_order=True)`` / 100.

    The same operations in the same order as sacrebleu 2.x's ``compute_bleu``: the brevity penalty, precisions
    ``100 * correct / total`` (``100 / (2^k * total)`` for the k-th order without a match), summed logs over the
    orders that have n-grams, divided by their number. Capped at 1.0: sacrebleu's rounding can give 100.00000000000004
    for a text identical to a reference.
    """
    lengths, ref_lengths, totals = stats.lengths, stats.ref_lengths, stats.totals
    with np.errstate(divide="ignore", invalid="ignore"):
        penalty = np.where(lengths < ref_lengths, np.exp(1 - ref_lengths / lengths), 1.0)
        smoothing = np.ones(len(lengths))
        log_sum = np.zeros(len(lengths))
        for k in range(max_order):
            correct, total = stats.matches[:, k], totals[:, k]
            smoothing = np.where((total > 0) & (correct == 0), smoothing * 2, smoothing)
            precision = np.where(correct > 0, 100.0 * correct / total, 100.0 / (smoothing * total))
            log_sum += np.where(total > 0, np.log(precision), 0.0)
        score = penalty * np.exp(log_sum / np.minimum(lengths, max_order))
    return np.where(stats.matches.any(axis=1), np.minimum(score / 100, 1.0), 0.0)


def _nltk_scores(stats: BleuStatistics, max_order: int) -> np.ndarray:
    """Nltk ``sentence_bleu(refs, hyp, weights=(1/max_order,)*max_order, smoothing_function=method1)``, all at once."""
    lengths, ref_lengths = stats.lengths, stats.ref_lengths
    with np.errstate(divide="ignore", invalid="ignore"):
        penalty = np.where(lengths > ref_lengths, 1.0, np.exp(1 - ref_lengths / lengths))
        weight = 1 / max_order
        precisions = np.where(stats.matches > 0, stats.matches, NLTK_EPSILON) / np.maximum(stats.totals, 1)
        log_sum = np.zeros(len(lengths))
        for k in range(max_order):
            log_sum += weight * np.log(precisions[:, k])
        score = penalty * np.exp(log_sum)
    return np.where(stats.matches[:, 0] > 0, score, 0.0)
