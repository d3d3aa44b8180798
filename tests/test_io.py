import json

import pytest

from rewardlab.engine.read import InputError, read_jsonl
from rewardlab.engine.score import columns_of
from rewardlab.engine.write import UMASK, atomic_writer, dumps, write_jsonl


def write(path, data: bytes):
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param(b'{"a": 1}\n{"a": \n', r":2: malformed JSON", id="malformed"),
        pytest.param(b'{"a": 1}\n[1, 2]\n', r":2: expected a JSON object, got list", id="not-an-object"),
        pytest.param(b'{"a": "\xff"}\n', r":1: not valid UTF-8", id="bad-utf8"),
        pytest.param(b"", r"no rows: the file is empty", id="empty"),
        pytest.param(b"\n  \n", r"no rows: the file is empty", id="only-blank-lines"),
        pytest.param(b'{"a": 1, "a": 2}\n', r":1: the key 'a' appears twice in one object", id="duplicate-key"),
        pytest.param(b'{"a": {"b": 1, "b": 1}}\n', r":1: the key 'b' appears twice", id="duplicate-nested-key"),
    ],
)
def test_read_jsonl_reports_file_and_line(tmp_path, content, message):
    path = write(tmp_path / "in.jsonl", content)
    with pytest.raises(InputError, match=message) as info:
        read_jsonl(path)
    assert str(info.value).startswith(str(path))


def test_read_jsonl_keeps_line_numbers_across_blank_lines(tmp_path):
    rows = read_jsonl(write(tmp_path / "in.jsonl", b'{"a": 1}\n\n{"a": 2}\n'))
    assert [(r.line, r.data) for r in rows] == [(1, {"a": 1}), (3, {"a": 2})]


def test_missing_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        read_jsonl(tmp_path / "absent.jsonl")


def test_atomic_writer_leaves_the_target_untouched_on_failure(tmp_path):
    target = tmp_path / "out.jsonl"
    target.write_text("original\n")
    with pytest.raises(RuntimeError), atomic_writer(target) as handle:
        handle.write("half")
        raise RuntimeError("boom")
    assert target.read_text() == "original\n"
    assert list(tmp_path.iterdir()) == [target]


def test_write_jsonl_turns_nan_into_null(tmp_path):
    target = tmp_path / "out.jsonl"
    write_jsonl(target, [{"x": float("nan"), "y": [float("inf"), 1.0]}])
    assert json.loads(target.read_text()) == {"x": None, "y": [None, 1.0]}
    assert dumps({"t": "é"}) == '{"t": "é"}'


def test_columns_of_aligns_missing_keys_with_none(tmp_path):
    rows = read_jsonl(write(tmp_path / "in.jsonl", b'{"a": 1}\n{"b": 2}\n'))
    assert columns_of(rows) == {"a": [1, None], "b": [None, 2]}


def test_atomic_writer_gives_the_file_ordinary_permissions(tmp_path):
    target = tmp_path / "out.jsonl"
    write_jsonl(target, [{"a": 1}])
    assert target.stat().st_mode & 0o777 == 0o666 & ~UMASK  # as open() would create it, not the temp file's 0600
