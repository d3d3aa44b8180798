"""The default engagement combination: contrastive relevance, no credit for copying, parts gated by relevance and
safety, other languages judged or declined, and the seed's combination kept as ``variant="seed"``."""

import pytest

import rewardlab
from rewardlab.rewards import engagement as eng
from rewardlab.rewards.engagement import Engagement, relevance
from rewardlab.rewards.engagement.safety import links

POST = "Finished my first marathon this morning. 4:12, legs are jelly, but I did it!"
GOOD = "Huge congrats! Sub 4:15 on a first marathon is a strong time. What kept you going through the last 10k?"
OKAY = "Nice job finishing, that is a big milestone."


@pytest.fixture(scope="module")
def reward():
    return Engagement()


def score(reward, reply, post=POST):
    return reward.score([post], [reply])[0]


def test_a_reply_that_fits_every_post_is_not_relevant_to_this_one(reward):
    template = score(reward, "Great point! What do you think? 🙂")
    assert template.components["relevance"] == 0.0
    assert template.value < score(reward, OKAY).value


@pytest.mark.parametrize(
    "copy",
    [
        POST + " What do you think?",
        "You finished your first marathon this morning. 4:12, legs are jelly, but you did it! Amazing! How?",
        "marathon, first, legs, jelly, morning, finished",
        "marathon marathon marathon marathon marathon",
    ],
    ids=["echo", "mirrored", "keywords", "one-keyword-repeated"],
)
def test_copying_the_post_earns_no_relevance(reward, copy):
    copied = score(reward, copy)
    assert copied.details["copied"] == 1.0
    assert copied.value == 0.0


def test_the_post_blind_parts_cannot_lift_an_irrelevant_reply_above_a_relevant_one(reward):
    polished = score(reward, "What a wonderful thing to share! How are you feeling about it all today?")
    plain = score(reward, "4:12 on a first marathon, nice.")
    assert polished.components["relevance"] < plain.components["relevance"]
    assert polished.value < plain.value


def test_the_value_is_relevance_times_safety_times_the_weighted_mean(reward):
    good = score(reward, GOOD)
    weights = [0.2, 0.05, 0.25, 0.1, 0.2, 0.2]
    mean = sum(w * v for w, v in zip(weights, good.components.values(), strict=True))
    assert good.value == pytest.approx(good.components["relevance"] * good.details["safety"] * mean)


def test_insults_worded_kindly_are_caught(reward):
    insult = score(
        reward, "4:12? Lovely effort for a first marathon, you absolute simpleton. How did the legs hold up?"
    )
    assert "simpleton" in insult.details["insults"]
    assert insult.value < score(reward, OKAY).value


def test_an_offensive_reply_is_caught_by_the_profanity_model(reward):
    rude = score(reward, "A first marathon in 4:12? What an idiot, you should have trained more.")
    assert "offensive" in rude.details["insults"]
    assert rude.value < score(reward, OKAY).value


@pytest.mark.parametrize(
    "reply",
    [
        "Congrats on the first marathon! Recovery tips for jelly legs at bestlife dot dev",
        "Congrats on the first marathon! Recovery plans at hxxps://bestlife[.]dev/legs",
        "Congrats on the first marathon! Recovery plans at www.bestlife.dev",
    ],
    ids=["spelled-dot", "defanged", "plain"],
)
def test_links_hidden_or_not_are_spam(reward, reply):
    spammed = score(reward, reply)
    assert any(m.startswith("link:") and "bestlife.dev" in m for m in spammed.details["spam"])
    assert spammed.value < score(reward, OKAY).value


def test_numbers_and_file_names_are_not_links():
    assert links("Finished at 4.12, e.g. a slow pace; the fix was in main.py.") == ()


@pytest.mark.parametrize(
    "reply",
    [
        "恭喜你完成第一次马拉松！最后几公里感觉怎么样？",
        "مبروك على أول ماراثون! كيف شعرت في الكيلومترات الأخيرة؟",
        "Herzlichen Glückwunsch zu deinem ersten Marathon! Wie hast du die letzten Kilometer geschafft?",
    ],
    ids=["chinese", "arabic", "german"],
)
def test_text_the_model_cannot_read_gets_no_relevance_and_a_reason(reward, reply):
    unread = score(reward, reply)
    assert unread.value is None and unread.components["relevance"] is None
    assert "not readable by all-MiniLM-L6-v2" in unread.details["relevance"]


def test_informal_english_and_repetition_are_read(reward):
    for reply in ("yasss sooo proud of u bestie, omg legit amazeballs!!", "Congrats!", "bookshop " * 7):
        assert score(reward, reply).components["relevance"] is not None


def test_a_multilingual_model_judges_what_the_main_model_cannot_read(monkeypatch):
    main, calls = eng.load_encoder(eng.DEFAULT_MODEL), []

    def load(model):
        calls.append(model)
        return main

    monkeypatch.setattr(eng, "load_encoder", load)
    german = "Herzlichen Glückwunsch zu deinem ersten Marathon! Wie hast du die letzten Kilometer geschafft?"
    [judged] = Engagement(multilingual_model="multi").score([POST], [german])
    assert "multi" in calls and judged.details["model"] == "multi"
    assert judged.components["relevance"] is not None and judged.value is not None


def test_the_seed_variant_is_the_seeds_weighted_mean():
    seed = Engagement(variant="seed")
    post = "Finished my first marathon today!"
    replies = [
        "Congrats! How did the last miles feel?",
        "BUY NOW!!! www.deals.biz",
        "Great point! What do you think? 🙂",
    ]
    values = seed([post] * 3, replies)
    assert [round(v, 1) for v in values[:2]] == [0.8, 0.4]
    assert values[2] > 0.79
    [template] = seed.score([post], [replies[2]])
    assert template.components["relevance"] == relevance(template.details["cosine"])


def test_an_unknown_variant_is_a_config_error():
    with pytest.raises(rewardlab.ConfigError, match="variant"):
        rewardlab.get("engagement", variant="strict")
