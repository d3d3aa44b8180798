"""What "correct" means when evalkit scores rows with --reward: the reward's own rule, or an explicit threshold."""

import json

import pytest
from click.testing import CliRunner
from helpers import write_jsonl

import rewardlab
from eval.cli import main
from rewardlab.reward import Score

RIGHT = "<think>\n2+2\n</think>\n<answer>\n$\\boxed{4}$\n</answer>"
WRONG = "<think>\n2+3\n</think>\n<answer>\n$\\boxed{5}$\n</answer>"


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def math_rows(completions):
    return [
        {"prompt_id": f"p{i // 2}", "sample": i % 2, "prompt": "2+2?", "completion": c, "solution": "4"}
        for i, c in enumerate(completions)
    ]


def test_well_formatted_wrong_answers_are_not_correct_under_the_math_preset(tmp_path):
    path = write_jsonl(tmp_path / "run.jsonl", math_rows([WRONG, WRONG, RIGHT, WRONG]))
    result = invoke("passk", path, "--reward", "math", "--k", "1", "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    (pass1,) = payload["pass_at_k"]
    assert pass1["value"] == 0.25  # one right answer in four; the 0-3 sum of the wrong ones is 2
    assert payload["scoring"]["correct"] == "math-accuracy = 1"
    assert payload["scoring"]["threshold"] is None


def test_accuracy_with_the_math_preset_counts_right_answers_only(tmp_path):
    path = write_jsonl(tmp_path / "run.jsonl", math_rows([WRONG, WRONG, RIGHT, RIGHT]))
    result = invoke("accuracy", path, "--reward", "math")
    assert result.exit_code == 0, result.output
    assert "--reward math: a row is correct when math-accuracy = 1" in result.output
    assert "accuracy    0.5000" in result.output


def test_a_reward_without_a_rule_needs_an_explicit_threshold(tmp_path):
    path = write_jsonl(tmp_path / "run.jsonl", math_rows([WRONG, RIGHT]))
    result = invoke("passk", path, "--reward", "math-format", "--k", "1")
    assert result.exit_code == 2
    assert "reward 'math-format' has no rule for a correct row; give --threshold T" in result.output
    assert "Traceback" not in result.output


def test_an_explicit_threshold_is_used_and_shown(tmp_path):
    path = write_jsonl(tmp_path / "run.jsonl", math_rows([WRONG, RIGHT]))
    result = invoke("passk", path, "--reward", "math", "--threshold", "1.25", "--k", "1")
    assert result.exit_code == 0, result.output
    assert "a row is correct when math >= 1.25 (--threshold)" in result.output
    assert "pass@1   0.5000" in result.output


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_a_threshold_that_is_not_finite_is_refused(tmp_path, value):
    path = write_jsonl(tmp_path / "run.jsonl", math_rows([WRONG, RIGHT]))
    result = invoke("passk", path, "--reward", "math", "--threshold", value)
    assert result.exit_code == 2
    assert "Invalid value for '--threshold': must be a finite number" in result.output


def test_a_threshold_without_a_reward_is_refused(tmp_path):
    path = write_jsonl(tmp_path / "run.jsonl", [{"prompt_id": "p", "completion": "x", "correct": True}])
    result = invoke("passk", path, "--threshold", "0.5", "--k", "1")
    assert result.exit_code == 2
    assert "--weights, -p and --threshold need --reward" in result.output


@pytest.mark.parametrize(
    ("spec", "score", "expected"),
    [
        pytest.param("math-accuracy", Score(1.0), True, id="math-accuracy-right"),
        pytest.param("math-accuracy", Score(0.0), False, id="math-accuracy-wrong"),
        pytest.param("math-accuracy", Score(None), None, id="math-accuracy-no-gold"),
        pytest.param(
            "math", Score(0.5, {"math-accuracy": 0.0, "math-format": 1.0, "math-tags": 1.0}), False, id="math-preset"
        ),
        pytest.param(
            "math", Score(1.5, {"math-accuracy": 1.0, "math-format": 1.0, "math-tags": 1.0}), True, id="math-right"
        ),
        pytest.param("math-cosine", Score(0.7, {"correct": 1.0, "length": 40.0}), True, id="math-cosine"),
        pytest.param("code", Score(0.25, {"pass_rate": 0.5}), False, id="code-some-tests-fail"),
        pytest.param("code", Score(1.0, {"pass_rate": 1.0}), True, id="code-every-test-passes"),
        pytest.param("engagement", Score(0.9), None, id="engagement-has-no-rule"),
    ],
)
def test_each_reward_says_what_correct_means(spec, score, expected):
    assert rewardlab.build(spec).correct(score) is expected


def test_a_weighted_sum_is_correct_when_its_judging_part_is():
    reward = rewardlab.build("math-accuracy,math-format", weights=[1.0, 0.5])
    assert reward.correct_rule() == "math-accuracy = 1"
    assert reward.correct(Score(0.5, {"math-accuracy": 0.0, "math-format": 1.0})) is False
    assert reward.correct(Score(1.0, {"math-accuracy": 1.0, "math-format": 0.0})) is True


def test_a_user_reward_class_can_say_what_correct_means(tmp_path):
    module = tmp_path / "judged.py"
    module.write_text(
        "from rewardlab.reward import Reward, Score\n"
        "class Judged(Reward):\n"
        "    correct_when = 'exact'\n"
        "    def score(self, prompts, completions, **columns):\n"
        "        return [Score(0.5 + 0.5 * (c == '4'), {'exact': float(c == '4')}) for c in completions]\n"
    )
    path = write_jsonl(
        tmp_path / "run.jsonl", [{"prompt_id": "p", "sample": i, "completion": c} for i, c in enumerate("45")]
    )
    result = invoke("passk", path, "--reward", f"{module}:Judged", "--k", "1")
    assert result.exit_code == 0, result.output
    assert "a row is correct when Judged/exact = 1" in result.output
    assert "pass@1   0.5000" in result.output
