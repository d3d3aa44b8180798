"""Polychromic rewards: any reward turned into a score of the sets a completion belongs to, reward × diversity.

Hamid, Orney, Xu, Finn and Sadigh, "Polychromic Objectives for Reinforcement Learning" (ICLR 2026,
arXiv:2509.25424) score a *set* of n generations for one prompt by the polychromic objective (section "Polychromic
objectives"):

    f_poly(s, y_1..n) = (1/n · Σ_i R(s, y_i)) · d(s, y_1..n)

— the set's mean reward times its diversity — and train with a set-level advantage that every member of a set
shares, estimated from several sets drawn out of the N samples of the same prompt (section "Polychromic PPO"; the
authors call a generation's resulting advantage its marginal advantage: the mean score of the sets that hold it
minus the mean score of all sets).
In GRPO the samples of one prompt are its group, and the advantage is the group-normalised reward, so the
objective becomes a group-level transform of the rewards: each completion's value is the mean f_poly of the sets of
``set_size`` completions of its group that contain it. GRPO's group mean of these values is the mean over all sets,
so a completion's advantage is, as in the paper, how much better the sets holding it do than the group's sets.

The paper measures diversity on the outcomes of its environments; for text we take either ``lexical`` (1 −
Self-BLEU of the set, computed as ``evalkit`` computes Self-BLEU) or ``embedding`` (mean pairwise cosine distance
under the engagement reward's sentence-transformers model). Like the paper's success rates, rewards are meant to be
≥ 0: a negative reward multiplied by a diversity makes a diverse set worse, not better.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import random
from collections.abc import Callable, Sequence
from typing import Any

from rewardlab.errors import RewardlabError
from rewardlab.metrics.selfbleu import sentence_self_bleu
from rewardlab.metrics.tokens import token_ids
from rewardlab.registry import build, register
from rewardlab.reward import Reward, Score, group_keys
from rewardlab.rewards.engagement import DEFAULT_MODEL, load_encoder
from rewardlab.text import to_text
from rewardlab.user import as_reward_value as _as_reward_value

DIVERSITIES = ("lexical", "embedding")


def lexical_diversity(texts: Sequence[str]) -> float:
    """Return 1 − Self-BLEU of a set of texts, in [0, 1].

    Self-BLEU (Zhu et al., 2018) exactly as ``evalkit`` computes it (:mod:`rewardlab.metrics.selfbleu`): each text's
    sentence BLEU against the others (sacrebleu, exp smoothing, effective order, capped at 1), averaged. One
    difference, on purpose: a text with no tokens repeats another text with no tokens (sacrebleu scores it 0), so a
    set of empty completions has diversity 0, not 1.

    Example:
        >>> lexical_diversity(["the cat sat", "the cat sat"])
        0.0
        >>> lexical_diversity(["the cat sat", "a dog ran off"])
        1.0

    """
    if len(texts) < 2:
        raise ValueError(f"diversity needs at least two texts, got {len(texts)}")
    tokens = token_ids(list(texts))
    scores = sentence_self_bleu(tokens)
    empty = [length == 0 for length in tokens.lengths.tolist()]
    repeated_empty = 1.0 if sum(empty) > 1 else 0.0
    scores = [repeated_empty if blank else score for score, blank in zip(scores, empty, strict=True)]
    return 1.0 - math.fsum(scores) / len(scores)


def embedding_diversity(texts: Sequence[str], vectors: dict[str, Any]) -> float:
    """Return the mean pairwise cosine distance (1 − cosine, clamped to [0, 2]) of a set of texts.

    Args:
        texts: The set (at least two texts).
        vectors: A unit-length embedding per distinct text.

    Example:
        >>> embedding_diversity(["a", "b", "a"], {"a": [1.0, 0.0], "b": [0.0, 1.0]})
        0.6666666666666666

    """
    if len(texts) < 2:
        raise ValueError(f"diversity needs at least two texts, got {len(texts)}")
    distances = []
    for a, b in itertools.combinations(texts, 2):
        cosine = 1.0 if a == b else math.fsum(x * y for x, y in zip(vectors[a], vectors[b], strict=True))
        distances.append(min(2.0, max(0.0, 1.0 - cosine)))
    return math.fsum(distances) / len(distances)


def member_sets(size: int, set_size: int, num_sets: int, rng: random.Random) -> list[list[tuple[int, ...]]]:
    """For each of ``size`` members, the sets of ``set_size`` members that contain it (as sorted index tuples).

    Every such set when there are at most ``num_sets`` of them (exact); else ``num_sets`` drawn at random.

    Example:
        >>> member_sets(3, 2, 8, random.Random(0))
        [[(0, 1), (0, 2)], [(0, 1), (1, 2)], [(0, 2), (1, 2)]]

    """
    sets = []
    for member in range(size):
        others = [i for i in range(size) if i != member]
        if math.comb(size - 1, set_size - 1) <= num_sets:
            partners = list(itertools.combinations(others, set_size - 1))
        else:
            partners = [rng.sample(others, set_size - 1) for _ in range(num_sets)]
        sets.append([tuple(sorted((member, *p))) for p in partners])
    return sets


@register("polychromic")
class Polychromic(Reward):
    """A reward's polychromic version: the mean of (mean reward × diversity) over the sets of its group holding it.

    Hamid et al. (ICLR 2026), polychromic objective and Polychromic PPO; see the module docstring. Rows whose base
    reward is None stay None and are left out of every set; a group with fewer than two scored rows cannot form a
    set and gets None. Sets come from a generator seeded with ``seed`` and the group's texts, so the values are the
    same on every run and do not depend on the order of the rows. Components: ``reward`` (the base reward),
    ``diversity`` (the mean diversity of the row's sets) and the base reward's components as ``reward/NAME``.

    Args:
        reward: The base reward: a spec for :func:`rewardlab.build` (``engagement``, ``file.py:function``), a
            :class:`~rewardlab.Reward`, or a plain TRL reward function.
        set_size: Completions per set (the paper's n); a group with fewer scored rows uses them all.
        diversity: ``lexical`` (1 − Self-BLEU of the set) or ``embedding`` (mean pairwise cosine distance).
        num_sets: Sets per row at most; when a row belongs to fewer, all of them are used.
        seed: Seed of the set draws.
        params: Constructor parameters of ``reward`` when it is a spec.
        model: The sentence-transformers model of ``embedding`` diversity (default: engagement's).

    Example:
        >>> def brevity(completions, **kwargs):
        ...     return [1.0 / len(c.split()) for c in completions]
        >>> reward = Polychromic(brevity, set_size=2)
        >>> reward.__name__
        'polychromic(brevity)'
        >>> reward(["Hi?"] * 3, ["hello there", "hello there", "good morning to you"])
        [0.1875, 0.1875, 0.375]

    """

    group_level = True

    def __init__(
        self,
        reward: str | Callable[..., Any],
        set_size: int = 4,
        diversity: str = "lexical",
        num_sets: int = 64,
        seed: int = 0,
        params: dict[str, Any] | None = None,
        model: str = DEFAULT_MODEL,
    ) -> None:
        for name, value, least in (("set_size", set_size, 2), ("num_sets", num_sets, 1)):
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                raise ValueError(f"{name} must be a whole number >= {least}, not {value!r}")
        if diversity not in DIVERSITIES:
            raise ValueError(f"diversity must be one of {', '.join(DIVERSITIES)}, not {diversity!r}")
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise ValueError(f"seed must be a whole number, not {seed!r}")
        if params is not None and not isinstance(reward, str):
            raise ValueError("params apply to a reward given by name; build the reward with them instead")
        self.reward = reward
        self.set_size = set_size
        self.diversity = diversity
        self.num_sets = num_sets
        self.seed = seed
        self.params = params
        self.model = model
        self._inner: Any = build(reward, params=params) if isinstance(reward, str) else reward
        if not callable(self._inner):
            raise ValueError(f"reward must be a reward spec or a callable, not {reward!r}")
        self.inner_name = _name_of(self._inner)
        self.name = f"polychromic({self.inner_name})"
        self.columns = tuple(getattr(self._inner, "columns", ()))

    def __getstate__(self) -> dict[str, Any]:
        return {"reward": self.reward, **{k: v for k, v in super().settings().items() if k != "reward"}}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(**state)

    def settings(self) -> dict[str, Any]:
        """Return the constructor arguments, the base reward by its spec or name."""
        return {**super().settings(), "reward": self.reward if isinstance(self.reward, str) else self.inner_name}

    def score(self, prompts: Sequence[Any], completions: Sequence[Any], **columns: Any) -> list[Score]:
        """Score the batch with the base reward, then every scored row by the sets of its group it belongs to."""
        base = self._base_scores(prompts, completions, columns)
        texts = [to_text(c) for c in completions]
        keys = group_keys(prompts, columns.get("prompt_id"), len(texts))
        groups: dict[Any, list[int]] = {}
        for index, (key, s) in enumerate(zip(keys, base, strict=True)):
            if s.value is not None:
                groups.setdefault(key, []).append(index)
        vectors = self._embed([texts[i] for rows in groups.values() for i in rows if len(rows) > 1])
        values: dict[int, tuple[float, float, int, int]] = {}
        for rows in groups.values():
            if len(rows) > 1:
                values.update(
                    self._group_values(rows, [texts[i] for i in rows], [base[i].value for i in rows], vectors)
                )
        scores = []
        for index, s in enumerate(base):
            components = {"reward": s.value, **{f"reward/{k}": v for k, v in s.components.items()}}
            details = {"reward": s.details} if s.details else {}
            if index not in values:
                reason = "the base reward is None" if s.value is None else "no other scored completion in its group"
                scores.append(Score(None, {**components, "diversity": None}, {**details, "reason": reason}))
                continue
            value, diversity, sets, size = values[index]
            details.update(sets=sets, set_size=size)
            scores.append(Score(value, {**components, "diversity": diversity}, details))
        return scores

    def _group_values(
        self, rows: list[int], texts: list[str], rewards: list[float], vectors: dict[str, Any]
    ) -> dict[int, tuple[float, float, int, int]]:
        """Per row of one group: mean polychromic score and mean diversity of its sets, their count and size."""
        # Members in a canonical order and a generator seeded by the group's content: the draws, and so the values,
        # do not depend on the order of the rows (equal rows get equal values).
        order = sorted(range(len(rows)), key=lambda i: (texts[i], rewards[i]))
        content = json.dumps([self.seed, sorted(texts)], ensure_ascii=False).encode()
        rng = random.Random(hashlib.sha256(content).hexdigest())
        size = min(self.set_size, len(rows))
        cache: dict[tuple[str, ...], float] = {}

        def set_diversity(members: tuple[int, ...]) -> float:
            key = tuple(sorted(texts[order[m]] for m in members))
            if key not in cache:
                cache[key] = (
                    lexical_diversity(key) if self.diversity == "lexical" else embedding_diversity(key, vectors)
                )
            return cache[key]

        done: dict[tuple[str, float], tuple[float, float, int, int]] = {}
        out = {}
        for position, sets in enumerate(member_sets(len(rows), size, self.num_sets, rng)):
            i = order[position]
            identity = (texts[i], rewards[i])
            if identity not in done:
                scores, diversities = [], []
                for members in sets:
                    d = set_diversity(members)
                    diversities.append(d)
                    scores.append(math.fsum(rewards[order[m]] for m in members) / size * d)
                done[identity] = (
                    math.fsum(scores) / len(scores),
                    math.fsum(diversities) / len(diversities),
                    len(sets),
                    size,
                )
            out[rows[i]] = done[identity]
        return out

    def _base_scores(self, prompts: Sequence[Any], completions: Sequence[Any], columns: dict[str, Any]) -> list[Score]:
        if isinstance(self._inner, Reward):
            scores = list(self._inner.score(prompts, completions, **columns))
        else:
            values = self._inner(prompts=list(prompts), completions=list(completions), **columns)
            scores = [Score(_as_reward_value(self.inner_name, i, v)) for i, v in enumerate(values)]
        if len(scores) != len(completions):
            raise RewardlabError(
                f"reward '{self.inner_name}' returned {len(scores)} values for {len(completions)} completions"
            )
        return scores

    def _embed(self, texts: list[str]) -> dict[str, Any]:
        if self.diversity != "embedding" or not texts:
            return {}
        distinct = list(dict.fromkeys(texts))
        encoded = load_encoder(self.model).encode(distinct, normalize_embeddings=True, convert_to_numpy=True)
        return {text: vector.tolist() for text, vector in zip(distinct, encoded, strict=True)}


def _name_of(reward: Any) -> str:
    if isinstance(reward, Reward):
        return reward.name
    return getattr(reward, "__name__", None) or type(reward).__name__
