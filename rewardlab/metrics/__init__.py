"""Metrics that rewards and evaluation both use: Self-BLEU and the tokenisation it counts n-grams on.

``evalkit`` reports Self-BLEU over runs; the polychromic reward scores the diversity of a set of completions with
the same computation, so both import it from here (``eval`` depends on ``rewardlab``, never the reverse).
"""
