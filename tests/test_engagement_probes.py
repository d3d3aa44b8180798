"""Probes a policy would find, scored beside the 51 posts of fixtures/replies.jsonl and their real replies.

The probe families and the table are in fixtures/engagement_probes.py (the README's table is its output).
"""

import importlib.util

import pytest

from rewardlab.rewards.engagement import Engagement


@pytest.fixture(scope="module")
def probes(fixtures_dir):
    spec = importlib.util.spec_from_file_location("engagement_probes", fixtures_dir / "engagement_probes.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def table(probes):
    return {row["name"]: row for row in probes.score_table(Engagement())}


@pytest.fixture(scope="module")
def seed_table(probes):
    return {row["name"]: row for row in probes.score_table(Engagement(variant="seed"))}


def test_every_family_of_the_issue_is_probed(probes):
    names = " ".join(name for table in probes.FAMILIES.values() for name in table)
    for family in ("echo", "paraphrase", "keyword", "praise + question", "stuffing", "padding", "repetition",
                   "insult", "sarcasm", "spam", "Chinese", "Arabic", "German", "empty"):  # fmt: skip
        assert family in names


def test_real_replies_keep_their_order(table):
    assert table["good"]["beats_okay"] >= 0.9
    assert table["okay"]["beats_off_topic"] >= 0.9
    assert table["good"]["beats_off_topic"] == 1.0


def test_context_free_probes_never_beat_the_good_reply_and_stay_below_the_okay_one(probes, table):
    for name in probes.CONTEXT_FREE:
        assert table[name]["beats_good"] == 0.0, name
        assert table[name]["beats_okay"] <= 0.1, name


@pytest.mark.parametrize("name", ["echo + question", "mirror + praise", "paraphrase-copy", "keyword list"])
def test_copies_of_the_post_never_beat_the_good_reply_and_stay_below_the_okay_one(table, name):
    assert table[name]["beats_good"] == 0.0
    assert table[name]["beats_okay"] <= 0.1


def test_the_posts_words_with_a_template_or_an_insult_sarcasm_spam_padding_rarely_beat_the_good_reply(probes, table):
    for name in probes.ON_TOPIC:
        assert table[name]["beats_good"] <= 0.05, name


def test_the_posts_keywords_with_a_template_never_beat_the_good_reply_and_earn_under_half_the_okay_one(table):
    # The okay replies are often a keyword and a formula too ("Congrats on the apartment."), so the probe ties
    # some of them; its own words fit every post and keep a tenth of its relevance (relevance.novelty).
    assert table["keywords + praise"]["beats_good"] == 0.0
    assert table["keywords + praise"]["mean"] < table["okay"]["mean"] / 2


def test_other_languages_are_declined_not_scored_as_relevant(table):
    for name in ("Chinese", "Arabic", "German"):
        assert table[name]["none"] == table[name]["posts"]


def test_the_seed_variant_loses_to_the_same_probes(table, seed_table):
    assert seed_table["praise + question"]["beats_okay"] > 0.5
    assert seed_table["echo + question"]["beats_okay"] == 1.0
    assert seed_table["mirror + praise"]["beats_good"] > 0.5
