"""The output directory of a training run: refused when it holds another run, and `last` resumes only this run's."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from grpo_plugin import runs
from grpo_plugin.cli import main
from grpo_plugin.config import SFTTrainConfig, TrainConfig


def config(out: Path, **settings) -> TrainConfig:
    return TrainConfig(**{"model": "tiny", "data": "p.jsonl", "reward": "length", "output_dir": str(out), **settings})


def checkpoint(out: Path, step: int, record: dict | None) -> Path:
    path = out / f"checkpoint-{step}"
    path.mkdir(parents=True)
    (path / "trainer_state.json").write_text("{}")
    if record is not None:
        runs.write_record(record, path)
    return path


def record_of(run_id: str, settings: TrainConfig | SFTTrainConfig) -> dict:
    return {"run_id": run_id, **runs.identity(settings)}


def test_a_non_empty_output_dir_is_refused(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    (tmp_path / "p.jsonl").write_text('{"prompt": "Hi"}\n')
    result = CliRunner().invoke(
        main, ["--data", str(tmp_path / "p.jsonl"), "--reward", "math-format", "--output-dir", str(out)]
    )
    assert result.exit_code == 2
    assert f"--output-dir {out} is not empty" in result.stderr
    assert "--resume-from-checkpoint last" in result.stderr and "--overwrite-output-dir" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert [p.name for p in out.iterdir()] == ["notes.txt"]


def test_an_empty_or_missing_output_dir_is_fine(tmp_path):
    (tmp_path / "empty").mkdir()
    runs.check_output_dir(config(tmp_path / "empty"))
    runs.check_output_dir(config(tmp_path / "missing"))


def test_overwrite_output_dir_starts_a_new_run(tmp_path):
    old = config(tmp_path)
    runs.write_record(record_of("old", old), tmp_path)
    checkpoint(tmp_path, 5, record_of("old", old))
    resume, record = runs.start(config(tmp_path, overwrite_output_dir=True))
    assert resume is None
    assert record["run_id"] != "old"


def test_last_resumes_the_newest_checkpoint_of_this_directorys_run(tmp_path):
    settings = config(tmp_path, resume_from_checkpoint="last")
    runs.write_record(record_of("mine", settings), tmp_path)
    checkpoint(tmp_path, 2, record_of("mine", settings))
    checkpoint(tmp_path, 10, record_of("mine", settings))
    checkpoint(tmp_path, 50, record_of("earlier", settings))
    checkpoint(tmp_path, 60, None)
    resume, record = runs.start(settings)
    assert resume == str(tmp_path / "checkpoint-10")
    assert record["run_id"] == "mine"


def test_last_never_resumes_another_runs_checkpoint(tmp_path):
    settings = config(tmp_path, resume_from_checkpoint="last")
    runs.write_record(record_of("mine", settings), tmp_path)
    checkpoint(tmp_path, 7, record_of("earlier", settings))
    with pytest.raises(runs.RunDirError, match="no checkpoint-\\* directory in .* written by the run recorded"):
        runs.start(settings)


def test_last_without_a_run_record_resumes_nothing(tmp_path):
    checkpoint(tmp_path, 3, None)
    with pytest.raises(runs.RunDirError, match="no checkpoint"):
        runs.start(config(tmp_path, resume_from_checkpoint="last"))


@pytest.mark.parametrize(
    ("written_by", "message"),
    [
        pytest.param(config(Path("x"), model="other"), "model 'other', this run has 'tiny'", id="model"),
        pytest.param(config(Path("x"), lora_r=8), "lora_r 8, this run has 16", id="lora-shape"),
        pytest.param(SFTTrainConfig(model="tiny"), "command 'sft-train', this run has 'grpo-train'", id="command"),
    ],
)
def test_a_checkpoint_of_other_weights_is_not_resumed(tmp_path, written_by, message):
    runs.write_record(record_of("r", written_by), tmp_path)
    path = checkpoint(tmp_path, 4, record_of("r", written_by))
    for resume in ("last", str(path)):
        with pytest.raises(runs.RunDirError, match=message):
            runs.start(config(tmp_path, resume_from_checkpoint=resume))


def test_a_named_checkpoint_continues_its_run_id(tmp_path):
    settings = config(tmp_path / "new", resume_from_checkpoint=str(tmp_path / "checkpoint-3"))
    checkpoint(tmp_path, 3, record_of("theirs", settings))
    _, record = runs.start(settings)
    assert record["run_id"] == "theirs"


def test_run_record_is_json_with_the_weights_identity(tmp_path):
    runs.write_record(record_of("r", config(tmp_path)), tmp_path)
    record = json.loads((tmp_path / "run.json").read_text())
    assert record["command"] == "grpo-train" and record["model"] == "tiny" and record["lora_r"] == 16
