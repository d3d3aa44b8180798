"""The ``evalkit`` command: pass@k, Self-BLEU and accuracy of one generations file, and ``compare`` for runs."""

from __future__ import annotations

import dataclasses
import json
import warnings
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click

from eval.aggregate import Spool, spool_run, summarize, summarize_units
from eval.compare import choose_ks, compare_runs, run_pass_at_k
from eval.generate import generate
from eval.report import render_table, write_per_prompt, write_report
from eval.runs import (
    Provenance,
    Scorer,
    locate_runs,
    make_scorer,
    mixed_sources,
    read_generations,
    run_name,
)
from eval.stats import mean_estimate
from rewardlab import __version__
from rewardlab.cli.framework import Group, UserError, user_errors
from rewardlab.cli.options import build_reward, finite_number, param_option, weights_option
from rewardlab.engine.read import source_name
from rewardlab.metrics.selfbleu import MODES, self_bleu
from rewardlab.metrics.selfbleu import signature as self_bleu_signature
from rewardlab.metrics.tokens import DEFAULT_TOKENIZER


def parse_ks(text: str | None) -> list[int] | None:
    """Parse ``--k 1,5,10`` into sorted distinct positive integers (None when the option is not given).

    Example:
        >>> parse_ks("10,1,5,5")
        [1, 5, 10]

    """
    if text is None:
        return None
    try:
        ks = sorted({int(part) for part in text.split(",")})
    except ValueError:
        raise UserError(f"--k expects comma-separated integers, got '{text}'") from None
    if ks[0] < 1:
        raise UserError(f"--k values must be at least 1, got '{text}'")
    return ks


def scoring_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--reward, --weights, -p, --threshold and --allow-mixed: how rows without ``correct`` or ``reward`` get them."""
    command = click.option(
        "--allow-mixed",
        is_flag=True,
        help="Allow `correct` or `reward` to come from the file for some rows and from --reward for others.",
    )(command)
    command = click.option(
        "--threshold",
        type=float,
        default=None,
        callback=finite_number,
        help="A row scored by --reward is correct when its value is at least this. Needed for rewards without a "
        "rule of their own (engagement, your function); replaces the rule of the others (math: math-accuracy = 1; "
        "code: every test passes).",
    )(command)
    command = param_option(command)
    command = weights_option(command)
    return click.option(
        "--reward",
        "-r",
        "spec",
        default=None,
        help="Reward (rewardlab name(s) or module:function) scoring rows that lack `correct` or `reward`.",
    )(command)


k_option = click.option(
    "--k",
    "ks",
    default=None,
    help="The k of pass@k, comma-separated; each needs k samples per prompt. "
    "[default: 1,5,10, leaving out those above the samples per prompt]",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
seed_option = click.option(
    "--seed", type=click.IntRange(min=0), default=0, show_default=True, help="Seed of the bootstrap resampling."
)
bootstrap_option = click.option(
    "--bootstrap",
    "n_boot",
    type=click.IntRange(min=1),
    default=1000,
    show_default=True,
    help="Bootstrap resamples over prompts.",
)


def _scorer(spec: str | None, weights: str | None, params: tuple[str, ...], threshold: float | None) -> Scorer | None:
    """The reward scoring rows that lack ``correct`` or ``reward``, with its rule of correctness; None without one."""
    if spec is None:
        if weights is not None or params or threshold is not None:
            raise UserError("--weights, -p and --threshold need --reward")
        return None
    reward = build_reward(spec, weights, params)
    with user_errors():
        return make_scorer(reward, threshold)


def _check_mixed(provenances: Sequence[tuple[str, Provenance]], allow: bool) -> list[str]:
    """Refuse rows whose values come from two sources unless --allow-mixed; return the notes to print then."""
    mixed = mixed_sources(provenances)
    if mixed and not allow:
        raise UserError(
            f"{mixed[0]}: values from two sources are not comparable; score every run the same way (remove the "
            "column, or leave out --reward), or give --allow-mixed"
        )
    return [f"mixed sources (--allow-mixed): {m}" for m in mixed]


def _check_spool(spool: Spool, allow_mixed: bool) -> list[str]:
    """:func:`_check_mixed` for one spooled run, removing its spooled rows when it refuses them."""
    try:
        return _check_mixed([(spool.name, spool.provenance)], allow_mixed)
    except BaseException:
        spool.buckets.close()
        raise


def _scoring_lines(scorer: Scorer | None, provenances: Sequence[tuple[str, Provenance]]) -> list[str]:
    """What --reward did, one line per run, printed whenever it is given."""
    if scorer is None:
        return []
    lines = [f"--reward {scorer.reward.name}: a row is correct when {scorer.rule}"]
    lines += [f"{name}: {p.describe()}" for name, p in provenances]
    return lines


def _scoring_json(scorer: Scorer | None, provenance: Provenance) -> dict[str, Any]:
    if scorer is None:
        return {}
    return {"scoring": {**scorer.settings(), "provenance": dataclasses.asdict(provenance)}}


@click.group(cls=Group)
@click.version_option(__version__, prog_name="evalkit")
def main() -> None:
    """Evaluate generations: pass@k, Self-BLEU, distinct-n, accuracy, mean reward; compare runs with paired tests."""


main.add_command(generate)


@main.command()
@click.argument("file")
@k_option
@scoring_options
@seed_option
@bootstrap_option
@json_option
def passk(
    file: str,
    ks: str | None,
    spec: str | None,
    weights: str | None,
    params: tuple[str, ...],
    threshold: float | None,
    allow_mixed: bool,
    seed: int,
    n_boot: int,
    as_json: bool,
) -> None:
    """pass@k of FILE (unbiased estimator of Chen et al. 2021), per prompt_id and then the mean over prompts.

    Every row needs `prompt_id` and `correct` (or give --reward to score rows without `correct`: a row is then
    correct by the reward's own rule, or by --threshold). Each pass@k is shown with n, the samples per prompt, and
    its standard error and bootstrap interval over prompts. The file is read once, in memory bounded by one bucket
    of prompts (it need not be sorted by prompt_id).
    """
    scorer = _scorer(spec, weights, params, threshold)
    with user_errors():
        spool = spool_run(file, run_name(Path(file)), scorer=scorer)
        notes = _check_spool(spool, allow_mixed)
        run = summarize(spool)
        k_values, note = choose_ks(run, parse_ks(ks))
        results = run_pass_at_k(run, k_values, n_boot=n_boot, seed=seed)
    notes += [note] if note else []
    if as_json:
        payload = {
            "file": run.source,
            "prompts": len(run.ids),
            "rows": run.rows,
            "pass_at_k": [r.as_dict() for r in results],
            "notes": notes,
            "settings": {"n_boot": n_boot, "seed": seed, "version": __version__},
            **_scoring_json(scorer, run.provenance),
        }
        click.echo(json.dumps(payload, indent=2))
        return
    click.echo(f"{run.source}: {len(run.ids)} prompts, {run.rows} rows")
    for line in _scoring_lines(scorer, [(run.name, run.provenance)]):
        click.echo(line)
    for r in results:
        e = r.estimate
        interval = f"95% CI [{e.ci_low:.4f}, {e.ci_high:.4f}]"
        click.echo(f"pass@{r.k:<3} {e.value:.4f}  stderr {e.stderr:.4f}  {interval}  {r.n_label}")
    click.echo(f"intervals: bootstrap over prompts, {n_boot} resamples, seed {seed}")
    for note in notes:
        click.echo(f"note: {note}")


@main.command()
@click.argument("file")
@click.option(
    "--group-by", default=None, help="Field to group by (e.g. prompt_id): Self-BLEU per group, then the mean."
)
@click.option("--mode", type=click.Choice(MODES), default="sacrebleu", show_default=True, help="BLEU variant.")
@click.option("--max-order", default=4, show_default=True, help="Longest n-gram (Texygen-era papers used 3).")
@click.option("--tokenize", "tokenize_name", default=DEFAULT_TOKENIZER, show_default=True, help="sacrebleu tokenizer.")
@json_option
def selfbleu(file: str, group_by: str | None, mode: str, max_order: int, tokenize_name: str, as_json: bool) -> None:
    """Self-BLEU of the completions of FILE; lower is more diverse.

    Each completion is scored by sentence BLEU against all the others (of its group) as references.
    """
    with user_errors():
        generations = read_generations(file)
    texts = [g.completion for g in generations]
    groups = None
    if group_by is not None:
        groups = []
        for g in generations:
            if g.row.data.get(group_by) is None:
                raise UserError(f"{source_name(file)}:{g.row.line}: field '{group_by}': missing (--group-by)")
            groups.append(json.dumps(g.row.data[group_by], sort_keys=True))
    options = {"mode": mode, "max_order": max_order, "tokenize_name": tokenize_name}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            score = self_bleu(texts, groups=groups, **options)
        except ValueError as error:
            raise UserError(f"{source_name(file)}: {error}") from None
    messages = [str(w.message) for w in caught]
    signature = self_bleu_signature(mode, max_order, tokenize_name)
    sizes = sorted(Counter(groups).values()) if groups else [len(texts)]
    if as_json:
        payload = {
            "file": source_name(file),
            "self_bleu": score,
            "texts": len(texts),
            "group_by": group_by,
            "groups": len(sizes) if groups else None,
            "group_sizes": {"min": sizes[0], "max": sizes[-1]},
            "signature": signature,
            "warnings": messages,
        }
        click.echo(json.dumps(payload, indent=2))
        return
    for message in messages:
        click.echo(f"warning: {message}", err=True)
    size = f"{sizes[0]}" if sizes[0] == sizes[-1] else f"{sizes[0]}-{sizes[-1]}"
    where = f"; {len(sizes)} groups by {group_by}, {size} texts each" if groups else ""
    click.echo(f"Self-BLEU {score:.4f} over {len(texts)} texts{where}")
    click.echo(f"signature: {signature}")


@main.command()
@click.argument("file")
@scoring_options
@seed_option
@bootstrap_option
@json_option
def accuracy(
    file: str,
    spec: str | None,
    weights: str | None,
    params: tuple[str, ...],
    threshold: float | None,
    allow_mixed: bool,
    seed: int,
    n_boot: int,
    as_json: bool,
) -> None:
    """Accuracy (and mean reward, where rows have one) of FILE with standard error and bootstrap interval.

    With `prompt_id` on every row, each prompt's samples are averaged first and uncertainty is over prompts; else
    each row is a unit. The file is read once, in memory bounded by one bucket of prompts (a few bytes a row when
    some row has no `prompt_id`).
    """
    scorer = _scorer(spec, weights, params, threshold)
    with user_errors():
        spool = spool_run(file, run_name(Path(file)), scorer=scorer, checked=False)
        notes = _check_spool(spool, allow_mixed)
        units = summarize_units(spool)
    options = {"n_boot": n_boot, "seed": seed}
    results = {"accuracy": mean_estimate(units.correct, **options)}
    if units.reward is not None:
        results["mean reward"] = mean_estimate(units.reward, **options)
    unit = "rows" if units.prompts is None else "prompts"
    if as_json:
        payload = {
            "file": spool.source,
            "rows": units.rows,
            "units": unit,
            **{name.replace(" ", "_"): e.as_dict() for name, e in results.items()},
            "settings": {"n_boot": n_boot, "seed": seed, "version": __version__},
            **_scoring_json(scorer, spool.provenance),
            **({"notes": notes} if notes else {}),
        }
        click.echo(json.dumps(payload, indent=2))
        return
    prompts = "" if units.prompts is None else f", {units.prompts} prompts"
    click.echo(f"{spool.source}: {units.rows} rows{prompts}")
    for line in _scoring_lines(scorer, [(spool.name, spool.provenance)]):
        click.echo(line)
    for name, e in results.items():
        click.echo(f"{name:<11} {e.value:.4f}  stderr {e.stderr:.4f}  95% CI [{e.ci_low:.4f}, {e.ci_high:.4f}]")
    click.echo(f"intervals: bootstrap over {unit}, {n_boot} resamples, seed {seed}")
    for note in notes:
        click.echo(f"note: {note}")


@main.command()
@click.argument("names", nargs=-1, required=True, metavar="A B [C ...]")
@click.option("--runs-dir", default="runs", show_default=True, help="Where runs/NAME/generations.jsonl are found.")
@scoring_options
@k_option
@click.option("--out", "out_dir", default=None, help="Report directory  [default: out/A-vs-B]")
@click.option(
    "--per-prompt",
    "per_prompt",
    type=click.Path(dir_okay=False),
    default=None,
    help="Also write each prompt's pass rate in every run to this JSONL file.",
)
@seed_option
@bootstrap_option
def compare(
    names: tuple[str, ...],
    runs_dir: str,
    spec: str | None,
    weights: str | None,
    params: tuple[str, ...],
    threshold: float | None,
    allow_mixed: bool,
    ks: str | None,
    out_dir: str | None,
    per_prompt: str | None,
    seed: int,
    n_boot: int,
) -> None:
    """Compare runs A, B, … over the same prompts; each later run is tested against A.

    A run is a name (RUNS_DIR/NAME/generations.jsonl), a directory holding generations.jsonl, or a JSONL file.
    Rows are paired by prompt_id, and a prompt_id whose prompt text differs between runs is an error. Prints a
    table (each run, difference, 95% CI, p-value, winner per metric) and writes report.md, report.json, metrics.png
    and pass_at_k.png to --out. With three or more runs one table has a column per run, each metric's p-values are
    adjusted by Holm's method over the runs tested against A, and the winner is called on the adjusted p. Runs
    whose rows carry `components` get one line per component. --per-prompt writes each prompt's pass rate per run
    (JSONL), to pick problems a model solves sometimes but not always. Each run is read once, in memory bounded
    by one bucket of prompts, with progress on standard error.
    """
    if len(names) < 2:
        raise UserError(f"compare needs at least two runs, got {len(names)}")
    k_values = parse_ks(ks)
    scorer = _scorer(spec, weights, params, threshold)
    with user_errors():
        spools = []
        try:
            for label, path in locate_runs(names, runs_dir):
                spools.append(spool_run(path, label, scorer=scorer, texts=True))
            mixed = _check_mixed([(s.name, s.provenance) for s in spools], allow_mixed)
            # No name keeps the per-prompt runs: they are freed before the report and plots are made.
            comparison = compare_runs(
                [summarize(s) for s in spools],
                ks=k_values,
                n_boot=n_boot,
                seed=seed,
                per_prompt_rates=per_prompt is not None,
            )
        finally:
            for s in spools:
                s.buckets.close()
    comparison.settings["reward"] = None if scorer is None else scorer.settings()
    comparison.notes += mixed
    runs = comparison.runs
    out = Path(out_dir) if out_dir else Path("out") / "-vs-".join(run.name for run in runs)
    for line in _scoring_lines(scorer, [(run.name, run.provenance) for run in runs]):
        click.echo(line)
    click.echo(render_table(comparison))
    with user_errors():
        written = write_report(comparison, out)
        if per_prompt is not None:
            written.append(write_per_prompt(comparison, per_prompt))
    click.echo(f"wrote {', '.join(str(p) for p in written)}")
