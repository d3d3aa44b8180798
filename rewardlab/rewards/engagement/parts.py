"""The five parts of engagement that read only the reply: length, sentiment, diversity, punctuation, engagement.

Each is a small pure function of the reply text returning a value in [0, 1], as in the seed (report 004); they
ignore the post, which is why :class:`~rewardlab.rewards.engagement.Engagement` gates them by relevance.
"""

from __future__ import annotations

import math
import re
import unicodedata

_WORD = re.compile(r"\w+(?:['’]\w+)*")
_ALNUM = re.compile(r"[^\W_]")
_BANG_RUN = re.compile(r"[!?]{2,}")
_DOT_RUN = re.compile(r"\.{4,}")
_CLOSERS = "\"'()[]{}»”’*_~"
_SENTENCE_END = ".!?…"

_QUESTION = re.compile(r"[^\W_][\W_]*\?")
_ADDRESS = re.compile(r"\b(?:you|your|yours|yourself|you're|you've|you'll|you'd|u|ur)\b|^\s*@\w", re.IGNORECASE)
_LINK = re.compile(
    r"(?:https?://|www\.)\S+|\b[\w-]+(?:\.[\w-]+)*\.(?:com|net|org|io|biz|shop|store|xyz|info|co|ly|me|app|link)\b"
    r"(?:/\S*)?",
    re.IGNORECASE,
)
_HASHTAG = re.compile(r"(?<![\w#])#\w+")
_MENTION = re.compile(r"(?<![\w@])@\w+")
_SPAM_PHRASES = {
    "follow me": r"\bfollow (?:me|us|for)\b|\bfollow ?4 ?follow\b|\bf4f\b",
    "link in bio": r"\blink in (?:my |the )?bio\b",
    "check out my": r"\bcheck out (?:my|our)\b",
    "dm me": r"\bdm (?:me|us)\b",
    "subscribe": r"\bsubscribe\b|\bsign up (?:now|today|at|here)\b",
    "message us": r"\b(?:message|text|contact) (?:me|us) (?:now|today)\b",
    "tag a friend": r"\btag (?:a|your) friends?\b",
    "free offer": r"\bfree (?:followers|gift|trial|audit|consultation|shipping)\b|\blimited (?:time|spots|offer)\b",
    "click here": r"\bclick (?:here|the link|now)\b",
    "giveaway": r"\bgiveaways?\b",
    "discount code": r"\b(?:use|with) (?:my |the )?code\b|\bpromo code\b|\d+ ?% off\b",
    "buy now": r"\b(?:buy|order|shop) (?:now|today)\b",
    "make money": r"\b(?:earn|make) (?:money|cash|\$)|\bpassive income\b|\bcrypto\b",
}
_SPAM_PHRASE = {name: re.compile(pattern, re.IGNORECASE) for name, pattern in _SPAM_PHRASES.items()}

#: Insults and dismissals that TextBlob's lexicon scores as neutral (or misses) but that make a reply hostile.
_HOSTILE = re.compile(
    r"\b(?:idiot\w*|stupid\w*|dumb\w*|moron\w*|losers?|clowns?|clueless|pathetic|trash|garbage|useless|worthless"
    r"|hopeless|disgusting|gross|embarrassing|nonsense|scam|pretentious|snobs?|slackers?|cheapskate|cringe|lame"
    r"|jerks?|fools?|ignorant|brain ?dead|delusional|hypocrites?|liars?|creeps?|creepy|freaks?|ugly|overrated"
    r"|whin(?:e|es|ing|y)|fuck\w*|shit\w*|crap\w*|bullshit|screw you|you suck|unfollow\w*|shut up|stfu"
    r"|get a life|get lost|get over yourself|act your age|cry (?:more|about it)|couldn't care less"
    r"|(?:nobody|no one|who) (?:cares|asked)|anyone cares|(?:nobody|no one) wants (?:your|this|that)"
    r"|want a (?:medal|cookie)|virtue signal\w*|why (?:even )?bother|don't quit your day job"
    r"|stop (?:posting|talking|whining|bragging)|delete your account|touch grass|what a joke|a joke of"
    r"|waste of (?:time|space)|no idea what you|you(?:'re| are) (?:so |just |completely )?wrong)\b",
    re.IGNORECASE,
)


def word_count(text: str) -> int:
    """Count whitespace-separated tokens that hold a letter or digit (emoji and bare punctuation do not count).

    Example:
        >>> word_count("So proud of you 🎉 !")
        4

    """
    return sum(1 for token in text.split() if _ALNUM.search(token))


def length(text: str, min_words: int = 5, max_words: int = 60) -> float:
    """Score the reply's length: 1 inside ``[min_words, max_words]``, falling off quadratically outside it.

    Below the band the score is ``(n / min_words) ** 2`` (0 for an empty reply, 0.04 for one word with the
    defaults); above it ``(max_words / n) ** 2``.

    Example:
        >>> length(""), round(length("Yum"), 2), length("Congrats on the new job, well deserved!")
        (0.0, 0.04, 1.0)

    """
    n = word_count(text)
    if n < min_words:
        return (n / min_words) ** 2
    if n > max_words:
        return (max_words / n) ** 2
    return 1.0


def hostile_markers(text: str) -> list[str]:
    """Return the insults and dismissals in ``text`` (lower-cased), in order of appearance.

    Example:
        >>> hostile_markers("Nobody cares, you clueless clown.")
        ['nobody cares', 'clueless', 'clown']

    """
    return [match.group(0).lower() for match in _HOSTILE.finditer(text)]


def polarity(text: str) -> float:
    """TextBlob's polarity of ``text`` in [-1, 1] (its pattern lexicon ships with the package; no download)."""
    from textblob import TextBlob

    return float(TextBlob(text).sentiment.polarity)


def sentiment(text: str) -> float:
    """Score the reply's tone: TextBlob polarity mapped from [-1, 1] to [0, 1], lowered by hostile markers.

    TextBlob's lexicon knows adjectives ("awful", "pathetic") but not most insults and dismissals ("loser",
    "shut up", "nobody asked"), so each marker of :func:`hostile_markers` caps the polarity at 0 and takes 0.75
    off it. A neutral reply scores 0.5; a reply without a letter or digit has no tone to credit and scores 0.

    Example:
        >>> sentiment("What a lovely idea, congrats!"), sentiment("Nobody asked, loser.")
        (0.8125, 0.0)

    """
    if not _ALNUM.search(text):
        return 0.0
    value = polarity(text)
    hits = len(hostile_markers(text))
    if hits:
        value = min(value, 0.0) - 0.75 * hits
    return (1.0 + max(-1.0, min(1.0, value))) / 2.0


def words(text: str) -> list[str]:
    """Lower-cased words of ``text`` (letters, digits and inner apostrophes).

    Example:
        >>> words("It's GREAT, it's great!")
        ["it's", 'great', "it's", 'great']

    """
    return _WORD.findall(text.lower())


def diversity(text: str, min_distinct: int = 4) -> float:
    """Score lexical variety: Herdan's C, ``log(distinct) / log(total)`` over words, scaled down for few words.

    Herdan's C (Herdan 1960) is 1 when no word repeats and falls as words and phrases repeat, and it depends less
    on length than the plain type/token ratio. Since repeating a word adds to the total and not to the distinct
    count, it never raises the score. A reply with fewer than ``min_distinct`` distinct words has little variety
    to show and is scaled by ``distinct / min_distinct``; an empty reply scores 0.

    Example:
        >>> diversity("Love the colours in this one."), round(diversity("so true so true so true"), 3)
        (1.0, 0.193)

    """
    tokens = words(text)
    total, distinct = len(tokens), len(set(tokens))
    if total == 0:
        return 0.0
    herdan = 1.0 if total == 1 else math.log(distinct) / math.log(total)
    return herdan * min(1.0, distinct / min_distinct)


def _ends_like_sentence(text: str) -> bool:
    for char in reversed(text):
        if char in _SENTENCE_END:
            return True
        if not (char in _CLOSERS or char.isspace() or unicodedata.category(char).startswith("S")):
            return False
    return False


def punctuation(text: str) -> float:
    """Score how well-formed the reply is: no ``!!!``/``???`` runs, not ALL CAPS, ends like a sentence.

    The score is a product of three factors: ``exp(-0.3 * excess)``, where ``excess`` counts the marks beyond
    the first in each run of ``!``/``?`` (and beyond three in runs of dots); a caps factor falling from 1 to 0 as
    the share of upper-case letters goes from 40 % to 80 % (texts of fewer than six letters are exempt); and
    0.85 when the reply does not end with ``.``, ``!``, ``?`` or ``…`` (closing quotes, brackets and emoji may
    follow). Appending ``!!!!!!`` adds at least 5 to ``excess``, which outweighs the better ending, so it never
    raises the score. A reply without a letter or digit scores 0.

    Example:
        >>> punctuation("Great point, thanks for sharing."), round(punctuation("GREAT POINT!!!!"), 3)
        (1.0, 0.0)

    """
    if not _ALNUM.search(text):
        return 0.0
    excess = sum(len(run) - 1 for run in _BANG_RUN.findall(text))
    excess += sum(len(run) - 3 for run in _DOT_RUN.findall(text))
    cased = [c for c in text if c.isupper() or c.islower()]
    caps = 1.0
    if len(cased) >= 6:
        upper_share = sum(c.isupper() for c in cased) / len(cased)
        caps = 1.0 - min(1.0, max(0.0, (upper_share - 0.4) / 0.4))
    ending = 1.0 if _ends_like_sentence(text) else 0.85
    return math.exp(-0.3 * excess) * caps * ending


def spam_markers(text: str) -> list[str]:
    """Return the spam markers in ``text``: links, a wall of three or more hashtags or mentions, and phrases.

    Example:
        >>> spam_markers("Follow me for more tips! www.example.com #a #b #c")
        ['link', 'hashtags', 'follow me']

    """
    found = ["link"] * len(_LINK.findall(text))
    if len(_HASHTAG.findall(text)) >= 3:
        found.append("hashtags")
    if len(_MENTION.findall(text)) >= 3:
        found.append("mentions")
    found.extend(name for name, pattern in _SPAM_PHRASE.items() if pattern.search(text))
    return found


def engagement(text: str) -> float:
    """Score how much the reply invites an answer, and how little it looks like spam.

    A reply with words starts at 0.4; a question adds 0.35 and addressing the reader ("you", a leading
    ``@name``) adds 0.25. Each marker of :func:`spam_markers` then multiplies the score by 0.3. An empty reply
    scores 0.

    Example:
        >>> engagement("Congrats! How did it feel to finish?"), engagement("Nice shot. Follow me for more!")
        (0.75, 0.12)

    """
    if not _ALNUM.search(text):
        return 0.0
    score = 0.4
    if _QUESTION.search(text):
        score += 0.35
    if _ADDRESS.search(text):
        score += 0.25
    return min(1.0, score) * 0.3 ** len(spam_markers(text))
