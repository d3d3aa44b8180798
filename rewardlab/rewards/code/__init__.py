"""Code rewards: run the program in a completion against the row's tests, in a sandbox, with partial credit.

``code`` is the reward of the code-GRPO experiments this project grew from: 1.0 when every test passes, else
``partial_weight`` (0.5) times the fraction passed; ``code-binary`` gives 1.0 only when all pass; ``code-format``
checks that a fenced block of the expected language is there. Programs never run in the calling process: they go
to a pool of bubblewrap sandboxes (:mod:`rewardlab.sandbox`; the threat model is in ``docs/sandbox.md``).

Tests come from the row, in any of three formats (each item's shape says which, and one row may mix them):

- ``tests``: assert statements, HumanEval/MBPP style — a list of strings, each one test, run in order after the
  program and the optional ``setup`` column (a string of code), in the program's namespace. ``assert EXPR ==
  LITERAL`` (the usual shape) is judged on the host: only EXPR runs in the sandbox, and its value is compared with
  the literal by Python's ``==`` on plain data. Other tests run as statements, and every ``a == b`` or ``a != b``
  inside an assert of the tests or of ``setup`` (HumanEval's ``check(candidate)`` too) is judged by the same rule
  in the sandbox, so an object whose ``__eq__`` always answers True does not pass. Output the program prints in
  these tests is discarded, not judged.
- ``test_cases``: stdin/stdout cases ``{"input": "...", "output": "..."}`` (or APPS-style
  ``{"inputs": [...], "outputs": [...]}``), and function-call cases ``{"call": "f(2)", "expected": 4}``.
  ``verification_info`` is open-r1's column, ``{"language": "python", "test_cases": [...]}``.
- stdin/stdout cases run the program afresh on each input; the output matches when, after stripping both texts,
  they have the same lines, each equal after stripping. Every line must match: open-r1 zips the two line lists,
  so truncated output passes there. A program that exits with a non-zero status fails the case.
- function-call cases evaluate the call in the sandbox and compare its value with ``expected`` outside it, by
  type as well as value (:func:`strict_equal`): ``4.0`` is not ``4``, ``True`` is not ``1``, and only plain data
  (None, bool, int, float, complex, str, bytes, list, tuple, dict, set, frozenset) can pass. A JSON list
  matches a list or a tuple; ``expected_literal`` (a Python literal, e.g. ``"(1, 2)"``) gives exact types.

Whatever the shape of the test, numpy scalars and arrays and values of subclasses of builtin types (an
``OrderedDict``, an ``IntEnum``) count as the plain value they hold, read through the builtin base type, so that an
overridden ``__eq__``, ``__str__`` or ``__int__`` plays no part (``runner.plain``).

A failure on our side (a sandbox that does not start, dies or does not answer in time, a pool shut down) is not the
program's: the row is sent once more to a fresh sandbox, and if that fails too its reward is None, with the reason
in ``details``. A program's own timeout, crash or exit fails its tests.

Any column may also hold the same data as a JSON string.

The family is split by step: :mod:`.extract` finds the program, :mod:`.cases` reads the tests, :mod:`.judge` runs
them in the sandbox and :mod:`.compare` compares values, and :mod:`.rewards` holds the registered rewards.
"""
