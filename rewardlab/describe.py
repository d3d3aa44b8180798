"""What a reward is, in words: its help (``rewardlab show``) and its signature (settings and version).

The help is read from the reward's own docstring (summary, description, Args, Example) and constructor signature,
so documentation and code cannot drift apart. The signature follows sacrebleu's: the reward, its settings and the
version that produced a number, so two numbers are comparable or visibly not.
"""

from __future__ import annotations

import inspect
import json
import textwrap
from dataclasses import dataclass

from rewardlab import __version__
from rewardlab.registry import lookup
from rewardlab.reward import Reward


def signature(reward: Reward) -> str:
    """A sacrebleu-style signature: the reward, its settings and the version, so two numbers are comparable.

    Example:
        >>> import rewardlab
        >>> signature(rewardlab.get("math-tags"))
        'math-tags|think_prefilled:false|rewardlab:0.1.0'

    """
    parts = [reward.name]
    for key, value in reward.settings().items():
        text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
        parts.append(f"{key}:{text}")
    parts.append(f"rewardlab:{__version__}")
    return "|".join(parts)


@dataclass
class Parameter:
    """One constructor parameter of a reward, as ``rewardlab show`` prints it."""

    name: str
    type: str
    default: str
    help: str


@dataclass
class RewardHelp:
    """What a reward does, the columns it needs, its parameters and an example, read from its class."""

    name: str
    summary: str
    description: str
    columns: list[str]
    parameters: list[Parameter]
    example: str


#: Headers of Google-style docstring sections; the description ends at the first of them.
_SECTIONS = ("Args:", "Attributes:", "Returns:", "Raises:", "Example:", "Examples:")


def describe(name: str) -> RewardHelp:
    """Read a registered reward's help from its docstring (summary, description, Args, Example) and signature.

    Raises:
        ConfigError: ``name`` is not a registered reward.

    Example:
        >>> help = describe("overlong")
        >>> [(p.name, p.type, p.default) for p in help.parameters]
        [('max_length', 'int', '20480'), ('cache', 'int | None', 'None'), ('unit', 'str', "'auto'")]

    """
    cls = lookup(name)
    sections = _doc_sections(inspect.cleandoc(cls.__doc__ or ""))
    summary, _, description = sections.get("", "").partition("\n")
    helps = _arg_helps(sections.get("Args:", ""))
    parameters = []
    if cls.__init__ is not object.__init__:
        for p in inspect.signature(cls.__init__).parameters.values():
            if p.name == "self" or p.kind not in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY):
                continue
            kind = p.annotation if isinstance(p.annotation, str) else getattr(p.annotation, "__name__", "")
            default = "required" if p.default is p.empty else repr(p.default)
            parameters.append(Parameter(p.name, "" if kind is p.empty else kind, default, helps.get(p.name, "")))
    columns = [c if isinstance(c, str) else " or ".join(c) for c in cls.columns]
    example = sections.get("Example:", sections.get("Examples:", ""))
    return RewardHelp(name, summary.strip(), description.strip(), columns, parameters, example.strip("\n"))


def _doc_sections(doc: str) -> dict[str, str]:
    """Split a cleaned docstring into its text before any section ("") and each section's dedented body."""
    sections: dict[str, list[str]] = {"": []}
    current = ""
    for line in doc.splitlines():
        if line.strip() in _SECTIONS and not line.startswith(" "):
            current = line.strip()
            sections[current] = []
        else:
            sections[current].append(line)
    return {key: textwrap.dedent("\n".join(lines)) if key else "\n".join(lines) for key, lines in sections.items()}


def _arg_helps(args: str) -> dict[str, str]:
    """``name: text`` entries of an Args section, continuation lines joined."""
    helps: dict[str, str] = {}
    current = None
    for line in args.splitlines():
        if line and not line.startswith(" ") and ":" in line:
            current, _, text = line.partition(":")
            helps[current] = text.strip()
        elif current and line.strip():
            helps[current] += " " + line.strip()
    return helps
