"""eval: did GRPO help? pass@k, Self-BLEU, distinct-n, accuracy and mean reward with intervals and paired tests.

Runs are compared side by side by the CLI ``evalkit``.

Importing is cheap: sacrebleu, matplotlib and evaluate load only inside the functions that need them.

Example:
    >>> import eval
    >>> round(eval.pass_at_k(n=10, c=3, k=5), 4)
    0.9167
    >>> round(eval.self_bleu(["the cat sat", "the cat sat", "a dog ran"]), 4)
    0.6667

"""

from eval.accuracy import accuracy, mean_reward
from eval.aggregate import Run, read_run
from eval.compare import Comparison, compare_runs, run_pass_at_k
from eval.distinct import distinct_counts, distinct_n
from eval.passk import PassAtK, mean_pass_at_k, pass_at_k
from eval.runs import Generation, RunError, Scorer, make_scorer, read_generations, score_generations
from eval.stats import Estimate, PairedTest, holm, mcnemar, mean_estimate, paired_bootstrap
from rewardlab.metrics.selfbleu import self_bleu, self_bleu_by_group, sentence_self_bleu

__all__ = [
    "Comparison",
    "Estimate",
    "Generation",
    "PairedTest",
    "PassAtK",
    "Run",
    "RunError",
    "Scorer",
    "accuracy",
    "compare_runs",
    "distinct_counts",
    "distinct_n",
    "holm",
    "mcnemar",
    "mean_estimate",
    "mean_pass_at_k",
    "mean_reward",
    "paired_bootstrap",
    "pass_at_k",
    "make_scorer",
    "read_generations",
    "read_run",
    "run_pass_at_k",
    "score_generations",
    "self_bleu",
    "self_bleu_by_group",
    "sentence_self_bleu",
]
