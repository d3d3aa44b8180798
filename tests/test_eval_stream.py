"""evalkit reads big runs once, grouped by prompt (or by row, for accuracy) in bounded memory, with progress."""

import io
import json
import tempfile

import pytest
from click.testing import CliRunner
from helpers import write_jsonl

from eval.aggregate import DISTINCT_ORDERS, read_run, spool_run, summarize_units
from eval.cli import main
from eval.distinct import distinct_counts
from eval.progress import Progress
from rewardlab.metrics.selfbleu import sentence_self_bleu
from rewardlab.metrics.tokens import tokenize


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def fixture_rows(fixtures_dir, name):
    text = (fixtures_dir / "runs" / name / "generations.jsonl").read_text()
    return [json.loads(line) for line in text.splitlines()]


def metrics(out):
    return json.loads((out / "report.json").read_text())["metrics"]


def test_runs_spooled_in_many_buckets_give_the_report_of_runs_held_whole(fixtures_dir, tmp_path, monkeypatch):
    runs = fixtures_dir / "runs"
    whole = invoke("compare", "baseline", "grpo", "--runs-dir", runs, "--out", tmp_path / "whole")
    assert whole.exit_code == 0, whole.output
    spool = tmp_path / "spool"
    spool.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spool))
    monkeypatch.setattr("eval.buckets.BUCKET_BYTES", 4096)  # the 90 kB fixtures spread over about 20 buckets
    spooled = invoke("compare", "baseline", "grpo", "--runs-dir", runs, "--out", tmp_path / "spooled")
    assert spooled.exit_code == 0, spooled.output
    assert metrics(tmp_path / "spooled") == metrics(tmp_path / "whole")
    assert spooled.output.splitlines()[:-1] == whole.output.splitlines()[:-1]  # all but "wrote <paths>"
    assert list(spool.iterdir()) == []  # the spooled buckets are removed


def test_a_run_not_sorted_by_prompt_gives_the_same_numbers(fixtures_dir, tmp_path, monkeypatch):
    monkeypatch.setattr("eval.buckets.BUCKET_BYTES", 4096)
    rows = sorted(fixture_rows(fixtures_dir, "grpo"), key=lambda row: row["sample"])  # prompts interleaved
    shuffled = write_jsonl(tmp_path / "runs" / "grpo" / "generations.jsonl", rows)
    sorted_run = fixtures_dir / "runs" / "grpo" / "generations.jsonl"
    first = invoke("passk", sorted_run, "--json")
    second = invoke("passk", shuffled, "--json")
    assert second.exit_code == 0, second.output
    assert json.loads(second.output)["pass_at_k"] == json.loads(first.output)["pass_at_k"]


def test_an_error_in_a_spooled_run_names_the_line_and_leaves_no_files(tmp_path, monkeypatch):
    spool = tmp_path / "spool"
    spool.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spool))
    monkeypatch.setattr("eval.buckets.BUCKET_BYTES", 512)
    rows = [{"prompt_id": f"p{i % 50}", "sample": i // 50, "completion": "x", "correct": True} for i in range(400)]
    rows[300]["sample"] = rows[250]["sample"]
    path = write_jsonl(tmp_path / "r.jsonl", rows)
    result = invoke("passk", path, "--k", "1")
    assert result.exit_code == 2
    assert f"{path}:301: field 'sample': 5 repeats for prompt 'p0' (also line 251)" in result.output
    assert list(spool.iterdir()) == []


def test_compare_shows_progress_on_stderr_every_n_rows(fixtures_dir, tmp_path, monkeypatch):
    monkeypatch.setattr("eval.aggregate.PROGRESS_EVERY", 100)
    result = invoke("compare", "baseline", "grpo", "--runs-dir", fixtures_dir / "runs", "--out", tmp_path / "o")
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    assert lines[:4] == [
        "reading baseline: 100 rows",
        "reading baseline: 200 rows",
        "reading grpo: 100 rows",
        "reading grpo: 200 rows",
    ]
    assert "summarising grpo: 200/200 rows (100%)" in lines
    assert "reading" not in result.stdout


def test_progress_on_a_terminal_is_one_bar_redrawn_and_cleared():
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    out = Terminal()
    with Progress("summarising base", total=4, every=1, stream=out) as progress:
        progress.update(2)
    assert out.getvalue() == "\rsummarising base [############............] 2/4 rows (50%)\r\x1b[K"


def test_accuracy_reads_the_run_once_with_progress_on_stderr(fixtures_dir, monkeypatch):
    monkeypatch.setattr("eval.aggregate.PROGRESS_EVERY", 100)
    result = invoke("accuracy", fixtures_dir / "runs" / "grpo" / "generations.jsonl")
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    assert lines[:2] == ["reading grpo: 100 rows", "reading grpo: 200 rows"]
    assert "summarising grpo: 200/200 rows (100%)" in lines
    assert "reading" not in result.stdout


def test_accuracy_and_compare_give_a_run_the_same_mean_reward(fixtures_dir, tmp_path):
    runs = fixtures_dir / "runs"
    accuracy = invoke("accuracy", runs / "baseline" / "generations.jsonl", "--json")
    compare = invoke("compare", "baseline", "grpo", "--runs-dir", runs, "--out", tmp_path)
    assert compare.exit_code == 0, compare.output
    (reward,) = [m for m in metrics(tmp_path) if m["name"] == "mean reward"]
    assert json.loads(accuracy.output)["mean_reward"] == reward["runs"]["baseline"]


def mixed_rows():
    """Prompt p0 with two samples, then rows without prompt_id, rewards 0.1 to 0.6."""
    rows = [{"prompt_id": "p0", "sample": i, "completion": "x", "correct": i == 0} for i in range(2)]
    rows += [{"completion": "y", "correct": c} for c in (True, True, False, True)]
    for i, row in enumerate(rows):
        row["reward"] = (i + 1) / 10
    return rows


def test_accuracy_counts_rows_when_some_row_has_no_prompt_id(tmp_path):
    result = invoke("accuracy", write_jsonl(tmp_path / "r.jsonl", mixed_rows()), "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert (payload["rows"], payload["units"], payload["accuracy"]["units"]) == (6, "rows", 6)
    assert payload["accuracy"]["value"] == 4 / 6
    assert payload["mean_reward"]["value"] == pytest.approx(0.35)


def test_accuracy_of_rows_in_many_buckets_is_that_of_rows_held_whole(tmp_path, monkeypatch):
    spool = tmp_path / "spool"
    spool.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spool))
    rows = [{**row, "prompt": f"question {i % 7}"} for i, row in enumerate(mixed_rows() * 40)]
    for i, row in enumerate(rows):
        row["sample"] = i
    path = write_jsonl(tmp_path / "r.jsonl", rows)
    whole = invoke("accuracy", path, "--json")
    monkeypatch.setattr("eval.buckets.BUCKET_BYTES", 512)
    spooled = invoke("accuracy", path, "--json")
    assert spooled.exit_code == 0, spooled.output
    assert spooled.output == whole.output
    assert json.loads(spooled.output)["units"] == "rows"
    assert list(spool.iterdir()) == []


def test_accuracy_without_a_reward_on_some_row_reports_accuracy_only(tmp_path):
    rows = mixed_rows()
    del rows[3]["reward"]
    result = invoke("accuracy", write_jsonl(tmp_path / "r.jsonl", rows), "--json")
    assert result.exit_code == 0, result.output
    assert "mean_reward" not in json.loads(result.output)


def test_accuracy_names_the_row_without_correct_in_a_spooled_run(tmp_path, monkeypatch):
    monkeypatch.setattr("eval.buckets.BUCKET_BYTES", 512)
    rows = [dict(row) for row in mixed_rows() * 40]
    del rows[200]["correct"]
    path = write_jsonl(tmp_path / "r.jsonl", rows)
    result = invoke("accuracy", path)
    assert result.exit_code == 2
    assert (
        result.output == f"Error: {path}:201: field 'correct': missing; give --reward SPEC to score rows without it\n"
    )


def test_accuracy_takes_repeated_samples_and_prompt_texts_that_pass_at_k_refuses(tmp_path):
    rows = [
        {"prompt_id": "p", "sample": 0, "prompt": text, "completion": "x", "correct": c}
        for text, c in [("A", True), ("B", False)]
    ]
    path = write_jsonl(tmp_path / "r.jsonl", rows)
    assert invoke("passk", path, "--k", "1").exit_code == 2
    result = invoke("accuracy", path, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["accuracy"]["value"] == 0.5


def test_units_of_a_run_follow_the_file_order_per_row_or_per_prompt(tmp_path, monkeypatch):
    monkeypatch.setattr("eval.buckets.BUCKET_BYTES", 64)
    path = write_jsonl(tmp_path / "r.jsonl", mixed_rows())
    per_row = summarize_units(spool_run(path, "r", checked=False))
    assert (per_row.rows, per_row.prompts) == (6, None)
    assert per_row.correct.tolist() == [1.0, 0.0, 1.0, 1.0, 0.0, 1.0]
    assert per_row.reward.tolist() == [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]
    rows = [{**row, "prompt_id": row.get("prompt_id", f"p{i % 2 + 1}")} for i, row in enumerate(mixed_rows())]
    per_prompt = summarize_units(spool_run(write_jsonl(tmp_path / "p.jsonl", rows), "p", checked=False))
    assert (per_prompt.rows, per_prompt.prompts) == (6, 3)
    assert per_prompt.correct.tolist() == [0.5, 0.5, 1.0]
    assert per_prompt.reward.tolist() == [(0.1 + 0.2) / 2, (0.3 + 0.5) / 2, (0.4 + 0.6) / 2]


#: Completions by prompt: empty ones, one sample, Chinese, punctuation, repeats, texts shorter than a bigram.
PROMPT_TEXTS = {
    "empty": ["", "a", ""],
    "one sample": ["the cat sat . the cat sat ."],
    "chinese": ["你好，世界！", "你好 世界", "Hello, world!!"],
    "across texts": ["b c", "b c"],  # joined, they would add the bigram "c b"
    "like another prompt": ["the cat", "sat"],
    "punctuation": ["x - y", "1.5-2 , x", "a-\nb <skipped> c"],
    "nothing": [""],
}


def sample_major_rows(texts_by_prompt):
    rows = [
        {"prompt_id": prompt, "sample": sample, "completion": text, "correct": True}
        for prompt, texts in texts_by_prompt.items()
        for sample, text in enumerate(texts)
    ]
    return sorted(rows, key=lambda row: row["sample"])


@pytest.mark.parametrize("batch", [1, 2, 4, 8192])
def test_each_prompts_distinct_n_is_that_of_its_samples_tokens_however_texts_are_batched(tmp_path, monkeypatch, batch):
    monkeypatch.setattr("eval.aggregate.SELF_BLEU_TEXTS", batch)
    run = read_run(write_jsonl(tmp_path / "r.jsonl", sample_major_rows(PROMPT_TEXTS)), "r", texts=True)
    assert run.ids == list(PROMPT_TEXTS)
    for n in DISTINCT_ORDERS:
        counts = [distinct_counts(tokenize(PROMPT_TEXTS[prompt]), n) for prompt in run.ids]
        assert run.distinct[n].tolist() == [unique / total if total else 0.0 for unique, total in counts]


@pytest.mark.parametrize("batch", [1, 3, 8192])
def test_each_prompts_self_bleu_is_the_mean_over_its_samples_however_texts_are_batched(tmp_path, monkeypatch, batch):
    monkeypatch.setattr("eval.aggregate.SELF_BLEU_TEXTS", batch)
    texts_by_prompt = {prompt: texts for prompt, texts in PROMPT_TEXTS.items() if len(texts) >= 2}
    run = read_run(write_jsonl(tmp_path / "r.jsonl", sample_major_rows(texts_by_prompt)), "r", texts=True)
    expected = [sum(sentence_self_bleu(texts)) / len(texts) for texts in texts_by_prompt.values()]
    assert run.self_bleu.tolist() == expected


def test_prompt_ids_come_back_whole_and_in_order_of_first_line_from_many_buckets(tmp_path, monkeypatch):
    monkeypatch.setattr("eval.aggregate.bucket_count", lambda path: 7)
    ids = ["题 1", "q 2", "😀", "7", "", "a\u0000b", "é" * 300, *(f"p{i}" for i in range(40))]
    rows = [{"prompt_id": prompt, "sample": s, "completion": "x", "correct": True} for s in (1, 0) for prompt in ids]
    run = read_run(write_jsonl(tmp_path / "r.jsonl", rows), "r")
    assert run.ids == ids
