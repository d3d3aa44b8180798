"""Self-BLEU as a Hugging Face ``evaluate`` module: ``evaluate.load("<path to this folder>")``, offline.

A thin wrapper over :func:`rewardlab.metrics.selfbleu.self_bleu`; see that module for the exact O(total n-grams)
algorithm.
"""

import datasets
import evaluate

from rewardlab.metrics.selfbleu import self_bleu, signature

_CITATION = """\
@inproceedings{zhu2018texygen,
  title={Texygen: A Benchmarking Platform for Text Generation Models},
  author={Zhu, Yaoming and Lu, Sidi and Zheng, Lei and Guo, Jiaxian and Zhang, Weinan and Wang, Jun and Yu, Yong},
  booktitle={SIGIR},
  year={2018}
}
"""

_DESCRIPTION = """\
Self-BLEU: the mean sentence BLEU of each text against all the other texts as references; lower is more diverse.
mode="sacrebleu" equals sacrebleu's BLEU(effective_order=True).sentence_score(text, others).score / 100 (13a
tokenizer, exp smoothing); mode="nltk" is nltk's sentence_bleu with SmoothingFunction().method1, as in Texygen-era
papers (which used max_order=3). With groups (e.g. prompt ids) it is computed per group and averaged.
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions: the texts (at least two, or two per group).
    groups: optional group label per text.
    mode: "sacrebleu" (default) or "nltk".
    max_order: longest n-gram (default 4).
    tokenize_name: sacrebleu tokenizer (default "13a").
Returns:
    "self_bleu" in [0, 1] and "signature", the settings and sacrebleu version.
Examples:
    self_bleu = evaluate.load("eval/metrics/self_bleu")
    self_bleu.compute(predictions=["the cat sat", "the cat sat", "a dog ran"])["self_bleu"]
    # 0.6666666666666666
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class SelfBleu(evaluate.Metric):
    """Self-BLEU of a set of texts."""

    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features({"predictions": datasets.Value("string")}),
            reference_urls=["https://arxiv.org/abs/1802.01886"],
        )

    def _compute(self, predictions, groups=None, mode="sacrebleu", max_order=4, tokenize_name="13a"):
        options = {"mode": mode, "max_order": max_order, "tokenize_name": tokenize_name}
        return {
            "self_bleu": self_bleu(predictions, groups=groups, **options),
            "signature": signature(mode, max_order, tokenize_name),
        }
