"""open-r1's and TRL's own reward test cases, run against our equivalent of each of their rewards.

Their cases are restated here as inputs and expected outputs (open-r1 ``tests/test_rewards.py``, TRL
``tests/test_rewards.py``); where our reward differs on purpose, the test says so and why.
"""

import pickle
import threading

import pytest

import rewardlab

#: Every reward of open-r1's ``get_reward_funcs`` registry and of ``trl.rewards``, with ours and its parameters.
PEERS = {
    "open-r1 accuracy": ("math-accuracy", {}),
    "open-r1 format": ("math-format", {}),
    "open-r1 tag_count": ("math-tags", {}),
    "open-r1 reasoning_steps": ("math-steps", {}),
    "open-r1 cosine": ("math-cosine", {}),
    "open-r1 length": ("math-length", {}),
    "open-r1 repetition_penalty": ("math-repetition", {}),
    "open-r1 soft_overlong_punishment": ("overlong", {}),
    "open-r1 code": ("code", {}),
    "open-r1 binary_code": ("code-binary", {}),
    "open-r1 code_format": ("code-format", {}),
    "trl accuracy_reward": ("math-accuracy", {}),
    "trl reasoning_accuracy_reward": ("math-accuracy", {"think_prefilled": True}),
    "trl think_format_reward": ("think-format", {}),
    "trl get_cosine_scaled_reward": ("math-cosine", {"unit": "tokens"}),
    "trl get_repetition_penalty_reward": ("math-repetition", {"unit": "tokens"}),
    "trl get_soft_overlong_punishment": ("overlong", {"unit": "tokens"}),
}


@pytest.mark.parametrize("peer", sorted(PEERS))
def test_every_peer_reward_has_an_equivalent_that_builds_and_pickles(peer):
    name, params = PEERS[peer]
    reward = rewardlab.get(name, **params)
    assert pickle.loads(pickle.dumps(reward)).__name__ == name


def chat(text):
    return [{"role": "assistant", "content": text}]


def accuracy(completions, solutions, **params):
    return rewardlab.get("math-accuracy", **params)(completions=[chat(c) for c in completions], solution=solutions)


# ------------------------------------------------------------------------------------------------ accuracy

ACCURACY_CASES = [
    pytest.param(r"\boxed{\frac{63}{400}}", r"\frac{63}{400}", 1.0, id="open-r1-correct"),
    pytest.param(r"\boxed{\frac{64}{400}}", r"\frac{63}{400}", 0.0, id="open-r1-wrong"),
    pytest.param(r"\boxed{3}", "6", 0.0, id="open-r1-wrong-gold-without-latex"),
    pytest.param(r"\boxed{\frac{63}{400}}", "63/400", 1.0, id="trl-plain-fraction-gold"),
    pytest.param("Answer is forty two.", "Answer is forty two.", None, id="trl-unparseable-gold"),
    pytest.param(r"Some other content. \boxed{43}.", "Answer is forty three.", None, id="trl-unparseable-gold-2"),
    pytest.param(r"My answer is \boxed{\frac{1}{3}}", r"\frac{1}{3}", 1.0, id="trl-docstring-correct"),
    pytest.param(r"My answer is \boxed{\frac{1}{2}}", r"\frac{1}{3}", 0.0, id="trl-docstring-wrong"),
]


@pytest.mark.parametrize(("completion", "solution", "expected"), ACCURACY_CASES)
def test_accuracy_peer_cases(completion, solution, expected):
    assert accuracy([completion], [solution]) == [expected]


def test_accuracy_in_a_worker_thread_as_trl_checks():
    box = {}
    thread = threading.Thread(target=lambda: box.update(result=accuracy([r"\boxed{\frac{1}{3}}"], [r"\frac{1}{3}"])))
    thread.start()
    thread.join(60)
    assert box["result"] == [1.0]


REASONING_ACCURACY_CASES = [  # TRL's reasoning_accuracy_reward is math-accuracy with think_prefilled=True
    pytest.param(r"<think> Reasoning content </think> \boxed{\frac{63}{400}}", r"\frac{63}{400}", 1.0, id="closed"),
    pytest.param(r"Reasoning content </think> \boxed{\frac{63}{400}}", r"\frac{63}{400}", 1.0, id="prefilled"),
    pytest.param(r"<think> Reasoning content </think> \boxed{\frac{64}{400}}", r"\frac{63}{400}", 0.0, id="wrong"),
    pytest.param(r"<think> My answer is \boxed{42} </think> Some other text.", r"\boxed{42}", 0.0, id="in-reasoning"),
    pytest.param(
        r"<think> The answer is \boxed{42} </think> Here's a wrong answer: \boxed{43}.", r"\boxed{42}", 0.0, id="after"
    ),
    pytest.param(r"<think> Incomplete reasoning without closing tag", r"\frac{63}{400}", 0.0, id="incomplete"),
    pytest.param(r"Correct answer \frac{63}{400} but no reasoning", r"\frac{63}{400}", 0.0, id="no-reasoning"),
    pytest.param(r"<think> Reasoning content </think> \boxed{42}", "forty two", None, id="unparseable-gold"),
]


@pytest.mark.parametrize(("completion", "solution", "expected"), REASONING_ACCURACY_CASES)
def test_reasoning_accuracy_peer_cases(completion, solution, expected):
    assert accuracy([completion], [solution], think_prefilled=True) == [expected]


# ------------------------------------------------------------------------------------------------ cosine


@pytest.mark.parametrize(
    ("completion", "length", "expected"),
    [
        pytest.param(r"\boxed{\frac{63}{400}}", 20, 0.943, id="short-correct"),
        pytest.param(r"\boxed{\frac{63}{400}}", 80, 0.547, id="long-correct"),
        pytest.param(r"\boxed{\frac{64}{400}}", 20, -0.942, id="short-wrong"),
        pytest.param(r"\boxed{\frac{64}{400}}", 80, -0.547, id="long-wrong"),
    ],
)
def test_cosine_open_r1_cases_counting_characters(completion, length, expected):
    reward = rewardlab.get("math-cosine", max_len=100)
    padded = completion + " " * (length - len(completion))
    assert reward(completions=[chat(padded)], solution=[r"\frac{63}{400}"]) == [pytest.approx(expected, abs=5e-3)]


@pytest.mark.parametrize(
    ("answer", "lengths", "params", "expected"),
    [
        pytest.param(r"\frac{1}{3}", [25, 75], {}, [0.92678, 0.57322], id="correct-shorter-more"),
        pytest.param(r"\frac{1}{2}", [25, 75], {}, [-0.92678, -0.57322], id="wrong-longer-less-penalised"),
        pytest.param(r"\frac{1}{3}", [0, 100], {}, [1.0, 0.5], id="correct-bounds"),
        pytest.param(r"\frac{1}{2}", [0, 100], {}, [-1.0, -0.5], id="wrong-bounds"),
        pytest.param(r"\frac{1}{3}", [200, 50], {}, [0.5, 0.75], id="clamped-past-max-len"),
        pytest.param(r"\frac{1}{3}", [50], {"min_correct": 0.0, "max_correct": 2.0}, [1.0], id="custom-bounds"),
    ],
)
def test_cosine_trl_cases_counting_tokens(answer, lengths, params, expected):
    reward = rewardlab.get("math-cosine", max_len=100, unit="tokens", **params)
    completions = [chat(rf"\boxed{{{answer}}}")] * len(lengths)
    got = reward(
        completions=completions, solution=[r"\frac{1}{3}"] * len(lengths), completion_ids=[[1] * n for n in lengths]
    )
    assert got == [pytest.approx(e, abs=1e-4) for e in expected]


# ------------------------------------------------------------------------------------------------ length


def length_values(completions):
    reward = rewardlab.get("math-length")
    return reward(
        prompts=["p"] * len(completions),
        completions=[chat(c) for c in completions],
        solution=[r"\frac{63}{400}"] * len(completions),
    )


def test_length_same_lengths_give_zero():
    assert length_values([r"\boxed{\frac{63}{400}}", r"\boxed{\frac{64}{400}}"]) == [0.0, 0.0]


def test_length_mixed_correctness_open_r1_case():
    short_right, long_right, short_wrong, long_wrong = length_values(
        [
            r"\boxed{\frac{63}{400}}",
            r"\boxed{\frac{63}{400}}  " + "x" * 10,
            r"\boxed{\frac{64}{400}}",
            r"\boxed{\frac{64}{400}}  " + "x" * 10,
        ]
    )
    assert short_right == pytest.approx(0.5)
    assert short_right > long_right and short_wrong > long_wrong
    assert short_wrong <= 0.0 and long_wrong <= 0.0
    assert short_wrong > long_right >= long_wrong


def test_length_unparseable_gold_is_none_where_open_r1_treats_it_as_correct():
    reward = rewardlab.get("math-length")
    got = reward(
        prompts=["p", "p"],
        completions=[r"\boxed{answer}", r"\boxed{answer} " + "x" * 10],
        solution=["unparseable_latex"] * 2,
    )
    assert got == [None, None]  # open-r1 gives 0.5 and less: a reward for rows nobody can check


# ------------------------------------------------------------------------------------------------ format, tags, steps

FORMAT_CASES = [
    pytest.param("<think>\nSome reasoning\n</think>\n<answer>\nThe answer\n</answer>", 1.0, id="correct"),
    pytest.param("<think>Only thinking</think>", 0.0, id="only-thinking"),
    pytest.param("<answer>Only answer</answer>", 0.0, id="only-answer"),
    pytest.param("No tags at all", 0.0, id="no-tags"),
    pytest.param("<think>Missing closing</think><answer>Missing closing", 0.0, id="missing-closing"),
    pytest.param("<think>Wrong order</answer><answer>Wrong order</think>", 0.0, id="wrong-order"),
    pytest.param(
        "<think>\nI will count each distinct object in the image:\n1. Purple scooter\n2. Red bicycle\n"
        "3. Green motorcycle\n\nThere are 3 distinct objects in total.\n</think>\n<answer>\n3\n</answer>",
        1.0,
        id="multiline",
    ),
]


@pytest.mark.parametrize(("completion", "expected"), FORMAT_CASES)
def test_format_open_r1_cases(completion, expected):
    assert rewardlab.get("math-format")(completions=[chat(completion)]) == [expected]


TAG_CASES = [
    pytest.param("<think>\nSome reasoning\n</think>\n<answer>\nThe answer\n</answer>", 1.0, id="all"),
    pytest.param("Some reasoning\n</think>\n<answer>\nThe answer\n</answer>", 0.75, id="no-think-open"),
    pytest.param("<think>\nSome reasoning\n<answer>\nThe answer\n</answer>", 0.75, id="no-think-close"),
    pytest.param("<think>\nSome reasoning\n</think>\nThe answer\n</answer>", 0.75, id="no-answer-open"),
    pytest.param("<think>\nSome reasoning\n</think>\n<answer>\nThe answer", 0.75, id="no-answer-close"),
    pytest.param("Some reasoning\nThe answer", 0.0, id="none"),
]


@pytest.mark.parametrize(("completion", "expected"), TAG_CASES)
def test_tag_count_open_r1_cases(completion, expected):
    assert rewardlab.get("math-tags")(completions=[chat(completion)]) == [expected]


STEPS_CASES = [
    pytest.param("Step 1: First step\nStep 2: Second step\nStep 3: Third step", 1.0, id="three-steps"),
    pytest.param("First, we do this.\nSecond, we do that.\nFinally, we conclude.", 1.0, id="ordinal-words"),
    pytest.param("Step 1: Only step", 1 / 3, id="one-step"),
    pytest.param("First, we do this.\nFinally, we conclude.", 2 / 3, id="two-steps"),
    pytest.param("Just plain text without any clear steps", 0.0, id="none"),
]


@pytest.mark.parametrize(("completion", "expected"), STEPS_CASES)
def test_reasoning_steps_open_r1_cases(completion, expected):
    assert rewardlab.get("math-steps")(completions=[chat(completion)]) == [pytest.approx(expected)]


# ------------------------------------------------------------------------------------------------ repetition

REPETITION_CASES = [  # open-r1's word-level cases: (text, n, max_penalty, expected)
    pytest.param("this is a test sentence", 2, -1.0, 0.0, id="no-repetition"),
    pytest.param("this this this this this", 2, -1.0, -0.75, id="full-repetition"),
    pytest.param("this is a this is a test", 2, -1.0, -1 / 3, id="partial-repetition"),
    pytest.param("this is a test", 3, -0.5, 0.0, id="multiple-1"),
    pytest.param("test test test test", 3, -0.5, -0.25, id="multiple-2"),
    pytest.param("", 2, -1.0, -1.0, id="empty-gets-the-worst-value-where-open-r1-gives-the-best"),
    pytest.param("this is a this is a test", 3, -2.0, -0.4, id="different-n"),
    pytest.param("word", 3, -1.0, 0.0, id="one-word"),
    pytest.param("two words", 3, -1.0, 0.0, id="two-words"),
    pytest.param("three different words", 3, -1.0, 0.0, id="three-words"),
    pytest.param("word word word word", 3, -1.0, -0.5, id="three-word-repetition"),
    pytest.param("one two one two", 3, -1.0, 0.0, id="four-words"),
    pytest.param("A B C A B", 3, -0.5, 0.0, id="five-words"),
    pytest.param("A B C A B C", 3, -1.0, -0.25, id="six-words"),
    pytest.param("A B C A B C E F G A B C A B C", 3, -1.0, -0.3846, id="long-with-repetition"),
    pytest.param("A B C D E F G H I J K L", 3, -1.0, 0.0, id="long-without-repetition"),
    pytest.param("that that that that that", 2, -1.0, -0.75, id="language-en"),
]


@pytest.mark.parametrize(("text", "n", "max_penalty", "expected"), REPETITION_CASES)
def test_repetition_open_r1_cases(text, n, max_penalty, expected):
    reward = rewardlab.get("math-repetition", ngram_size=n, max_penalty=max_penalty)
    assert reward(completions=[chat(text)]) == [pytest.approx(expected, abs=1e-4)]


def test_repetition_mixed_case_open_r1_case():
    reward = rewardlab.get("math-repetition", ngram_size=2)
    first, second = reward(completions=[chat("This is A Test"), chat("this IS a test")])
    assert first == second


def test_repetition_trl_case_extra_columns_are_ignored():
    reward = rewardlab.get("math-repetition", ngram_size=2, unit="tokens")
    assert reward(prompts=["x"], completions=[chat("5 5 5 5 5")], completion_ids=[[5] * 5]) == [-0.75]


@pytest.mark.parametrize("max_penalty", [1.0, 1.5, 0.5])
def test_repetition_positive_max_penalty_raises_a_value_error_as_the_peers_do(max_penalty):
    with pytest.raises(ValueError, match="max_penalty"):
        rewardlab.get("math-repetition", ngram_size=2, max_penalty=max_penalty)


# ------------------------------------------------------------------------------------------------ overlong


@pytest.mark.parametrize(("length", "expected"), [(50, 0.0), (110, -1.0), (90, -0.5)])
def test_soft_overlong_punishment_peer_cases(length, expected):
    reward = rewardlab.get("overlong", max_length=100, cache=20, unit="tokens")
    assert reward(completions=["x"], completion_ids=[[1] * length]) == [pytest.approx(expected)]
