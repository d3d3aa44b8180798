"""Compare values and outputs outside the sandbox, on plain data only, by type as well as value."""

from __future__ import annotations

import math
from typing import Any

#: Types whose values are equal exactly when they hash and compare equal under the same type: dict keys and set
#: members of these types are matched by lookup, the rest (floats with their tolerance, tuples) by comparison.
EXACT_TYPES = (str, int, bool, bytes, type(None))


def strict_equal(actual: Any, expected: Any, json_lists: bool = True) -> bool:
    """Equality of plain data that also requires equal types, recursively.

    ``bool``, ``int`` and ``float`` are distinct types; floats compare with a relative tolerance of 1e-9 (and NaN
    equals NaN); with ``json_lists`` an expected list (JSON has no tuples) matches a list or a tuple.

    Example:
        >>> strict_equal(4, 4), strict_equal(4.0, 4), strict_equal(True, 1), strict_equal((1, 2), [1, 2])
        (True, False, False, True)

    """
    ta, te = type(actual), type(expected)
    if te is list and json_lists:
        if ta not in (list, tuple) or len(actual) != len(expected):
            return False
        return all(strict_equal(a, e, json_lists) for a, e in zip(actual, expected, strict=True))
    if ta is not te:
        return False
    if te is float:
        return actual == expected or (math.isnan(actual) and math.isnan(expected)) or math.isclose(actual, expected)
    if te in (list, tuple):
        return len(actual) == len(expected) and all(
            strict_equal(a, e, json_lists) for a, e in zip(actual, expected, strict=True)
        )
    if te is dict:
        if len(actual) != len(expected):
            return False
        exact = {(type(k), k): k for k in actual if type(k) in EXACT_TYPES}
        for key, value in expected.items():
            if type(key) in EXACT_TYPES:
                match = [exact[type(key), key]] if (type(key), key) in exact else []
            else:
                match = [k for k in actual if strict_equal(k, key, json_lists)]
            if len(match) != 1 or not strict_equal(actual[match[0]], value, json_lists):
                return False
        return True
    if te in (set, frozenset):
        if len(actual) != len(expected):
            return False
        exact = {(type(a), a) for a in actual if type(a) in EXACT_TYPES}
        inexact = [a for a in actual if type(a) not in EXACT_TYPES]
        return all(
            (type(e), e) in exact if type(e) in EXACT_TYPES else any(strict_equal(a, e) for a in inexact)
            for e in expected
        )
    return actual == expected


def plain_equal(actual: Any, expected: Any) -> bool:
    """Python's ``==`` between a reported value and an assert's literal; both are plain data built here.

    Example:
        >>> plain_equal(1, 1.0), plain_equal([1, 2], (1, 2))
        (True, False)

    """
    return bool(actual == expected)


def output_matches(actual: str, expected: str) -> tuple[bool, str]:
    r"""Compare stdout with the expected output: same lines after stripping, each equal after stripping.

    Returns:
        Whether they match, and where they first differ.

    Example:
        >>> output_matches("1\n2  \n", "1\n2")
        (True, '')
        >>> output_matches("1\n", "1\n2")
        (False, 'expected 2 lines, got 1')

    """
    got = [line.strip() for line in actual.strip().splitlines()]
    want = [line.strip() for line in expected.strip().splitlines()]
    for number, (a, b) in enumerate(zip(got, want, strict=False), start=1):
        if a != b:
            return False, f"line {number}: expected {b[:80]!r}, got {a[:80]!r}"
    if len(got) != len(want):
        return False, f"expected {len(want)} lines, got {len(got)}"
    return True, ""
