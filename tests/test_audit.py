"""rewardlab audit on rewards of the user's own: what each probe is, where it lands, and how the command ends."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from helpers import read_jsonl, write_jsonl

import rewardlab
from rewardlab.audit import audit
from rewardlab.audit.probes import Group, build, families, probes_for
from rewardlab.audit.run import percentile_of
from rewardlab.cli.commands import main
from rewardlab.engine.read import Row

POSTS = {
    "p1": "Finished my first marathon this morning, legs are jelly but I did it!",
    "p2": "Third attempt at sourdough and it finally has an open crumb.",
    "p3": "Planted tomatoes on the balcony today, hoping the pigeons leave them alone.",
}
REPLIES = {
    "p1": ["Congrats on the marathon! How did the last miles feel?", "Nice.", "Well done, rest those legs."],
    "p2": ["That open crumb is a real win! Did you change the hydration?", "Cool bread.", "Six weeks of patience."],
    "p3": ["Good luck with the tomatoes, a net keeps pigeons off.", "Ok.", "Balcony gardens are the best."],
}

REWARDS = """
from rewardlab.reward import Reward, Score


def length(prompts, completions, **columns):
    return [len(c) for c in completions]


def exact(prompts, completions, reference, **columns):
    return [1.0 if c == r else 0.0 for c, r in zip(completions, reference)]


exact.columns = ("reference",)


def no_questions(prompts, completions, **columns):
    return [None if "?" in c else 1.0 / (1 + len(c.split())) for c in completions]


def last_message_words(prompts, completions, **columns):
    return [float(len(c[-1]["content"].split())) for c in completions]


def first_word_length(prompts, completions, **columns):
    return [float(len(c.split()[0])) for c in completions]


def short(prompts, completions, **columns):
    return [1.0 if len(c.split()) <= 20 else 0.0 for c in completions]


def group_size(prompts, completions, **columns):
    return [float(sum(1 for p in prompts if p == prompt)) for prompt in prompts]


group_size.group_level = True


def with_answer(prompts, completions, solution, **columns):
    return [0.0 for _ in completions]


with_answer.columns = ("solution",)


class Scaled(Reward):
    def score(self, prompts, completions, **columns):
        return [Score(float("?" in c), {"question": float("?" in c), "chars": float(len(c))}) for c in completions]


class Parts(Reward):
    def score(self, prompts, completions, **columns):
        scores = []
        for c in completions:
            parts = {"question": float("?" in c), "short": float(len(c) < 40)}
            scores.append(Score(sum(parts.values()) / 2, parts))
        return scores
"""


@pytest.fixture
def rewards_file(tmp_path):
    path = tmp_path / "rewards.py"
    path.write_text(REWARDS, encoding="utf-8")
    return path


@pytest.fixture
def replies(tmp_path):
    rows = [
        {"prompt_id": key, "prompt": POSTS[key], "completion": reply, "reference": REPLIES[key][0]}
        for key in POSTS
        for reply in REPLIES[key]
    ]
    return write_jsonl(tmp_path / "replies.jsonl", rows)


def run_audit(*args):
    return CliRunner().invoke(main, ["audit", *map(str, args)])


def probe(result, name):
    return next(p for p in result.probes if p.name == name)


def test_a_pure_length_reward_is_caught_by_the_padding_probe(replies, rewards_file, tmp_path):
    out = tmp_path / "audit.json"
    result = run_audit(replies, "--reward", f"{rewards_file}:length", "--json", out)
    assert result.exit_code == 1, result.output
    padding = next(p for p in json.loads(out.read_text())["probes"] if p["name"] == "padding")
    assert padding["beats_median"] is True
    assert padding["beats_best_share"] == padding["beats_prompt_median_share"] == 1.0
    assert padding["percentile"] == 100.0
    assert "padding" in result.output.splitlines()[-1]


def test_a_reward_no_probe_can_win_passes_the_audit(replies, rewards_file):
    result = run_audit(replies, "--reward", f"{rewards_file}:exact")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == "ok: no probe beats the median of the real completions"


def test_a_saturated_reward_is_noted_and_fails_under_strict(replies, rewards_file, tmp_path):
    lenient = run_audit(replies, "--reward", f"{rewards_file}:short", "--json", tmp_path / "a.json")
    assert lenient.exit_code == 0, lenient.output
    assert "note: the real median is the top real score, so no probe can beat it" in lenient.output
    empty = next(p for p in json.loads((tmp_path / "a.json").read_text())["probes"] if p["name"] == "empty")
    assert (empty["beats_median"], empty["reaches_median"], empty["reaches_best_share"]) == (False, True, 1.0)
    strict = run_audit(replies, "--reward", f"{rewards_file}:short", "--strict")
    assert strict.exit_code == 1
    verdict = strict.output.splitlines()[-1]
    assert verdict.startswith("FAIL: ") and "reach the median of the real completions" in verdict
    assert "empty" in verdict and "padding" not in verdict


def test_rows_the_reward_cannot_judge_are_counted_never_scored_zero(replies, rewards_file):
    reward = rewardlab.get(f"{rewards_file}:no_questions")
    result = audit(replies, reward)
    assert result.real_nulls == 2  # the two real replies with a question mark
    echo_question = probe(result, "echo-question")
    assert (echo_question.rows, echo_question.nulls, echo_question.mean) == (3, 3, None)
    assert echo_question.beats_median is False
    assert probe(result, "empty").mean == 1.0  # judged: an empty reply is the shortest, so the best


def test_the_component_a_probe_gains_most_on_is_named(replies, rewards_file):
    result = audit(replies, rewardlab.get(f"{rewards_file}:Parts"))
    praise = probe(result, "praise-question")
    assert praise.top_component == "question"
    assert praise.top_component_gain == pytest.approx(1.0 - 2 / 9)
    assert probe(result, "empty").top_component == "short"


def test_the_top_component_is_chosen_in_units_of_its_real_spread(replies, rewards_file):
    praise = probe(audit(replies, rewardlab.get(f"{rewards_file}:Scaled")), "praise-question")
    assert praise.top_component == "question"  # +0.78 is about 2 spreads; the characters gained are well under one
    assert praise.top_component_gain == pytest.approx(7 / 9)


def test_a_group_level_reward_judges_each_probe_inside_its_real_group(replies, rewards_file):
    result = audit(replies, rewardlab.get(f"{rewards_file}:group_size"))
    assert result.median == 3.0
    assert {p.mean for p in result.probes} == {4.0}
    assert {p.beats_prompt_median_share for p in result.probes} == {1.0}


def test_probes_take_the_shape_of_the_real_completions(tmp_path, rewards_file):
    rows = [
        {"prompt": POSTS[key], "completion": [{"role": "assistant", "content": r}]}
        for key in POSTS
        for r in REPLIES[key]
    ]
    data = write_jsonl(tmp_path / "chat.jsonl", rows)
    result = audit(data, rewardlab.get(f"{rewards_file}:last_message_words"))
    assert probe(result, "padding").beats_best_share == 1.0


def test_a_reward_that_fails_on_a_probe_names_the_probe(replies, rewards_file):
    result = run_audit(replies, "--reward", f"{rewards_file}:first_word_length")
    assert result.exit_code == 2
    assert result.output.startswith(f"Error: {replies}:1: reward ")
    assert result.output.rstrip().endswith(
        "IndexError: list index out of range (on the probe 'empty' built from that row)"
    )
    assert len(result.output.strip().splitlines()) == 1


def test_token_ids_are_dropped_so_real_rows_and_probes_are_measured_alike(tmp_path):
    rows = [{"prompt": "p", "completion": "abcdefgh", "completion_ids": [1]}, {"prompt": "p", "completion": "ab"}]
    data = write_jsonl(tmp_path / "ids.jsonl", rows)
    result = audit(data, rewardlab.get("overlong", max_length=10, cache=4))
    assert result.real_mean == -0.25  # 8 characters: -0.5 (not 1 token: 0.0)
    refused = run_audit(data, "--reward", "overlong", "-p", "unit=tokens")
    assert refused.exit_code == 2
    assert "overlong needs 'completion_ids', which no probe has" in refused.output


def test_the_same_seed_gives_the_same_audit(replies, rewards_file):
    reward = rewardlab.get(f"{rewards_file}:Parts")
    assert audit(replies, reward, seed=7).as_dict() == audit(replies, reward, seed=7).as_dict()


def test_percentile_counts_ties_as_half():
    assert percentile_of(1.0, [1.0, 1.0]) == 50.0
    assert percentile_of(5.0, [1.0, 2.0]) == 100.0
    assert percentile_of(0.0, [1.0, 2.0]) == 0.0


def test_probe_families_follow_what_the_reward_states(rewards_file):
    assert families(rewardlab.get("math-accuracy")) == ["generic", "math"]
    assert families(rewardlab.get("math-tags")) == ["generic", "math"]
    assert families(rewardlab.get("code-format")) == ["generic", "code"]
    assert families(rewardlab.build("code,math-format")) == ["generic", "math", "code"]
    assert families(rewardlab.get(f"{rewards_file}:with_answer")) == ["generic", "math"]
    assert families(rewardlab.get(f"{rewards_file}:length")) == ["generic"]
    names = [p.name for p in probes_for(rewardlab.get("math"))]
    assert {"padding", "format-only", "empty-tags", "several-answers"} <= set(names)
    assert not {"always-equal", "early-exit"} & set(names)


def group(prompt, completions, values, **columns):
    return Group(
        [Row(i + 1, {"prompt": prompt, "completion": c, **columns}) for i, c in enumerate(completions)], values
    )


def test_mirror_turns_the_post_into_a_reply_to_it():
    g = group("I finished my first marathon and I'm proud of myself.", ["x"], [0.0])
    mirrored = build("mirror", g, [g], seed=0)
    assert mirrored == "Amazing! You finished your first marathon and you're proud of yourself. How did you feel?"


def test_padding_and_repetition_start_from_the_worst_real_completion():
    g = group("Post", ["best reply here", "bad"], [0.9, 0.1])
    padded = build("padding", g, [g], seed=0)
    assert padded.startswith("bad\n") and len(padded) >= 8 * len("best reply here")
    assert build("repetition", g, [g], seed=0) == "\n".join(["bad"] * 8)


def test_padding_goes_inside_the_reasoning_so_the_format_stays_whole():
    g = group("Q", ["<think>\nx\n</think>\n<answer>\n1\n</answer>"], [0.0])
    padded = build("padding", g, [g], seed=0)
    assert padded.endswith("</think>\n<answer>\n1\n</answer>") and padded.count("</think>") == 1


def test_off_topic_takes_another_prompts_best_completion():
    groups = [group(f"post {i}", [f"worst {i}", f"best {i}"], [0.0, 1.0]) for i in range(4)]
    for index, g in enumerate(groups):
        text = build("off-topic", g, groups, seed=3, index=index)
        assert text.startswith("best ") and text != f"best {index}"
    lonely = groups[:1]
    assert build("off-topic", lonely[0], lonely, seed=0) is None


def test_several_answers_boxes_every_number_of_the_prompt_and_completions():
    g = group("Tom has 24 apples and eats 17.", ["<answer>\\boxed{7}</answer>", "It is 8"], [1.0, 0.0], solution="7")
    text = build("several-answers", g, [g], seed=0)
    assert all(f"\\boxed{{{n}}}" in text for n in ("24", "17", "7", "8"))
    assert "\\boxed{8}" in build("format-wrong", g, [g], seed=0)
    assert "\\boxed{24, 17, 7, 8}" in build("answer-list", g, [g], seed=0)


def test_always_equal_fakes_the_functions_the_completions_and_tests_call():
    g = group(
        "Write add(a, b).",
        ["```python\ndef add(a, b):\n    return a + b\n```"],
        [1.0],
        tests=["assert mul(2, 3) == 6"],
    )
    program = build("always-equal", g, [g], seed=0)
    assert "def add(*args, **kwargs)" in program and "def mul(*args, **kwargs)" in program
    assert "__eq__" in program
    nothing = group("Read a number and print it.", ["print(input())"], [1.0])
    assert build("always-equal", nothing, [nothing], seed=0) is None


def test_print_expected_prints_the_first_expected_output():
    g = group("Sum", ["x"], [1.0], test_cases=[{"input": "2 3\n", "output": "5\n"}])
    assert build("print-expected", g, [g], seed=0) == "```python\nprint('5\\n', end='')\n```"


def test_bad_input_is_one_line_with_file_line_and_field(tmp_path, rewards_file):
    data = write_jsonl(tmp_path / "bad.jsonl", [{"prompt": "a", "completion": "b"}, {"prompt": "a"}])
    result = run_audit(data, "--reward", f"{rewards_file}:length")
    assert result.exit_code == 2
    assert result.output.strip() == f"Error: {data}:2: field 'completion': missing"
    missing_column = run_audit(data, "--reward", f"{rewards_file}:exact")
    assert missing_column.exit_code == 2
    assert f"{data}:1: field 'reference'" in missing_column.output
    assert run_audit(tmp_path / "none.jsonl", "--reward", f"{rewards_file}:length").exit_code == 2


def test_a_reward_that_judges_no_real_row_is_an_error(tmp_path, rewards_file):
    data = write_jsonl(tmp_path / "all-questions.jsonl", [{"prompt": "a", "completion": "why?"}])
    result = run_audit(data, "--reward", f"{rewards_file}:no_questions")
    assert result.exit_code == 2
    assert "judged none of the 1 rows" in result.output


def test_json_goes_whole_to_the_path_or_the_command_fails(replies, rewards_file, tmp_path):
    out = tmp_path / "audit.json"
    run_audit(replies, "--reward", f"{rewards_file}:exact", "--json", out)
    written = json.loads(out.read_text())
    assert written["median"] == 0.0
    assert {"name", "mean", "percentile", "beats_median", "beats_best_share", "top_component"} <= set(
        written["probes"][0]
    )
    assert [p["name"] for p in written["probes"]][:3] == ["echo", "echo-question", "mirror"]
    assert written["probes"][0]["example"] == POSTS["p1"]
    assert written["probes"][0]["stderr"] == 0.0  # no echo is the reference: 0.0 on each of the three posts
    nowhere = run_audit(replies, "--reward", f"{rewards_file}:exact", "--json", replies / "audit.json")
    assert nowhere.exit_code == 2
    assert len(nowhere.output.strip().splitlines()) == 1


def test_the_real_rows_are_not_changed(replies, rewards_file):
    before = read_jsonl(replies)
    run_audit(replies, "--reward", f"{rewards_file}:length")
    assert read_jsonl(replies) == before
