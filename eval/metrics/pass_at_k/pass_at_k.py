"""pass@k as a Hugging Face ``evaluate`` module: ``evaluate.load("<path to this folder>")``, offline.

A thin wrapper over :func:`eval.passk.pass_at_k`; see that function for the estimator.
"""

import math

import datasets
import evaluate

from eval.passk import pass_at_k

_CITATION = """\
@article{chen2021codex,
  title={Evaluating Large Language Models Trained on Code},
  author={Mark Chen and Jerry Tworek and Heewoo Jun and others},
  journal={arXiv preprint arXiv:2107.03374},
  year={2021}
}
"""

_DESCRIPTION = """\
Unbiased pass@k (Chen et al., 2021): per problem 1 - C(n-c, k)/C(n, k) from n samples of which c are correct,
then the mean over problems. Unlike the reference implementation, a problem with fewer than k samples is an
error, not 1.0. The result reports n (fewest and most samples of any problem) beside every pass@k.
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions: one list of booleans per problem, whether each sample is correct.
    k: the k values, a list of integers (default [1, 5, 10]).
Returns:
    "pass@K" for each K, "n_min" and "n_max" (samples per problem), "problems".
Examples:
    pass_at_k = evaluate.load("eval/metrics/pass_at_k")
    pass_at_k.compute(predictions=[[True, False, False, False], [True, True, False, False]], k=[1, 2])
    # {'pass@1': 0.375, 'pass@2': 0.6666666666666666, 'n_min': 4, 'n_max': 4, 'problems': 2}
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class PassAtK(evaluate.Metric):
    """pass@k from per-sample correctness."""

    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features({"predictions": datasets.Sequence(datasets.Value("bool"))}),
            reference_urls=["https://arxiv.org/abs/2107.03374"],
        )

    def _compute(self, predictions, k=(1, 5, 10)):
        samples = [len(p) for p in predictions]
        result = {
            f"pass@{kk}": math.fsum(pass_at_k(len(p), sum(p), kk) for p in predictions) / len(predictions) for kk in k
        }
        return {**result, "n_min": min(samples), "n_max": max(samples), "problems": len(predictions)}
