"""distinct-n as a Hugging Face ``evaluate`` module: ``evaluate.load("<path to this folder>")``, offline.

A thin wrapper over :func:`eval.distinct.distinct_n`: distinct n-grams / all n-grams over the texts.
"""

import datasets
import evaluate

from eval.distinct import distinct_n

_CITATION = """\
@inproceedings{li2016diversity,
  title={A Diversity-Promoting Objective Function for Neural Conversation Models},
  author={Li, Jiwei and Galley, Michel and Brockett, Chris and Gao, Jianfeng and Dolan, Bill},
  booktitle={NAACL},
  year={2016}
}
"""

_DESCRIPTION = """\
distinct-n: the number of distinct n-grams divided by the number of all n-grams over the texts taken together
(Li et al. divided by the number of tokens instead). Tokens come from sacrebleu's 13a tokenizer.
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions: the texts.
    n: n-gram orders, a list of integers (default [1, 2]).
Returns:
    "distinct-N" for each N, in [0, 1].
Examples:
    distinct = evaluate.load("eval/metrics/distinct_n")
    distinct.compute(predictions=["the cat sat", "the cat ran"], n=[2])
    # {'distinct-2': 0.75}
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class DistinctN(evaluate.Metric):
    """distinct-n of a set of texts."""

    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features({"predictions": datasets.Value("string")}),
            reference_urls=["https://aclanthology.org/N16-1014/"],
        )

    def _compute(self, predictions, n=(1, 2)):
        return {f"distinct-{order}": distinct_n(predictions, order) for order in n}
