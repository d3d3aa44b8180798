"""Insults and spam for the engagement gate, found by maintained offline libraries rather than word lists alone.

- Insults: ``alt-profanity-check`` (a linear SVM over 200k labelled comments, shipped inside the package; no
  download) gives each reply a probability of being offensive. Insults worded kindly ("you absolute simpleton",
  "lovely imbecile") score low there, so a short list of such words backs it up, beside the seed's
  :func:`~rewardlab.rewards.engagement.parts.hostile_markers`.
- Links: ``ioc-fanger`` undoes the usual ways of hiding a link ("hxxp", "[.]", "(dot)") and a rule here the
  spelled-out " dot " between words; ``urlextract`` then finds URLs by the IANA list of top-level domains it ships,
  so "bestlife dot dev" and "bestlife.dev" are both a link while "4.12" and "e.g." are not.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from rewardlab.rewards.engagement.parts import hostile_markers, spam_markers

#: Offensive at or above this alt-profanity-check probability (its own ``predict`` uses 0.5).
OFFENSIVE = 0.5

#: Insults that a profanity model trained on rude comments misses because the words around them are polite.
_KINDLY_WORDED = re.compile(
    r"\b(?:simpletons?|imbeciles?|halfwits?|half-wits?|nitwits?|dimwits?|buffoons?|dunces?|numpties|numpty"
    r"|muppets?|doofus|nincompoops?|ignoramus|cretins?|dolts?|oafs?|twits?|boneheads?|airheads?|knuckleheads?"
    r"|pea-?brain(?:ed)?|bird-?brain(?:ed)?|sweet summer child|bless your (?:little )?heart|bless you, dear"
    r"|not the sharpest|not the brightest|participation trophy|adorably (?:clueless|naive|dim)|little brain"
    r"|poor (?:thing|dear)|cute that you think|how quaint|mediocr\w+)\b",
    re.IGNORECASE,
)
_SPELLED_DOT = re.compile(r"(?<=\w)\s*[\[({<]?\s*\b(?:dot|punkt|point)\b\s*[\])}>]?\s*(?=[a-z]{2,}\b)", re.IGNORECASE)
_SPELLED_SLASH = re.compile(r"\s*[\[({<]?\s*\bslash\b\s*[\])}>]?\s*", re.IGNORECASE)
_TRAILING = re.compile(r"[!?,;:\"'’”)\]]+(?=\s|$)")
#: Top-level domains that are far more often a file name in a reply ("main.py", "setup.sh") than a link.
_FILE_SUFFIXES = frozenset({"py", "sh", "md", "rs", "pl", "ps", "sc"})
_EXTRACTOR: list[Any] = []
_LOCK = threading.Lock()


def offensive_probabilities(texts: Sequence[str]) -> list[float]:
    """alt-profanity-check's probability that each text is offensive, in one batch.

    Example:
        >>> [round(p) for p in offensive_probabilities(["You are an idiot.", "What a lovely garden!"])]
        [1, 0]

    """
    if not texts:
        return []
    from profanity_check import predict_prob

    return [float(p) for p in predict_prob(list(texts))]


def insults(text: str, probability: float) -> list[str]:
    """The insults in ``text``: "offensive", kindly-worded insults, then the seed's hostile markers.

    "offensive" is listed when ``probability`` (alt-profanity-check's) is at least :data:`OFFENSIVE`.

    Example:
        >>> insults("Lovely effort, you absolute simpleton.", 0.4)
        ['simpleton']

    """
    found = ["offensive"] if probability >= OFFENSIVE else []
    found += [match.group(0).lower() for match in _KINDLY_WORDED.finditer(text)]
    return found + hostile_markers(text)


def fang(text: str) -> str:
    """``text`` with hidden links restored: ioc-fanger's rules, then " dot " and " slash " spelled out.

    Example:
        >>> fang("see bestlife dot dev slash offer or hxxps://deals[.]shop")
        'see bestlife.dev/offer or https://deals.shop'

    """
    import ioc_fanger

    text = ioc_fanger.fang(text)
    return (
        _SPELLED_SLASH.sub("/", _SPELLED_DOT.sub(".", text))
        if re.search(r"dot|punkt|point|slash", text, re.I)
        else text
    )


def _extractor() -> Any:
    with _LOCK:
        if not _EXTRACTOR:
            from urlextract import URLExtract

            _EXTRACTOR.append(URLExtract(extract_email=True))
        return _EXTRACTOR[0]


@lru_cache(maxsize=4096)
def links(text: str) -> tuple[str, ...]:
    """The links in ``text``, hidden ones included (see :func:`fang`).

    Example:
        >>> links("Finished at 4.12, e.g. slow, edited main.py. Visit bestlife dot dev!")
        ('bestlife.dev',)

    """
    found = _extractor().find_urls(_TRAILING.sub(" ", fang(text)), only_unique=True)
    return tuple(url for url in found if "/" in url or url.lower().rsplit(".", 1)[-1] not in _FILE_SUFFIXES)


def spam(text: str) -> list[str]:
    """The spam in ``text``: each link (hidden or not), then the seed's other spam markers (hashtag walls, phrases).

    Example:
        >>> spam("More tips at grow dot io, link in bio")
        ['link: grow.io', 'link in bio']

    """
    return [f"link: {url}" for url in links(text)] + [marker for marker in spam_markers(text) if marker != "link"]


def safety_gate(insult_markers: Sequence[str], spam_found: Sequence[str], per_marker: float = 0.3) -> float:
    """The gate for insults and spam: ``per_marker`` to the power of the markers found, 1 for a clean reply.

    Example:
        >>> safety_gate([], []), safety_gate(["offensive"], []), round(safety_gate(["simpleton"], ["link: a.io"]), 2)
        (1.0, 0.3, 0.09)

    """
    return per_marker ** (len(insult_markers) + len(spam_found))
