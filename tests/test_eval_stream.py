"""evalkit reads big runs once, grouped by prompt in bounded memory, whatever the row order, with progress."""

import io
import json
import tempfile

import pytest
from click.testing import CliRunner

from eval.aggregate import DISTINCT_ORDERS, read_run
from eval.cli import main
from eval.distinct import distinct_counts
from eval.progress import Progress
from eval.selfbleu import sentence_self_bleu
from eval.tokens import tokenize


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def fixture_rows(fixtures_dir, name):
    text = (fixtures_dir / "runs" / name / "generations.jsonl").read_text()
    return [json.loads(line) for line in text.splitlines()]


def write_jsonl(path, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


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
