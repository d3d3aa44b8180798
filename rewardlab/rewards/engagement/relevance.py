"""Relevance of a reply to its post: the seed's cosine ramp, the contrastive margin, copying, and readability.

The seed scored relevance as the post/reply cosine similarity on a ramp. A policy games that two ways: a reply that
fits every post ("Great point! What do you think?") is about as close to this post as to any other, and a reply
that repeats the post is as close to it as a reply can be. So the default relevance is *contrastive*: the reply's
similarity to its post minus a high quantile of its similarity to a fixed background of unrelated posts
(:mod:`.references`), the idea of contrastive scoring as in CLIPScore-style retrieval margins (Hessel et al. 2021
use the plain cosine; the margin over negatives is the InfoNCE view of van den Oord et al. 2018). And a reply earns
no relevance for the words it takes from the post: :func:`copy_share` measures that, after mapping first-person
words to second person so that "I finished" mirrored as "you finished" counts as copied.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

import numpy as np

_WORD = re.compile(r"\w+(?:['’]\w+)*")

#: First-person words and their second-person mirror: "I did it" and "you did it" are the same words for copying.
_MIRROR = {
    "i": "you", "me": "you", "my": "your", "mine": "yours", "myself": "yourself", "we": "you", "us": "you",
    "our": "your", "ours": "yours", "ourselves": "yourselves", "am": "are", "i'm": "you're", "im": "you're",
    "i've": "you've", "i'll": "you'll", "i'd": "you'd", "we're": "you're", "we've": "you've", "we'll": "you'll",
    "we'd": "you'd", "was": "were", "u": "you", "ur": "your",
}  # fmt: skip


def relevance(cosine: float, floor: float = 0.1, ceiling: float = 0.5) -> float:
    """Map a similarity (or margin) to [0, 1]: 0 at or below ``floor``, 1 at or above ``ceiling``, linear between.

    With all-MiniLM-L6-v2, replies on the post's topic have cosines of about 0.3-0.8 and unrelated text about
    -0.1-0.15, so the seed's defaults separate the two while two on-topic replies score alike.

    Example:
        >>> relevance(0.62), round(relevance(0.3), 2), relevance(0.02)
        (1.0, 0.5, 0.0)

    """
    return min(1.0, max(0.0, (cosine - floor) / (ceiling - floor)))


def contrastive_margin(
    post: Any, reply: Any, references: Any, quantile: float = 0.9, same_topic: float = 0.5
) -> float:
    """The reply's cosine to its post minus the ``quantile`` of its cosines to the reference posts.

    All vectors are unit length. References at least ``same_topic`` similar to the post itself are left out, so a
    background post that happens to share the topic does not count against a reply that fits it. A generic reply
    is as close to the references as to its post and gets a margin near 0 or below; on ``fixtures/replies.jsonl``
    the good replies' margins run 0.19-0.53, the okay ones' -0.00-0.48, off-topic ones' -0.26 to -0.05.

    Example:
        >>> import numpy as np
        >>> post, reply = np.array([1.0, 0.0]), np.array([0.8, 0.6])
        >>> round(contrastive_margin(post, reply, np.array([[0.0, 1.0], [0.6, -0.8]])), 3)
        0.2

    """
    references = np.asarray(references)
    keep = references @ post < same_topic
    background = references[keep] @ reply if keep.any() else np.zeros(1)
    return float(post @ reply - np.quantile(background, quantile))


def mirrored_words(text: str) -> list[str]:
    """Lower-cased words of ``text`` with first-person words mapped to second person.

    Example:
        >>> mirrored_words("I baked my first loaf")
        ['you', 'baked', 'your', 'first', 'loaf']

    """
    return [_MIRROR.get(word, word) for word in _WORD.findall(text.lower().replace("’", "'"))]


def copy_share(post: str, reply: str, n: int = 2) -> float:
    """Share of the reply's word ``n``-grams (after :func:`mirrored_words`) that occur in the post.

    Replies of fewer than ``n`` words are compared word by word. A reply that repeats the post, mirrored or not,
    scores near 1; a reply that answers it shares a phrase or two ("first marathon") and scores about 0.0-0.2.

    Example:
        >>> round(copy_share("I finished my first marathon today", "You finished your first marathon today! Wow"), 3)
        0.833
        >>> copy_share("I finished my first marathon today", "Congrats, how were the last miles?")
        0.0

    """
    post_words, reply_words = mirrored_words(post), mirrored_words(reply)
    size = n if len(reply_words) >= n else 1
    grams = [tuple(reply_words[i : i + size]) for i in range(len(reply_words) - size + 1)]
    if not grams:
        return 0.0
    known = {tuple(post_words[i : i + size]) for i in range(len(post_words) - size + 1)}
    return sum(gram in known for gram in grams) / len(grams)


def borrowed_share(post: str, reply: str) -> float:
    """Share of the reply's distinct content words (not English function words) that occur in the post.

    A list of the post's keywords ("marathon, first, legs") or one of them repeated scores 1; replies that answer
    the post bring words of their own.

    Example:
        >>> borrowed_share("Snow day! The kids are building a snowman.", "snow, kids, snowman, day")
        1.0
        >>> borrowed_share("Snow day! The kids are building a snowman.", "Are you joining them outside?")
        0.0

    """
    content = {word for word in mirrored_words(reply) if word not in _ENGLISH}
    if not content:
        return 0.0
    return len(content & set(mirrored_words(post))) / len(content)


def own_words(post: str, reply: str) -> str:
    """The reply without the post's content words: what it says of its own, for :func:`novelty`.

    Example:
        >>> own_words("Snow day! The kids are building a snowman.", "Snow day! Great point, what do you think?")
        '! Great point, what do you think?'

    """
    taken = set(mirrored_words(post)) - _ENGLISH

    def keep(match: re.Match) -> str:
        word = match.group(0).lower().replace("’", "'")
        return "" if _MIRROR.get(word, word) in taken else match.group(0)

    return re.sub(r"\s+", " ", _WORD.sub(keep, reply)).strip()


def novelty(own_margin: float) -> float:
    """The share of relevance a reply keeps, from the contrastive margin of its :func:`own_words`, in [0.1, 1].

    A reply that borrows the post's topic words and adds only a template ("Marathon! Great point, what do you
    think?") has its own words' margin near 0 or below, like a generic reply, and keeps a tenth; on
    ``fixtures/replies.jsonl`` the good replies' own words reach a median margin of 0.19 and keep all of it. The
    floor stays above 0 so that a plain on-topic reply ("Congrats on the apartment.") still ranks above an
    off-topic one.

    Example:
        >>> novelty(-0.3), novelty(0.025), novelty(0.2)
        (0.1, 0.55, 1.0)

    """
    return 0.1 + 0.9 * relevance(own_margin, -0.05, 0.1)


def copy_factor(share: float, cosine: float, borrowed: float = 0.0) -> float:
    """How much of the reply is the post, in [0, 1], from its :func:`copy_share`, cosine and :func:`borrowed_share`.

    Any signal counts: n-grams catch the post repeated or mirrored (0 up to a 0.3 share, 1 from 0.6); the cosine
    catches a paraphrase (0 up to 0.8, 1 from 0.92; the 51 good replies of ``fixtures/replies.jsonl`` reach at
    most 0.79, the post with "What do you think?" appended at least 0.86); borrowed words catch keyword lists
    (0 up to a 0.6 share of the content words, 1 from 0.9).

    Example:
        >>> copy_factor(0.1, 0.6), copy_factor(0.8, 0.5), round(copy_factor(0.0, 0.89), 2), copy_factor(0, 0.4, 1)
        (0.0, 1.0, 0.75, 1.0)

    """
    return max(relevance(share, 0.3, 0.6), relevance(cosine, 0.8, 0.92), relevance(borrowed, 0.6, 0.9))


def text_words(text: str) -> list[str]:
    """Lower-cased words of ``text``, as :func:`readable_share` counts them.

    Example:
        >>> text_words("Herzlichen Glückwunsch!")
        ['herzlichen', 'glückwunsch']

    """
    return _WORD.findall(text.lower())


def readable_share(text: str, whole: dict[str, bool]) -> float:
    """Share of the words of ``text`` that the encoder's vocabulary holds whole, looked up in ``whole``.

    A text without words (empty, emoji only) has nothing to misread and scores 1.

    Example:
        >>> readable_share("Herzlichen Glückwunsch zum Marathon", {"herzlichen": False, "glückwunsch": False,
        ...     "zum": False, "marathon": True})
        0.25

    """
    tokens = text_words(text)
    if not tokens:
        return 1.0
    return sum(whole.get(token, False) for token in tokens) / len(tokens)


#: The commonest English function words: a reply with a tenth of its words among them is English to the encoder,
#: however many slang words ("congrats", "lol") its vocabulary splits.
_ENGLISH = frozenset(
    "a an the and or but if so of to in on at for with from by as is are was were be been am do does did have has had"
    " i you he she it we they me him her us them my your his its our their this that these those what who how why"
    " when where which not no yes can will would should could just very too all any some more most such there here"
    " u ur im lol".split()
)


def unreadable(text: str, whole: dict[str, bool], min_readable: float = 0.6) -> str | None:
    """Why an English encoder cannot read ``text``, or None when it can.

    Unreadable: most letters outside the Latin script (Chinese, Arabic, Cyrillic…), or, for four distinct words
    or more, under ``min_readable`` of them known whole to the vocabulary (``whole``) and under a tenth English
    function words (German, Spanish…). Latin-script texts of fewer distinct words are read: too little to tell.

    Example:
        >>> unreadable("مبروك على أول ماراثون", {})
        '100% of letters not Latin'
        >>> unreadable("Herzlichen Glückwunsch zum ersten Marathon", {"marathon": True})
        '20% of words known whole, 0% English function words'
        >>> unreadable("Congrats on the marathon", {}) is None
        True

    """
    letters = [char for char in text if char.isalpha()]
    foreign = sum(not unicodedata.name(char, "").startswith("LATIN") for char in letters)
    if letters and foreign / len(letters) >= 0.5:
        return f"{foreign / len(letters):.0%} of letters not Latin"
    tokens = set(text_words(text))
    if len(tokens) < 4:
        return None
    known = sum(whole.get(token, False) for token in tokens) / len(tokens)
    english = sum(token in _ENGLISH for token in tokens) / len(tokens)
    if known < min_readable and english < 0.1:
        return f"{known:.0%} of words known whole, {english:.0%} English function words"
    return None


def whole_words(tokenizer: Any, distinct: list[str]) -> dict[str, bool]:
    """For each word, whether ``tokenizer`` keeps it as one known token (not split into pieces, not unknown).

    A tokenizer of None (an encoder without one) reads every word.
    """
    if tokenizer is None or not distinct:
        return dict.fromkeys(distinct, True)
    pieces = tokenizer(distinct, add_special_tokens=False)["input_ids"]
    unknown = tokenizer.convert_tokens_to_ids(tokenizer.unk_token) if tokenizer.unk_token else None
    return {word: len(ids) == 1 and ids[0] != unknown for word, ids in zip(distinct, pieces, strict=True)}
