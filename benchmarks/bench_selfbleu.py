"""Self-BLEU: eval.self_bleu against a plain sacrebleu leave-one-out loop, and on 50,000 texts.

The plain loop is what Self-BLEU code usually does: for each text, ``BLEU(effective_order=True).sentence_score``
against all the other texts, O(N²) n-gram extraction. Both sides start with cold tokenizer caches and must agree to
1e-9. Texts are synthetic completions of 20-60 words drawn from a Zipf-like vocabulary of 3,000 words, with commas
and full stops, fixed by the seed.
Targets: ratio (plain loop time / ours) ≥ 100 at N = 400; N = 50,000 in under 30 s.

    python benchmarks/bench_selfbleu.py [--n 400] [--big 50000] [--seed 0]
"""

from __future__ import annotations

import argparse
import random
import sys
import time

RATIO_TARGET = 100
BIG_SECONDS_TARGET = 30.0


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
    clear_tokenizer_caches()
    start = time.perf_counter()
    result = function(*args)
    return result, time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=400, help="texts for the comparison with the plain loop")
    parser.add_argument("--big", type=int, default=50_000, help="texts for the large run")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from eval.selfbleu import self_bleu, sentence_self_bleu

    sentence_self_bleu(corpus(20, args.seed + 1))  # imports and first-call set-up, untimed
    texts = corpus(args.n, args.seed)
    reference, plain_seconds = timed(plain_loop, texts)
    ours, our_seconds = timed(sentence_self_bleu, texts)
    difference = max(abs(a - b) for a, b in zip(reference, ours))
    ratio = plain_seconds / our_seconds
    print(
        f"N={args.n}: plain sacrebleu loop {plain_seconds:.2f} s, eval.self_bleu {our_seconds * 1000:.1f} ms, "
        f"ratio {ratio:.0f}x (target >= {RATIO_TARGET}x); max |difference| {difference:.1e}"
    )

    big = corpus(args.big, args.seed)
    score, big_seconds = timed(self_bleu, big)
    target = f"target < {BIG_SECONDS_TARGET:.0f} s"
    print(f"N={args.big}: eval.self_bleu {big_seconds:.2f} s ({target}), Self-BLEU {score:.4f}")
    ok = ratio >= RATIO_TARGET and big_seconds < BIG_SECONDS_TARGET and difference <= 1e-9
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
