"""Math rewards for ``<think>…</think><answer>…</answer>`` completions, after open-r1 and TRL, with their bugs fixed.

Format and tag rewards (``math-format``, ``math-tags``, ``think-format``) check the layout; ``math-accuracy`` checks
the answer with math-verify in worker processes under a hard time limit; ``math-cosine``, ``math-length`` and
``overlong`` shape rewards by length; ``math-repetition`` (words, CJK characters or tokens) and ``math-steps`` look at
the reasoning. ``math`` is the usual preset, correctness first: accuracy + 0.25 × format + 0.25 × tags. Every reward
that reads the answer takes ``think_prefilled`` for chat templates that open ``<think>`` in the prompt. Where a peer's
definition has a known bug, ours differs and a test in ``tests/test_math.py`` names it;
``tests/test_math_peer_cases.py`` runs the peers' own test cases against ours.

Lengths count tokens when the trainer passes ``completion_ids`` and characters otherwise; ``unit=`` forces one.

The family is split by what a reward looks at: :mod:`.answers` (where the answer is, lengths), :mod:`.extract` (the
final answer in it by one rule, normalised for math-verify), :mod:`.format` (layout), :mod:`.accuracy` (the answer
against the gold, through :mod:`.verify`), :mod:`.length` (repetition and overlong) and :mod:`.preset` (``math``).
"""
