"""The code rewards: extraction, the three test formats, partial credit, details, parameters and pickling."""

from __future__ import annotations

import json
import pickle

import pytest

import rewardlab
from rewardlab.errors import RowError
from rewardlab.rewards.code.cases import decode_value, parse_tests
from rewardlab.rewards.code.compare import output_matches, strict_equal
from rewardlab.rewards.code.extract import extract_code
from rewardlab.rewards.code.rewards import CodeReward
from rewardlab.sandbox.wire import encode as encode_value
from rewardlab.sandbox.wire import plain

ADD = "```python\ndef add(a, b):\n    return a + b\n```"
DOUBLE = "```python\nprint(2 * int(input()))\n```"


@pytest.fixture(scope="module")
def code():
    return rewardlab.get("code", timeout=2)


# -- extraction ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("completion", "expected"),
    [
        pytest.param("```python\nx = 1\n```", "x = 1\n", id="python-fence"),
        pytest.param("```py\nx = 1\n```", "x = 1\n", id="py-fence"),
        pytest.param("```Python3\nx = 1\n```", "x = 1\n", id="python3-fence-any-case"),
        pytest.param("```python\nx = 1\n```\nbetter:\n```python\nx = 2\n```", "x = 2\n", id="last-block-wins"),
        pytest.param("```python\nx = 1\n```\n```bash\nls\n```", "x = 1\n", id="other-languages-ignored"),
        pytest.param("```\nx = 1\n```", None, id="untagged-fence-is-not-python"),
        pytest.param("```pyx\nx = 1\n```", None, id="pyx-is-not-py"),
        pytest.param("```python\n\n```", None, id="empty-block"),
        pytest.param("```python\nx = 1\n", None, id="unclosed-block"),
        pytest.param("<think>\n```python\nx = 1\n```\n</think>\nno code", None, id="block-in-think-ignored"),
        pytest.param("<think>```python\nx = 0\n```</think>```python\nx = 3\n```", "x = 3\n", id="after-think"),
        pytest.param("<think>\nstill thinking ```python\nx = 1\n```", None, id="unclosed-think"),
        pytest.param("```python\ns = '```'\n```", "s = '```'\n", id="fence-inside-a-line"),
        pytest.param("x = 1", None, id="bare-code-without-fallback"),
    ],
)
def test_extract_code(completion, expected):
    assert extract_code(completion) == expected


def test_extract_code_falls_back_to_the_whole_answer_only_when_it_parses():
    assert (
        extract_code("<think>hm</think>\ndef f():\n    return 1\n", fallback_to_text=True)
        == "\ndef f():\n    return 1\n"
    )
    assert extract_code("Here is my answer: 42", fallback_to_text=True) is None


def test_extract_code_reads_chat_messages():
    assert extract_code([{"role": "assistant", "content": "```python\nx = 1\n```"}]) == "x = 1\n"


def test_no_code_block_scores_zero_and_says_why(code):
    score = code.score([""], ["I would add them."], tests=[["assert add(1, 2) == 3"]])[0]
    assert score.value == 0.0
    assert score.details["code"] is None
    assert "no fenced python code block" in score.details["first_failure"]


def test_fallback_to_text_runs_an_unfenced_answer():
    reward = rewardlab.get("code", timeout=2, fallback_to_text=True)
    assert reward(completions=["def add(a, b):\n    return a + b"], tests=[["assert add(1, 2) == 3"]]) == [1.0]


# -- partial credit --------------------------------------------------------------------------------------------------


def test_partial_credit_is_half_the_fraction_passed(code):
    tests = ["assert add(1, 2) == 3", "assert add(2, 2) == 4", "assert add(0, 0) == 1", "assert add(1, 1) == 3"]
    assert code(completions=[ADD], tests=[tests]) == [0.25]
    assert code(completions=[ADD], tests=[tests[:2]]) == [1.0]
    assert code(completions=[ADD], tests=[tests[2:]]) == [0.0]


def test_partial_weight_parameter():
    reward = rewardlab.get("code", timeout=2, partial_weight=1.0)
    assert reward(completions=[ADD], tests=[["assert add(1, 2) == 3", "assert add(1, 2) == 4"]]) == [0.5]


def test_code_binary_gives_credit_only_for_all_tests():
    reward = rewardlab.get("code-binary", timeout=2)
    completions = [ADD, ADD]
    tests = [["assert add(1, 2) == 3"], ["assert add(1, 2) == 3", "assert add(1, 2) == 4"]]
    assert reward(completions=completions, tests=tests) == [1.0, 0.0]
    assert "partial_weight" not in reward.settings()


def test_rows_are_scored_independently_in_one_batch(code):
    completions = [ADD, "no code", DOUBLE, ADD]
    tests = [["assert add(1, 2) == 3"], ["assert add(1, 2) == 3"], None, ["assert add(1, 2) == 0"]]
    cases = [None, None, [{"input": "4", "output": "8"}], None]
    assert code(completions=completions, tests=tests, test_cases=cases) == [1.0, 0.0, 1.0, 0.0]


def test_row_without_tests_does_not_apply(code):
    assert code(completions=[ADD], tests=[[]]) == [None]


# -- assert tests ----------------------------------------------------------------------------------------------------


def test_setup_runs_before_the_tests(code):
    score = code.score([""], [ADD], tests=[["assert add(X, 1) == 11"]], setup=["X = 10"])[0]
    assert score.value == 1.0


def test_tests_may_hold_several_statements(code):
    assert code(completions=[ADD], tests=[["total = add(1, 2)\ntotal = add(total, 3)\nassert total == 6"]]) == [1.0]


def test_tests_given_as_a_json_string(code):
    assert code(completions=[ADD], tests=[json.dumps(["assert add(1, 2) == 3", "assert add(1, 1) == 3"])]) == [0.25]


def test_a_program_that_raises_fails_every_test_with_its_error(code):
    score = code.score([""], ["```python\nraise ValueError('boom')\n```"], tests=[["assert True", "assert 1"]])[0]
    assert score.value == 0.0
    assert "ValueError: boom" in score.details["first_failure"]


def test_a_test_that_raises_system_exit_fails_only_itself(code):
    program = "```python\nimport sys\ndef f(x):\n    if x < 0:\n        sys.exit(0)\n    return x\n```"
    assert code(completions=[program], tests=[["assert f(-1) == -1", "assert f(2) == 2"]]) == [0.25]


@pytest.mark.parametrize(
    ("source", "expression", "expected"),
    [
        ("assert f(1) == 2", "f(1)", 2),
        ("assert 'ab' == f(x)", "f(x)", "ab"),
        ("assert f(1) == [1, (2, None)], 'message'", "f(1)", [1, (2, None)]),
        ("assert [f(1)] == [-2.5]", "[f(1)]", [-2.5]),
        ("assert f(1) == g(2)", None, None),
        ("assert f(1) != 2", None, None),
        ("assert f(1)", None, None),
        ("x = f(1)\nassert x == 2", None, None),
        ("assert f(1) == float('inf')", None, None),
        ("assert (", None, None),
    ],
)
def test_literal_asserts_are_judged_on_the_host(source, expression, expected):
    """``assert EXPR == LITERAL`` sends only EXPR into the sandbox; the literal stays on the host."""
    (test,) = parse_tests({"tests": [source]}).asserts
    assert (test.expression, test.expected) == (expression, expected)


def test_literal_asserts_keep_python_equality(code):
    program = "```python\ndef f(x):\n    return x\n```"
    tests = ["assert f(1) == 1.0", "assert f(True) == 1", "assert f((1, 2)) == [1, 2]", "assert f(None) == None"]
    score = code.score([""], [program], tests=[tests])[0]
    assert score.details["failed"] == ["assert f((1, 2)) == [1, 2]"]


def test_numpy_scalars_count_as_numbers(code):
    program = "```python\nimport numpy as np\ndef total(xs):\n    return np.sum(np.array(xs))\n```"
    cases = [{"call": "total([1, 2])", "expected": 3}]
    assert code(completions=[program], tests=[["assert total([1, 2]) == 3"]], test_cases=[cases]) == [1.0]


#: Programs whose ``f()`` returns a value that is not of a plain builtin type, and the plain value it holds.
UNUSUAL_VALUES = {
    "numpy-int64": ("import numpy as np\ndef f():\n    return np.int64(3)", "3"),
    "numpy-float32": ("import numpy as np\ndef f():\n    return np.float32(0.5)", "0.5"),
    "numpy-bool": ("import numpy as np\ndef f():\n    return np.bool_(True)", "True"),
    "numpy-array": ("import numpy as np\ndef f():\n    return np.array([[1, 2], [3, 4]])", "[[1, 2], [3, 4]]"),
    "numpy-in-list": ("import numpy as np\ndef f():\n    return [np.int64(1), np.str_('a')]", "[1, 'a']"),
    "ordered-dict": ("import collections\ndef f():\n    return collections.OrderedDict(b=2, a=1)", "{'a': 1, 'b': 2}"),
    "counter-keys-numpy": (
        "import collections, numpy as np\ndef f():\n    return collections.Counter([np.int64(1), 1, 2])",
        "{1: 2, 2: 1}",
    ),
    "int-enum": ("import enum\nclass E(enum.IntEnum):\n    A = 7\ndef f():\n    return E.A", "7"),
    "str-subclass": ("class S(str):\n    pass\ndef f():\n    return S('ab')", "'ab'"),
    "namedtuple": (
        "import collections\nP = collections.namedtuple('P', 'x y')\ndef f():\n    return P(1, 2)",
        "(1, 2)",
    ),
}
#: Programs whose ``f()`` returns a subclass that overrides what a comparison might read; the value held is 0 / ''.
CHEATS = {
    "eq-always-true": (
        "class I(int):\n    __eq__ = lambda self, other: True\n    __hash__ = int.__hash__\ndef f():\n    return I(0)"
    ),
    "ne-always-false": (
        "class I(int):\n    __ne__ = lambda self, other: False\n    __hash__ = int.__hash__\ndef f():\n    return I(0)"
    ),
    "int-override": "class I(int):\n    __int__ = __index__ = lambda self: 4\ndef f():\n    return I(0)",
    "str-override": (
        "class S(str):\n    __str__ = lambda self: '4'\n    __eq__ = lambda self, other: True\n"
        "    __hash__ = str.__hash__\ndef f():\n    return S('')"
    ),
    "numpy-subclass": (
        "import numpy as np\nclass A(np.ndarray):\n    __eq__ = lambda self, other: True\n"
        "    tolist = lambda self: 4\ndef f():\n    return np.zeros(1, dtype=int).view(A)"
    ),
}


def assert_shapes(expected: str) -> dict[str, dict]:
    """The same assertion about ``f()`` in every shape a row may give it: host-judged, run in the sandbox, check()."""
    check = f"def check(candidate):\n    assert candidate() == {expected}\n    assert not (candidate() != {expected})"
    return {
        "literal": {"tests": [f"assert f() == {expected}"]},
        "literal-reversed": {"tests": [f"assert {expected} == f()"]},
        "variable": {"tests": [f"one = {expected}\nassert f() == one"]},
        "not-equal": {"tests": [f"assert not (f() != {expected})"]},
        "check": {"tests": [f"{check}\ncheck(f)"]},
        "setup-and-check": {"setup": check, "tests": ["check(f)"]},
        "in-a-loop": {"tests": [f"for value in [f()]:\n    assert value == {expected}, 'message'"]},
    }


def verdicts(reward, program: str, shapes: dict[str, dict]) -> dict[str, float]:
    names = list(shapes)
    columns = {
        "tests": [shapes[name]["tests"] for name in names],
        "setup": [shapes[name].get("setup") for name in names],
    }
    values = reward(completions=[f"```python\n{program}\n```"] * len(names), **columns)
    return dict(zip(names, values, strict=True))


@pytest.mark.parametrize(("program", "held"), list(UNUSUAL_VALUES.values()), ids=list(UNUSUAL_VALUES))
def test_numpy_values_and_builtin_subclasses_compare_as_their_plain_value_in_every_shape(code, program, held):
    shapes = assert_shapes(held)
    assert verdicts(code, program, shapes) == dict.fromkeys(shapes, 1.0)
    wrong = assert_shapes("-1")
    assert verdicts(code, program, wrong) == dict.fromkeys(wrong, 0.0)


@pytest.mark.parametrize("program", list(CHEATS.values()), ids=list(CHEATS))
def test_overridden_eq_str_int_cannot_pass_in_any_shape(code, program):
    shapes = assert_shapes("4")
    assert verdicts(code, program, shapes) == dict.fromkeys(shapes, 0.0)


@pytest.mark.parametrize(("program", "held"), list(UNUSUAL_VALUES.values()), ids=list(UNUSUAL_VALUES))
def test_call_cases_read_numpy_values_and_builtin_subclasses_as_their_plain_value(code, program, held):
    cases = [{"call": "f()", "expected_literal": held}, {"call": "f()", "expected_literal": "-1"}]
    assert code(completions=[f"```python\n{program}\n```"], test_cases=[cases]) == [0.25]


def test_plain_reads_values_through_their_builtin_base_type():
    from collections import OrderedDict

    import numpy as np

    class Lying(int):
        def __int__(self):
            return 5

        __index__ = __int__

    assert [plain(np.int64(2)), plain(np.array([1.5])), plain(OrderedDict(a=1)), plain(Lying(3))] == [
        2,
        [1.5],
        {"a": 1},
        3,
    ]
    assert [type(plain(value)) for value in (np.int64(2), OrderedDict(a=1), Lying(3), True)] == [int, dict, int, bool]
    assert encode_value({np.int64(1): [Lying(3)]}) == ["d", [[["i", "0x1"], ["l", [["i", "0x3"]]]]]]


def test_only_plain_data_crosses_so_no_object_brings_its_own_equality():
    class Anything:
        def __eq__(self, other):
            return True

    for value in (Anything(), [Anything()], {"k": Anything()}, (x for x in [4])):
        with pytest.raises(TypeError, match="cannot cross"):
            encode_value(value)


# -- stdin/stdout tests ----------------------------------------------------------------------------------------------


def test_stdin_stdout_cases(code):
    cases = [{"input": "2\n", "output": "4\n"}, {"input": "5", "output": "10"}, {"input": "1", "output": "3"}]
    score = code.score([""], [DOUBLE], test_cases=[cases])[0]
    assert score.value == pytest.approx(0.5 * 2 / 3)
    assert score.details["failed"] == ["stdin case 2"]
    assert score.details["first_failure"] == "stdin case 2: wrong output: line 1: expected '3', got '2'"


def test_truncated_output_fails_unlike_open_r1_zip():
    """open-r1 zips output and expected lines, so printing only the first line passes there; here it fails."""
    assert output_matches("1\n", "1\n2\n3\n") == (False, "expected 3 lines, got 1")
    assert output_matches("", "1") == (False, "expected 1 lines, got 0")
    assert output_matches("1\n2\n3\n4\n", "1\n2\n3\n") == (False, "expected 3 lines, got 4")
    assert output_matches("  1 \r\n2\n\n", "1\n2") == (True, "")


def test_truncated_output_scores_zero(code):
    program = "```python\nn = int(input())\nprint(1)\n```"
    assert code(completions=[program], test_cases=[[{"input": "3", "output": "1\n2\n3\n"}]]) == [0.0]


def test_open_r1_verification_info_as_object_or_json_string(code):
    info = {"language": "python", "test_cases": [{"input": "3\n", "output": "6\n", "type": "stdin_stdout"}]}
    assert code(completions=[DOUBLE, DOUBLE], verification_info=[info, json.dumps(info)]) == [1.0, 1.0]


def test_verification_info_for_another_language_does_not_apply(code):
    info = {"language": "cpp", "test_cases": [{"input": "3\n", "output": "6\n"}]}
    assert code(completions=[DOUBLE], verification_info=[info]) == [None]


def test_apps_style_inputs_and_outputs(code):
    assert code(completions=[DOUBLE], test_cases=[{"inputs": ["1", "2"], "outputs": ["2", "5"]}]) == [0.25]


def test_non_zero_exit_status_fails_the_case(code):
    program = "```python\nprint(2 * int(input()))\nraise SystemExit(3)\n```"
    score = code.score([""], [program], test_cases=[[{"input": "2", "output": "4"}]])[0]
    assert score.value == 0.0
    assert score.details["first_failure"] == "stdin case 0: exit status 3"


def test_cases_after_a_timeout_are_not_run(code):
    program = "```python\nn = int(input())\nwhile n == 0:\n    pass\nprint(n)\n```"
    cases = [{"input": "1", "output": "1"}, {"input": "0", "output": "0"}, {"input": "2", "output": "2"}]
    score = code.score([""], [program], test_cases=[cases])[0]
    assert score.details["passed"] == ["stdin case 0"]
    assert score.details["limit"] in ("timeout", "cpu")
    assert score.value == pytest.approx(0.5 / 3)


# -- function-call tests ---------------------------------------------------------------------------------------------


def test_call_cases_compare_type_strictly(code):
    program = "```python\ndef f(x):\n    return x / 2\n```"
    cases = [{"call": "f(4)", "expected": 2.0}, {"call": "f(4)", "expected": 2}, {"call": "f(3)", "expected": 1.5}]
    score = code.score([""], [program], test_cases=[cases])[0]
    assert score.details["failed"] == ["f(4)"]
    assert score.details["first_failure"] == "f(4): expected 2, got 2.0"


def test_call_cases_with_python_literals(code):
    program = "```python\ndef f():\n    return (1, {2: 'b'}, {3})\n```"
    cases = [
        {"call": "f()", "expected_literal": "(1, {2: 'b'}, {3})"},
        {"call": "f()", "expected_literal": "[1, {2: 'b'}, {3}]"},
    ]
    assert code(completions=[program], test_cases=[cases]) == [0.25]


def test_call_cases_with_json_lists_accept_tuples(code):
    program = "```python\ndef pair():\n    return (1, 2)\n```"
    assert code(completions=[program], test_cases=[[{"call": "pair()", "expected": [1, 2]}]]) == [1.0]


def test_call_returning_an_unreportable_object_fails(code):
    program = "```python\nclass Box:\n    pass\ndef f():\n    return Box()\n```"
    score = code.score([""], [program], test_cases=[[{"call": "f()", "expected": None}]])[0]
    assert score.value == 0.0
    assert "cannot cross" in score.details["first_failure"]


ROUND_TRIP = [None, True, 0, -(10**5000), 1.5, float("inf"), 2 + 3j, "é\ud800", b"\x00\xff", [1, (2, {3: "x"})]]


@pytest.mark.parametrize("value", [*ROUND_TRIP, {frozenset({1})}], ids=lambda value: type(value).__name__)
def test_reported_values_round_trip(value):
    decoded = decode_value(json.loads(json.dumps(encode_value(value))))
    assert strict_equal(decoded, value, json_lists=False)


def test_strict_equal_matches_keys_and_members_by_type_in_large_containers():
    # Keys and members are looked up, not compared pairwise: a 20,000-entry answer is checked on the host thread.
    big = {i: str(i) for i in range(20_000)}
    assert strict_equal(dict(big), big) and strict_equal(set(big), set(big))
    assert not strict_equal({**big, 0: "x"}, big)
    assert not strict_equal({True: "a", 2: "b"}, {1: "a", 2: "b"})
    assert not strict_equal({1, "a"}, {True, "a"})
    assert strict_equal({0.1 + 0.2: 1, (1, 2): 2}, {0.3: 1, (1, 2): 2})
    assert strict_equal({0.1 + 0.2, (1, 2)}, {0.3, (1, 2)})


def test_strict_equal():
    assert strict_equal(0.1 + 0.2, 0.3)
    assert strict_equal(float("nan"), float("nan"))
    assert not strict_equal(1, True)
    assert not strict_equal(1.0, 1)
    assert not strict_equal({"a": 1}, {"a": 1, "b": 2})
    assert not strict_equal([1, 2], (1, 2), json_lists=False)
    assert strict_equal((1, 2), [1, 2])


def test_decode_value_rejects_malformed_reports():
    for bad in (["?"], ["i"], ["l", 3], "x", ["d", [[["i", "0x1"]]]]):
        with pytest.raises(ValueError):
            decode_value(bad)


# -- rows, details, parameters ---------------------------------------------------------------------------------------


def test_mixed_formats_in_one_row_count_together(code):
    program = (
        "```python\ndef half(x):\n    return x // 2\nif __name__ == '__main__':\n    print(half(int(input())))\n```"
    )
    tests = ["assert half(4) == 2"]
    cases = [{"call": "half(9)", "expected": 4}, {"input": "8", "output": "4"}, {"input": "8", "output": "5"}]
    score = code.score([""], [program], tests=[tests], test_cases=[cases])[0]
    assert score.details["total"] == 4
    assert score.details["passed"] == ["assert half(4) == 2", "half(9)", "stdin case 0"]
    assert score.value == pytest.approx(0.5 * 3 / 4)


def test_details_explain_the_score(code):
    score = code.score([""], [ADD], tests=[["assert add(1, 2) == 3", "assert add(1, 2) == 4"]])[0]
    assert score.details["code"] == "def add(a, b):\n    return a + b\n"
    assert score.details["passed"] == ["assert add(1, 2) == 3"]
    assert score.details["failed"] == ["assert add(1, 2) == 4"]
    assert score.details["first_failure"] == "assert add(1, 2) == 4: expected 4, got 3"
    assert score.details["limit"] is None
    assert score.components == {"pass_rate": 0.5}


@pytest.mark.parametrize(
    ("row", "field"),
    [
        ({"tests": [3]}, "tests"),
        ({"test_cases": [{"call": "f(", "expected": 1}]}, "test_cases"),
        ({"test_cases": [{"call": "f()"}]}, "test_cases"),
        ({"test_cases": [{"input": "1"}]}, "test_cases"),
        ({"test_cases": [{"input": 1, "output": "1"}]}, "test_cases"),
        ({"test_cases": "{not json"}, "test_cases"),
        ({"verification_info": {"tests": []}}, "verification_info"),
        ({"test_cases": [{"input": "", "output": "", "type": "function_call"}]}, "test_cases"),
        ({"tests": ["assert True"], "setup": 5}, "setup"),
    ],
)
def test_malformed_rows_name_the_field(row, field):
    with pytest.raises(RowError) as caught:
        parse_tests(row, index=7)
    assert caught.value.field == field
    assert caught.value.index == 7


@pytest.mark.parametrize(
    "params",
    [{"timeout": 0}, {"timeout": -1}, {"partial_weight": 2}, {"memory_mb": 8}, {"workers": 0}, {"isolation": "vm"}],
)
def test_invalid_parameters_are_config_errors(params):
    with pytest.raises(rewardlab.ConfigError):
        rewardlab.get("code", **params)


def test_parameters_given_as_text_are_converted():
    reward = rewardlab.get("code", timeout="3", memory_mb="512", fallback_to_text="true", workers="2")
    assert (reward.timeout, reward.memory_mb, reward.fallback_to_text, reward.workers) == (3.0, 512, True, 2)


def test_reward_pickles_without_its_pool(code):
    code(completions=[ADD], tests=[["assert add(1, 2) == 3"]])
    data = pickle.dumps(code)
    assert len(data) < 1000
    clone = pickle.loads(data)
    assert isinstance(clone, CodeReward)
    assert clone(completions=[ADD], tests=[["assert add(1, 2) == 3"]]) == [1.0]


def test_code_format():
    reward = rewardlab.get("code-format")
    completions = [
        "```python\nprint(1)\n```",
        "```py\nprint(1)\n```",
        "```javascript\nconsole.log(1)\n```",
        "<think>```python\nx = 1\n```</think>done",
        "```python\n   \n```",
    ]
    assert reward(completions=completions) == [1.0, 1.0, 0.0, 0.0, 0.0]
    assert rewardlab.get("code-format", language="javascript")(completions=completions) == [0.0, 0.0, 1.0, 0.0, 0.0]
    assert pickle.loads(pickle.dumps(reward))(completions=completions[:1]) == [1.0]


def test_trl_call_convention_logs_pass_rate(code):
    logged = {}
    values = code(
        prompts=["p"],
        completions=[[{"role": "assistant", "content": ADD}]],
        completion_ids=[[1, 2]],
        tests=[["assert add(1, 2) == 3"]],
        log_metric=lambda name, value: logged.setdefault(name, value),
        trainer_state=None,
    )
    assert values == [1.0]
    assert logged == {"code/pass_rate": 1.0}
