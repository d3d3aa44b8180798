"""Self-BLEU: eval.self_bleu against a plain sacrebleu leave-one-out loop, and on 1,000,000 short replies.

The plain loop is what Self-BLEU code usually does: for each text, ``BLEU(effective_order=True).sentence_score``
against all the other texts, O(N²) n-gram extraction. Both sides start with cold tokenizer caches and must agree to
1e-6 (the run prints the largest difference). Timings are of the call alone (ours: the median of five calls):
imports and first-call set-up happen before, untimed. CPU times are printed beside them, as the machine may be
shared. The comparison texts are synthetic completions of 20-60 words from a Zipf-like vocabulary of 3,000
words with commas and full stops; the large run scores short social-media replies (see :func:`replies`). Both are
fixed by the seed.
Targets: ratio (plain loop time / ours) ≥ 1000 at N = 400; 1,000,000 replies in under 60 s.

    python benchmarks/bench_selfbleu.py [--n 400] [--big 1000000] [--seed 0]
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import time

import numpy as np

RATIO_TARGET = 1000
BIG_SECONDS_TARGET = 60.0
DIFFERENCE_TARGET = 1e-6
REPEATS = 5
FUNCTION_WORDS = (
    "i you the a to and it is that this so of in my for be not but just was with have are on lol what like they me "
    "your do if we all can at no yes he she one get one about how more why people really think good love"
).split()
STOCK_REPLIES = [
    "lol",
    "LOL",
    "this!",
    "so true",
    "Thanks for sharing!",
    "same",
    "omg yes",
    "100%",
    "I agree.",
    "Love this ❤️",
    "haha",
    "wow",
    "This is amazing 😍",
    "Congrats!!",
    "no way",
    "facts",
    "me too",
    "Great post!",
    "😂😂😂",
    "why?",
]
PUNCTUATION = ["", ",", ".", "!", "?", "...", "!!", " 😂", " 🔥"]
PUNCTUATION_WEIGHTS = [0.8, 0.06, 0.06, 0.03, 0.02, 0.01, 0.01, 0.005, 0.005]


def corpus(size: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    words = [f"w{i}" for i in range(3000)]
    weights = [1 / (rank + 1) for rank in range(len(words))]
    texts = []
    for _ in range(size):
        tokens = rng.choices(words, weights, k=rng.randint(20, 60))
        for i in range(7, len(tokens), rng.randint(6, 12)):
            tokens[i] += rng.choice([",", "."])
        texts.append(" ".join(tokens) + ".")
    return texts


def replies(size: int, seed: int) -> list[str]:
    """Short replies as under a social-media post: 1-60 words (median 9), 5% of them stock replies ("lol", "so true").

    Words follow Zipf's law over 40,000 words: common English function words first, then made-up words of one to
    four syllables; some carry punctuation or an emoji, about 1% are @mentions and the first is often capitalised.
    """
    rng = np.random.default_rng(seed)
    syllables = [c + v for c in "bcdfghjklmnprstvwz" for v in ("a", "e", "i", "o", "u", "ai", "ou", "ee")]
    counts = rng.integers(1, 5, 60_000)
    drawn_syllables = [syllables[i] for i in rng.integers(0, len(syllables), counts.sum()).tolist()]
    starts = (np.cumsum(counts) - counts).tolist()
    made_up = dict.fromkeys("".join(drawn_syllables[s : s + n]) for s, n in zip(starts, counts.tolist(), strict=True))
    made_up = [word for word in made_up if word not in FUNCTION_WORDS]
    vocabulary = np.array(FUNCTION_WORDS + made_up[: 40_000 - len(FUNCTION_WORDS)], dtype=object)
    rank_weights = 1 / (np.arange(len(vocabulary)) + 2.7)
    lengths = np.clip(np.rint(rng.lognormal(np.log(9), 0.7, size)), 1, 60).astype(np.int64)
    drawn = vocabulary[np.searchsorted(np.cumsum(rank_weights / rank_weights.sum()), rng.random(lengths.sum()))]
    suffixes = np.array(PUNCTUATION, dtype=object)[rng.choice(len(PUNCTUATION), len(drawn), p=PUNCTUATION_WEIGHTS)]
    words = (drawn + suffixes).tolist()
    mentions = rng.random(len(words)) < 0.01
    for i in np.flatnonzero(mentions).tolist():
        words[i] = f"@user{rng.integers(0, 5000)}"
    starts = np.cumsum(lengths) - lengths
    texts = [" ".join(words[s : s + n]) for s, n in zip(starts.tolist(), lengths.tolist(), strict=True)]
    capitalise = rng.random(size) < 0.4
    stock = rng.random(size) < 0.05
    for i in np.flatnonzero(capitalise | stock).tolist():
        texts[i] = STOCK_REPLIES[rng.integers(0, len(STOCK_REPLIES))] if stock[i] else texts[i].capitalize()
    return texts


def plain_loop(texts: list[str]) -> list[float]:
    from sacrebleu.metrics.bleu import BLEU

    bleu = BLEU(effective_order=True)
    return [bleu.sentence_score(t, texts[:i] + texts[i + 1 :]).score / 100 for i, t in enumerate(texts)]


def clear_tokenizer_caches() -> None:
    from sacrebleu.tokenizers.tokenizer_13a import Tokenizer13a
    from sacrebleu.tokenizers.tokenizer_re import TokenizerRegexp

    Tokenizer13a.__call__.cache_clear()
    TokenizerRegexp.__call__.cache_clear()


def timed(function, *args):
    """Result, wall-clock seconds and CPU seconds of one call, with cold tokenizer caches."""
    clear_tokenizer_caches()
    wall, cpu = time.perf_counter(), time.process_time()
    result = function(*args)
    return result, time.perf_counter() - wall, time.process_time() - cpu


def rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 2**20


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=400, help="texts for the comparison with the plain loop")
    parser.add_argument("--big", type=int, default=1_000_000, help="replies for the large run")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from rewardlab.metrics.selfbleu import self_bleu, sentence_self_bleu

    sentence_self_bleu(corpus(20, args.seed + 1))  # imports and first-call set-up, untimed
    texts = corpus(args.n, args.seed)
    reference, plain_seconds, plain_cpu = timed(plain_loop, texts)
    runs = sorted((timed(sentence_self_bleu, texts) for _ in range(REPEATS)), key=lambda run: run[1])
    ours, our_seconds, our_cpu = runs[REPEATS // 2]
    difference = max(abs(a - b) for a, b in zip(reference, ours, strict=True))
    ratio = plain_seconds / our_seconds
    print(
        f"N={args.n}: plain sacrebleu loop {plain_seconds:.2f} s, eval.self_bleu {our_seconds * 1000:.1f} ms (the "
        f"call alone, median of {REPEATS}), ratio {ratio:.0f}x (target >= {RATIO_TARGET}x; CPU time ratio "
        f"{plain_cpu / our_cpu:.0f}x); max |difference| {difference:.1e} (target <= {DIFFERENCE_TARGET:.0e})"
    )

    big = replies(args.big, args.seed)
    before = rss_mib()
    score, big_seconds, big_cpu = timed(self_bleu, big)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10
    print(
        f"N={args.big:,} replies: eval.self_bleu {big_seconds:.1f} s (target < {BIG_SECONDS_TARGET:.0f} s; CPU "
        f"{big_cpu:.1f} s), Self-BLEU {score:.4f}; RSS {before:.0f} MiB with the texts loaded, peak {peak:.0f} MiB"
    )
    ok = ratio >= RATIO_TARGET and big_seconds < BIG_SECONDS_TARGET and difference <= DIFFERENCE_TARGET
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
