r"""Which part of a completion is its final answer, by one rule, and that answer written the way math-verify reads it.

The rule, as the field's graders read a solution (lm-evaluation-harness's and Qwen2.5-Math's graders take the last
``\boxed{}``; GSM8K writes ``#### N``; Minerva's prompts end "Final Answer: The final answer is N"), applied to the
answer region (:func:`rewardlab.rewards.math.answers.answer_region`: the answer block, else what follows the
reasoning, so reasoning text never anchors an answer):

1. the last ``\boxed{}`` (or ``\fbox{}``): a self-correction's later box is the answer; words in it are read as
   after an anchor (``\boxed{18 dollars}`` is 18); boxes that only commas, "and" or spaces part are one answer in
   parts (``\boxed{1}, \boxed{2}`` is the list 1, 2); an answer phrase after the last box says the final word;
2. else, inside an ``<answer>`` block, its content is the answer, read by the next rules and then whole;
3. else GSM8K's last ``#### N`` line;
4. else the last explicit phrase "answer is …", "answer: …", "Final Answer: …" (the math or number that follows it
   in its sentence; "Final Answer: The largest $n$ is 34." gives 34);
5. else the last math span (``$…$``, ``\(…\)``, ``\[…\]``), when no other math span of its sentence (after its
   last "is" or "=") says something else ("So $a=3$ and $b=5$." cannot be decided);
6. else a text that is all math (``23.0``, ``1/2``), read whole. A number in prose without an anchor is no answer.

Where the rule finds two different answers at one place (two numbers after "The answer is"), it cannot decide: the
reward is then None with the reason, never a guess. Before math-verify reads the answer, :func:`normalise` writes
it as LaTeX it reads right: mixed numbers (``4 4/9``), digit groups (``1 234 567``, ``1{,}234``, thin spaces),
trailing punctuation inside math (``$42.$``), ``\sqrt 2``, ``\frac94``, ``\bigl( \bigr)``, ``\lt``, percent words
and currency; units in ``\text{}`` are math-verify's to strip.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: LaTeX commands and the arguments that hold words (units, labels, environment names), set aside to look for prose.
LATEX_WORDS_RE = re.compile(r"\\(?:text\w*|mathrm|mbox|operatorname|begin|end)\s*\{[^{}]*\}|\\[A-Za-z]+")
#: A word: two or more letters.
WORD_RE = re.compile(r"[A-Za-z]{2,}")
BOXED_RE = re.compile(r"\\(?:boxed|fbox)\s*")
ANSWER_BLOCK_RE = re.compile(r"\A\s*<answer>(.*?)(?:</answer>\s*)?\Z", re.DOTALL)
GSM8K_RE = re.compile(r"^[ \t]*####[ \t]*(.*)$", re.MULTILINE)
#: "answer is", "answer:", "Final Answer:" (bold or not), and "answer to this problem is".
PHRASE_RE = re.compile(
    r"\banswer(?:\s+to\s+(?:this|the)\s+(?:question|problem))?\**\s*(?:is\b|:|=)\**\s*:?", re.IGNORECASE
)
#: Math spans; a closing ``$`` is never followed by a digit (so "costs $5 and $10" holds none, as pandoc reads it), a
#: span of prose is none either (see :func:`spans`), and an escaped ``\$`` is a dollar sign.
SPAN_RE = re.compile(
    r"\$\$(?P<d>.+?)\$\$|\\\[(?P<b>.+?)\\\]|\\\((?P<p>.+?)\\\)|(?<![\\$])\$(?P<s>(?:\\\$|[^$])+?)(?<!\\)\$(?!\d)",
    re.DOTALL,
)
#: What may stand between the boxes of one answer in parts: ``\boxed{1}, \boxed{2} \quad\text{and}\quad \boxed{3}``.
BOX_JOINER_RE = re.compile(r"(?:\s|[,;$]|\\[()\[\]]|\\q?quad|\\text\{\s*(?:and|,)?\s*\}|\band\b)*")
#: The end of a sentence: a full stop, question or exclamation mark before a space or the end (not ``3.5``).
SENTENCE_END_RE = re.compile(r"[.!?](?=\s|\Z)|\n")
#: What a sentence says its answer is, after the anchor: the text after its last " is " or "=".
IS_RE = re.compile(r"\b(?:is|are|equals|was|be)\b|=")
#: Math delimiters math-verify's LaTeX extraction looks for (an escaped ``\$`` is a dollar sign, not a delimiter).
DELIMITED_RE = re.compile(r"(?<!\\)\$|\\\(|\\\[|\\boxed")
#: An integer as :func:`normalise` writes one.
INTEGER_RE = re.compile(r"-?\d+")
#: A number in prose: a mixed number, a fraction or a decimal with digit groups, with its percent sign.
NUMBER_RE = re.compile(r"-?\d+\s+\d+/\d+|-?\d[\d,]*(?:\.\d+)?(?:/\d+)?\s*\\?%?")


@dataclass(frozen=True)
class Extracted:
    """The final answer of one completion, as the rule found it.

    Attributes:
        text: The answer, normalised LaTeX for math-verify; None when there is none.
        rule: Which rule found it: "boxed", "answer-tag", "gsm8k", "phrase", "math-span", "whole", or "none".
        reason: Why there is no answer (set when ``text`` is None).
        undecided: The rule found two different answers at one place: no verdict (None), not a wrong answer.

    """

    text: str | None
    rule: str
    reason: str | None = None
    undecided: bool = False


NO_ANSWER = Extracted(None, "none", "no final answer: no \\boxed{}, answer tag, #### line, answer phrase or math")


def is_prose(text: str) -> bool:
    r"""Whether ``text`` reads as words rather than math once LaTeX commands and ``\text{}`` are set aside.

    Prose: two words of two or more letters, a word of four or more, "or" or "and" between two things (a hedge, not
    a product o·r), or nothing but one word ("yes", which LaTeX would read as the product y·e·s).

    Example:
        >>> is_prose("just words"), is_prose("yes"), is_prose("2xy"), is_prose("\\pi"), is_prose("12 \\text{ cm}")
        (True, True, False, False, False)

    """
    rest = LATEX_WORDS_RE.sub(" ", text)
    words = WORD_RE.findall(rest)
    if len(words) >= 2 or any(len(word) >= 4 or word.lower() in ("or", "and") for word in words):
        return True
    return bool(words) and words == rest.split()


def final_answer(region: str) -> Extracted:
    r"""Find the final answer of an answer region by the module's rule, normalised for math-verify.

    Example:
        >>> final_answer("first I thought \\boxed{3}, but no: \\boxed{5}")
        Extracted(text='5', rule='boxed', reason=None, undecided=False)
        >>> final_answer("She pays 2 * 9 = 18 dollars.\n#### 1,018").text
        '1018'
        >>> final_answer("Final Answer: The largest $n$ is 34.").text
        '34'
        >>> final_answer("The answer is 3 or 5.").undecided
        True

    """
    boxes = _boxes(region)
    if boxes:
        after = [m for m in PHRASE_RE.finditer(region) if m.start() >= boxes[-1][1]]
        found = _said(_sentence_from(region, after[-1].end())) if after else None
        if found is not None and found.text is not None:  # "\boxed{255} … Final Answer: The final answer is 10,455"
            return Extracted(found.text, "phrase")
        return _boxed_answer(region, boxes)
    block = ANSWER_BLOCK_RE.match(region)
    content = block.group(1) if block else region
    for rule, find in (("gsm8k", _gsm8k), ("phrase", _phrase), ("math-span", _last_span)):
        found = find(content)
        if found is not None:
            return Extracted(found.text, rule, found.reason, found.undecided)
    if block:
        found = plain(content)
        return NO_ANSWER if found is None else Extracted(found.text, "answer-tag", found.reason, found.undecided)
    content = _words_to_math(content)
    if content.strip() and not is_prose(content):
        return Extracted(normalise(content), "whole")
    return NO_ANSWER


def boxed(text: str) -> list[str]:
    r"""The contents of every ``\boxed{…}`` and ``\fbox{…}`` in ``text``, braces balanced (``\boxed 5`` too).

    Example:
        >>> boxed("\\boxed{\\frac{1}{2}} then \\boxed 7")
        ['\\frac{1}{2}', '7']

    """
    return [content for _, _, content in _boxes(text)]


def _boxes(text: str) -> list[tuple[int, int, str]]:
    """Each box as (where it starts, where it ends, its content)."""
    found = []
    for match in BOXED_RE.finditer(text):
        start = match.end()
        if start < len(text) and text[start] != "{":
            word = re.match(r"[^\s$.,]+", text[start:])
            if word:
                found.append((match.start(), start + word.end(), word.group(0)))
            continue
        depth = 0
        for index in range(start, len(text)):
            depth += {"{": 1, "}": -1}.get(text[index], 0)
            if depth == 0:
                found.append((match.start(), index + 1, text[start + 1 : index]))
                break
    return found


def _boxed_answer(region: str, boxes: list[tuple[int, int, str]]) -> Extracted:
    r"""The last box, and the boxes before it that only commas, "and" or spaces part from it (one answer in parts).

    Boxes with words between them are a self-correction: only the last counts. Boxes in parts are read as the list of
    their contents, so a hedge ``\boxed{3}, \boxed{5}`` is the set {3, 5}, which equals no single number.
    """
    first = len(boxes) - 1
    while first > 0 and BOX_JOINER_RE.fullmatch(region[boxes[first - 1][1] : boxes[first][0]]):
        first -= 1
    answers = []
    for _, _, content in boxes[first:]:
        found = plain(content) if is_prose(content) else Extracted(normalise(content) or None, "boxed")
        if found is None or found.text is None:
            reason = found.reason if found is not None and found.undecided else "the last \\boxed{} holds no math"
            return Extracted(None, "boxed", reason, found is not None and found.undecided)
        answers.append(found.text)
    return Extracted(", ".join(answers), "boxed")


def _spans(text: str) -> list[re.Match[str]]:
    """The math spans of ``text``: delimited, and not prose (``$5 and $`` is two amounts, not math)."""
    return [m for m in SPAN_RE.finditer(text) if len(_content(m).split()) < 2 or not is_prose(_content(m))]


def _gsm8k(text: str) -> Extracted | None:
    lines = GSM8K_RE.findall(text)
    if not lines:
        return None
    found = plain(lines[-1])
    return found or Extracted(None, "gsm8k", "the #### line holds no number or math")


def _phrase(text: str) -> Extracted | None:
    matches = list(PHRASE_RE.finditer(text))
    if not matches:
        return None
    sentence = _sentence_from(text, matches[-1].end())
    return _said(sentence)  # None for "The answer is clear.": the next rule looks for an answer


def _said(sentence: str) -> Extracted | None:
    """What a sentence that follows an anchor gives as the answer: its math or its number, the part after "is"."""
    spans = [m.start() for m in _spans(sentence)]
    if not (spans and sentence[: spans[0]].strip(" :*")):
        return plain(sentence)  # the anchor is followed at once by math, or there is no math span
    tail = list(IS_RE.finditer(_blank_spans(sentence)))
    return plain(sentence[tail[-1].end() :]) if tail else plain(sentence)


def _last_span(text: str) -> Extracted | None:
    spans = _spans(text)
    if not spans:
        return None
    last = spans[-1]
    blanked = _blank_spans(text)
    ends = [m.end() for m in SENTENCE_END_RE.finditer(blanked, 0, last.start())]
    start = ends[-1] if ends else 0
    verbs = list(IS_RE.finditer(blanked, start, last.start()))  # "the pair $(x, y)$ that solves it is $(7, 6)$"
    start = verbs[-1].end() if verbs else start
    said = {normalise(_content(m)) for m in spans if m.start() >= start}
    if len(said) > 1:
        return Extracted(None, "math-span", "the last sentence holds different math: " + ", ".join(sorted(said)), True)
    text = normalise(_content(last))
    return Extracted(text, "math-span") if text else None


def plain(text: str) -> Extracted | None:
    r"""Read an answer written after an anchor: its one math span, all of it when it is math, or its one number.

    None when it holds no math and no number; undecided when it holds two different ones.

    Example:
        >>> plain("Janet makes $18 every day.").text, plain("3 1/2 cups").text, plain("28 percent").text
        ('18', '(3+1/2)', '28\\%')

    """
    spans = {normalise(_content(m)) for m in _spans(text)} - {""}
    if len(spans) > 1:
        return Extracted(None, "plain", "different math after the anchor: " + ", ".join(sorted(spans)), True)
    if spans:
        return Extracted(spans.pop(), "plain")
    text = _words_to_math(text)
    if text.strip() and not is_prose(text):
        value = normalise(text)
        return Extracted(value, "plain") if value else None
    numbers = {normalise(n) for n in NUMBER_RE.findall(text)}
    if len(numbers) > 1:
        return Extracted(None, "plain", "different numbers after the anchor: " + ", ".join(sorted(numbers)), True)
    return Extracted(numbers.pop(), "plain") if numbers else None


def _sentence_from(text: str, start: int) -> str:
    """The text from ``start`` to the end of its sentence (math spans are not cut at their full stops)."""
    blanked = _blank_spans(text)
    lead = len(blanked) - start - len(blanked[start:].lstrip(" \t\n:*"))
    end = SENTENCE_END_RE.search(blanked, start + lead)
    return text[start : end.start() if end else len(text)]


def _blank_spans(text: str) -> str:
    """``text`` with each math span's content replaced by spaces, so its dots and equals signs are not read."""
    for match in _spans(text):
        text = text[: match.start() + 1] + " " * (match.end() - match.start() - 2) + text[match.end() - 1 :]
    return text


def _content(match: re.Match[str]) -> str:
    return next(group for group in match.groups() if group is not None)


#: Percent written as a word, and dollar signs in prose (the amount is the answer).
_WORDS = [(re.compile(r"(\d)\s*(?:percent|per\s+cent)\b", re.IGNORECASE), r"\1\\%"), (re.compile(r"\\?\$"), " ")]


def _words_to_math(text: str) -> str:
    for pattern, replacement in _WORDS:
        text = pattern.sub(replacement, text)
    return text


_FULL_WIDTH = str.maketrans({chr(0xFF10 + d): str(d) for d in range(10)})
#: Rewrites applied in order by :func:`normalise`: (pattern, replacement).
_NORMALISE = [
    # Unicode minus, no-break and thin spaces, full-width digits, the degree sign.
    (re.compile("[\u00a0\u2009\u202f\u2007]"), " "),
    (re.compile("\u2212"), "-"),
    (re.compile("°"), r"^\\circ"),
    # Spacing commands carry no value; ``{,}`` is a comma written so LaTeX adds no space after it.
    (re.compile(r"(?<=\d),\\!\s*(?=\d{3})"), ","),
    (re.compile(r"(?<!\\)\\[,!;:]"), ""),
    (re.compile(r"~"), " "),
    (re.compile(r"(?<!\\)\\ "), " "),
    (re.compile(r"\{,\}"), ","),
    # Sizing of delimiters: ``\bigl(k\bigr)`` is ``(k)``.
    (re.compile(r"\\(?:left|right|[bB]igg?[lrm]?)(?![A-Za-z])\s*"), ""),
    (re.compile(r"\\lt(?![A-Za-z])"), "<"),
    (re.compile(r"\\gt(?![A-Za-z])"), ">"),
    (re.compile(r"\\le(?![A-Za-z])"), r"\\leq"),
    (re.compile(r"\\ge(?![A-Za-z])"), r"\\geq"),
    # One-token arguments: ``\sqrt 2``, ``\frac94``, ``\frac 9 4``.
    (re.compile(r"\\sqrt\s*([0-9A-Za-z])"), r"\\sqrt{\1}"),
    (re.compile(r"\\[dt]?frac\s*([0-9A-Za-z])\s*([0-9A-Za-z])"), r"\\frac{\1}{\2}"),
    (re.compile(r"\\[dt]frac(?![A-Za-z])"), r"\\frac"),
    # ``\mathrm{e}`` is the constant e; a longer ``\mathrm{}`` is a unit or a label.
    (re.compile(r"\\mathrm\{\s*([A-Za-z])\s*\}"), r"\1"),
    (re.compile(r"\\mathrm\{([^{}]*)\}"), r"\\text{\1}"),
    (re.compile(r"\\\$"), ""),
    # Digit groups: ``1 234 567`` (not ``4 4/9``, a mixed number).
    (re.compile(r"(?<![\d.,/])(\d{1,3})((?: \d{3})+)(?![\d/]|\s*/|\s*\\frac)"), lambda m: m.group(0).replace(" ", "")),
    # Mixed numbers: ``4 4/9`` is 4 + 4/9, not 4·4/9 (a proper fraction after a whole number).
    (re.compile(r"(?<![\d.\\}])(\d+) +(\d+)/(\d+)(?![\d.])"), lambda m: _mixed(*m.groups()) or m.group(0)),
]


def _mixed(whole: str, numerator: str, denominator: str) -> str | None:
    return f"({whole}+{numerator}/{denominator})" if 0 < int(numerator) < int(denominator) else None


#: Punctuation that ends a sentence and is no part of the answer: ``$42.$``, ``\boxed{42.}``, ``1/3.``.
_TRAILING_RE = re.compile(r"(?:\s|[.,;:]|\\\.)+\Z")
#: A number written with comma digit groups and nothing else (``1,018``; not a pair ``(1,018)`` nor ``1,5``).
_GROUPED_RE = re.compile(r"-?\d{1,3}(?:,\d{3})+(?:\.\d+)?")


def normalise(answer: str) -> str:
    r"""Write an answer as LaTeX that math-verify reads as a careful grader would.

    Example:
        >>> normalise("4 4/9"), normalise("1 234 567"), normalise("1{,}234"), normalise("42.")
        ('(4+4/9)', '1234567', '1234', '42')
        >>> normalise("\\frac94\\pi"), normalise("\\sqrt 2"), normalise("\\bigl(k\\bigr)"), normalise("\\mathrm{e}")
        ('\\frac{9}{4}\\pi', '\\sqrt{2}', '(k)', 'e')

    """
    text = answer.translate(_FULL_WIDTH).strip()
    for pattern, replacement in _NORMALISE:
        text = pattern.sub(replacement, text)
    text = _TRAILING_RE.sub("", " ".join(text.split()))
    return text.replace(",", "") if _GROUPED_RE.fullmatch(text) else text


def settled(gold: str, answer: str) -> bool | None:
    r"""Whether a normalised ``answer`` equals a bare ``gold`` where the text alone settles it, else None.

    The same text on both sides is equal (math-verify would parse both alike), and two integers compare as integers:
    the many plain answers of a GRPO batch need no parse. Anything else is math-verify's to judge.

    Example:
        >>> settled("1,018", "1018"), settled("12", "13"), settled("\frac{1}{2}", "0.5")
        (True, False, None)

    """
    if DELIMITED_RE.search(gold) or is_prose(gold):
        return None
    gold = normalise(gold.translate(_MINUS))
    if gold == answer:
        return True
    if INTEGER_RE.fullmatch(gold) and INTEGER_RE.fullmatch(answer):
        return int(gold) == int(answer)
    return None


_MINUS = str.maketrans({"\u2212": "-"})
