"""The metrics load as Hugging Face ``evaluate`` modules from the package's own folder, without the hub."""

from pathlib import Path

import evaluate
import pytest

import eval as evalkit
from eval.passk import pass_at_k
from rewardlab.metrics.selfbleu import self_bleu

METRICS = Path(evalkit.__file__).parent / "metrics"


def test_pass_at_k_module_matches_the_library():
    module = evaluate.load(str(METRICS / "pass_at_k"))
    predictions = [[True, False, False, False], [True, True, False, False], [False] * 4]
    result = module.compute(predictions=predictions, k=[1, 2])
    expected = sum(pass_at_k(4, sum(p), 2) for p in predictions) / 3
    assert result["pass@2"] == pytest.approx(expected)
    assert (result["n_min"], result["n_max"], result["problems"]) == (4, 4, 3)


def test_self_bleu_module_matches_the_library():
    module = evaluate.load(str(METRICS / "self_bleu"))
    texts = ["the cat sat on the mat", "the cat sat on a mat", "a dog ran off", "a dog ran"]
    result = module.compute(predictions=texts, groups=[1, 1, 2, 2], mode="nltk")
    assert result["self_bleu"] == pytest.approx(self_bleu(texts, groups=[1, 1, 2, 2], mode="nltk"))
    assert result["signature"].startswith("self-bleu|mode:nltk")


def test_distinct_n_module_reports_each_order():
    module = evaluate.load(str(METRICS / "distinct_n"))
    assert module.compute(predictions=["the cat sat", "the cat ran"], n=[1, 2]) == {
        "distinct-1": pytest.approx(4 / 6),
        "distinct-2": pytest.approx(3 / 4),
    }
