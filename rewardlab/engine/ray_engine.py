"""Score rows on Ray Data (``rewardlab score --engine ray``), for when one machine is not enough.

The same reward objects as the local engine run inside Ray Data's ``map_batches`` on a pool of actors: each actor
unpickles the reward once, so a model (the embedding model, a reward model) loads once per actor and serves every
batch it gets. The command line reads and checks the file on the driver, a chunk at a time (a bad row is named by
its line before any work is sent), hands the rows to Ray as JSON text in blocks, and writes the scored rows back
sorted by line (input order), as JSONL or Parquet, replacing the target only at the end. For a group-level reward
the driver puts each prompt group whole into one block, by the bucketing of :mod:`rewardlab.engine.pipeline`, and each
block is one batch, so no shuffle is needed. The Python API (:func:`score_dataset`) takes any dataset and keeps groups
whole with ``groupby(key).map_groups(...)`` on the key of :func:`rewardlab.reward.group_keys`.

Ray connects to the cluster ``RAY_ADDRESS`` names (``ray://head:10001`` or ``auto``), else starts one on this
machine. Needs ``pip install 'rewardlab[ray]'``.
"""

from __future__ import annotations

import json
import os
import pickle
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rewardlab.describe import signature
from rewardlab.engine.batch import BATCH_ROWS, chunks, group_batches
from rewardlab.engine.read import STDIO, Row, iter_jsonl, source_name
from rewardlab.engine.score import score_rows, scored_record
from rewardlab.engine.summary import Summary, SummaryBuilder
from rewardlab.engine.validate import checked
from rewardlab.engine.write import atomic_writer, dumps, record_line
from rewardlab.errors import RewardlabError
from rewardlab.reward import Reward, group_keys

if TYPE_CHECKING:
    import pyarrow as pa
    import ray.data

#: Rows per block the driver hands to Ray.
BLOCK_ROWS = 8192
#: Column of the group key :func:`score_dataset` adds for group-level rewards (dropped from what it returns).
GROUP = "_rewardlab_group"


def score_dataset(
    dataset: ray.data.Dataset, reward: Reward, *, concurrency: int = 1, batch_size: int = BATCH_ROWS
) -> ray.data.Dataset:
    """Score a Ray dataset of rows (``completion``, usually ``prompt``, and the columns the reward needs).

    Returns the rows with three columns added: ``reward`` (float, null where the reward does not apply),
    ``components`` and ``details`` (JSON text: their keys differ from reward to reward). Row order is Ray's, as
    after any ``groupby``: keep an id column to join on.

    Args:
        dataset: The rows.
        reward: Any reward, e.g. ``rewardlab.build("engagement")``.
        concurrency: Actors scoring batches (each holds one copy of the reward and its model).
        batch_size: Rows per call to the reward (group-level rewards get one prompt group per call).

    Raises:
        RewardlabError: Ray is not installed.

    """
    ray = _import_ray()
    scorer = {"fn_constructor_args": (pickle.dumps(reward), "table"), "compute": _actors(ray, concurrency)}
    if not reward.group_level:
        return dataset.map_batches(_ScoreBatch, batch_size=batch_size, batch_format="pyarrow", **scorer)
    keyed = dataset.map_batches(_add_group_key, batch_format="pyarrow")
    # The sort-based shuffle: the hash shuffle's aggregator actors can wait forever for CPUs a small cluster lacks.
    keyed.context.shuffle_strategy = ray.data.context.ShuffleStrategy.SORT_SHUFFLE_PULL_BASED
    scored = keyed.groupby(GROUP).map_groups(_ScoreBatch, batch_format="pyarrow", **scorer)
    return scored.drop_columns([GROUP])


def score_file(source: str, reward: Reward, output: str, *, concurrency: int = 1) -> Summary:
    """Score a JSONL file on Ray and write it as the local engine does (JSONL, or Parquet for ``*.parquet``).

    Raises:
        InputError: A row is malformed or lacks what the reward needs (checked on the driver, with its line).
        RewardlabError: The reward rejected a row's value, or Ray is not installed.
        OutputError: The output cannot be written.

    """
    ray = _import_ray()
    name = source_name(source)
    _connect(ray)
    scorer = {"fn_constructor_args": (pickle.dumps(reward), name), "compute": _actors(ray, concurrency)}
    with tempfile.TemporaryDirectory(prefix="rewardlab-ray-") as tmp:
        rows = checked(iter_jsonl(source), reward, name)
        if reward.group_level:
            size = None if source == STDIO else Path(source).stat().st_size
            batched = (chunk for bucket in group_batches(rows, size, Path(tmp)) for chunk in bucket)
        else:
            batched = chunks(rows)
        refs = [ray.put(block) for block in _blocks(batched)]
    dataset = ray.data.from_arrow_refs(refs)
    # A group-level block is one batch: its groups are whole and must not be cut.
    batch_size = None if reward.group_level else BATCH_ROWS
    scored = dataset.map_batches(_ScoreBatch, batch_size=batch_size, batch_format="pyarrow", **scorer)
    summary = SummaryBuilder(reward)
    batches = _checked(scored.sort("line").iter_batches(batch_format="pyarrow", batch_size=BLOCK_ROWS), summary)
    if output.endswith(".parquet"):
        _write_parquet(output, batches)
    else:
        with atomic_writer(output) as handle:
            for batch in batches:
                for text in batch.column("text").to_pylist():
                    handle.write(text + "\n")
    return summary.summary()


class _ScoreBatch:
    """One Ray actor's scorer: the reward, unpickled once per actor, so its model loads once per actor.

    ``source`` is the input's name for the command line's JSON-text rows (``line``, ``row``), or ``"table"`` for
    the API's typed rows.
    """

    def __init__(self, reward: bytes, source: str) -> None:
        self.reward: Reward = pickle.loads(reward)
        self.source = source

    def __call__(self, batch: pa.Table) -> pa.Table:
        if self.source == "table":
            return self._score_table(batch)
        return self._score_lines(batch)

    def _score_table(self, batch: pa.Table) -> pa.Table:
        import pyarrow as pa

        rows = [Row(index, data) for index, data in enumerate(batch.to_pylist(), start=1)]
        scores = score_rows(rows, self.reward, "<ray dataset>")
        batch = batch.append_column("reward", pa.array([s.value for s in scores], pa.float64()))
        batch = batch.append_column("components", pa.array([dumps(s.components) for s in scores], pa.string()))
        return batch.append_column("details", pa.array([dumps(s.details) for s in scores], pa.string()))

    def _score_lines(self, batch: pa.Table) -> pa.Table:
        lines = batch.column("line").to_pylist()
        rows = [Row(line, json.loads(text)) for line, text in zip(lines, batch.column("row").to_pylist(), strict=True)]
        try:
            scores = score_rows(rows, self.reward, self.source)
        except RewardlabError as error:  # sent back as data: the driver raises it as a one-line error
            return _lines_table([min(lines)], [""], [None], [""], [str(error)])
        stamp = signature(self.reward)
        texts = [record_line(scored_record(row, s, stamp)) for row, s in zip(rows, scores, strict=True)]
        components = [json.dumps(s.components) for s in scores]
        return _lines_table(lines, texts, [s.value for s in scores], components, [None] * len(rows))


def _lines_table(
    lines: list[int], texts: list[str], values: list[Any], components: list[str], errors: list[Any]
) -> pa.Table:
    import pyarrow as pa

    return pa.table(
        {
            "line": pa.array(lines, pa.int64()),
            "text": pa.array(texts, pa.string()),
            "reward": pa.array(values, pa.float64()),
            "components": pa.array(components, pa.string()),
            "error": pa.array(errors, pa.string()),
        }
    )


def _add_group_key(batch: pa.Table) -> pa.Table:
    import pyarrow as pa

    prompts = batch.column("prompt").to_pylist() if "prompt" in batch.column_names else [None] * batch.num_rows
    ids = batch.column("prompt_id").to_pylist() if "prompt_id" in batch.column_names else None
    keys = [json.dumps(key, default=str) for key in group_keys(prompts, ids, batch.num_rows)]
    return batch.append_column(GROUP, pa.array(keys, pa.string()))


def _blocks(chunks: Iterator[list[Row]]) -> Iterator[pa.Table]:
    """Chunks of rows joined into Arrow tables of about :data:`BLOCK_ROWS` rows: ``line`` and ``row`` (JSON text)."""
    import pyarrow as pa

    block: list[Row] = []
    for chunk in chunks:
        block.extend(chunk)
        if len(block) >= BLOCK_ROWS:
            yield _block(pa, block)
            block = []
    if block:
        yield _block(pa, block)


def _block(pa: Any, rows: Sequence[Row]) -> pa.Table:
    return pa.table(
        {
            "line": pa.array([row.line for row in rows], pa.int64()),
            "row": pa.array([json.dumps(row.data, ensure_ascii=False) for row in rows], pa.string()),
        }
    )


def _checked(batches: Any, summary: SummaryBuilder) -> Iterator[pa.Table]:
    """Pass the scored batches on in order, adding them to the summary; raise the first error an actor sent back."""
    for batch in batches:
        errors = [error for error in batch.column("error").to_pylist() if error is not None]
        if errors:
            raise RewardlabError(errors[0])
        for value, components in zip(
            batch.column("reward").to_pylist(), batch.column("components").to_pylist(), strict=True
        ):
            summary.add(value, json.loads(components))
        yield batch


def _write_parquet(output: str, batches: Iterator[pa.Table]) -> None:
    """Write the scored rows as one Parquet file (components and details as JSON text), replaced at the end."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    target = Path(output)
    temporary = target.with_name(f".{target.name}.rewardlab-tmp")
    writer = None
    try:
        for batch in batches:
            records = []
            for text in batch.column("text").to_pylist():
                record = json.loads(text)
                record["components"] = json.dumps(record["components"])
                record["details"] = json.dumps(record.get("details", {}))
                records.append(record)
            table = pa.Table.from_pylist(records, schema=writer.schema if writer is not None else None)
            if writer is None:
                writer = pq.ParquetWriter(temporary, table.schema)
            writer.write_table(table)
        if writer is not None:
            writer.close()
            writer = None
            os.replace(temporary, target)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as error:
        raise RewardlabError(f"cannot write {output} as Parquet: {error}; write JSONL instead") from None
    finally:
        if writer is not None:
            writer.close()
        temporary.unlink(missing_ok=True)


def _actors(ray: Any, count: int) -> Any:
    """Ray Data's pool of ``count`` actors (each constructs :class:`_ScoreBatch` once)."""
    return ray.data.ActorPoolStrategy(size=count)


def _connect(ray: Any) -> None:
    """Join the cluster ``RAY_ADDRESS`` names, else start Ray on this machine; once per process."""
    if ray.is_initialized():
        return
    ray.init(address=os.environ.get("RAY_ADDRESS") or None, include_dashboard=False, log_to_driver=False)
    ray.data.DataContext.get_current().enable_progress_bars = sys.stderr.isatty()


def _import_ray() -> Any:
    try:
        import ray
        import ray.data
    except ImportError:
        raise RewardlabError("--engine ray needs Ray: pip install 'rewardlab[ray]'") from None
    return ray
