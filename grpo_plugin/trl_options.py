"""Every field of TRL's own settings (``GRPOConfig`` or ``SFTConfig``, and ``ModelConfig``) as an option and a key.

TRL's scripts (``trl grpo``, open-r1's ``grpo.py``) build their command line with ``TrlParser`` over these
dataclasses. Here the same dataclasses are read field by field, at the moment a command line is parsed, so a field a
TRL upgrade adds is an option with no change here: its name (``--loss-type``, or TRL's ``--loss_type``), its help
text and its default are TRL's. What rewardlab decides itself stays in :class:`~grpo_plugin.config.RunConfig` and
its subclasses (the same name there wins); the TRL values a user gives travel in ``RunConfig.trl``.

Values from the command line are text and are read as the field's type says (``true``/``false``, numbers,
``a,b`` or ``[a, b]`` for lists, ``{k: v}`` for mappings); values from YAML must already be of that type. A value
that is not is a :class:`~rewardlab.errors.ConfigError` naming the option.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import math
import types
import typing
from collections.abc import Mapping
from typing import Any

import yaml

from rewardlab.errors import ConfigError

#: TRL's names for settings that rewardlab names otherwise: both are accepted.
ALIASES = {"num_train_epochs": "epochs", "model_name_or_path": "model", "use_peft": "lora"}

#: TRL fields that are set from one of our options instead.
EXCLUDED = {"reward_weights": "--weights"}

#: TRL fields whose value, unless given, follows the device (bf16 and pinned memory on a GPU, use_cpu without one);
#: the record of a run writes them only when given, so the same file runs on another machine as it would anew.
DEVICE_DEPENDENT = ("bf16", "fp16", "use_cpu", "dataloader_pin_memory")

_TEXT_TRUE = ("true", "yes", "on", "1")
_TEXT_FALSE = ("false", "no", "off", "0")


@dataclasses.dataclass(frozen=True)
class TrlField:
    """One TRL setting: where it comes from, the types it takes, its default and TRL's help text."""

    name: str
    owner: type
    kinds: tuple[Any, ...]
    default: Any
    help: str

    @property
    def option(self) -> str:
        """The command-line option: the field's name with dashes."""
        return "--" + self.name.replace("_", "-")

    @property
    def takes_bool(self) -> bool:
        """Whether the field is a switch (``--flag`` alone means true)."""
        return bool in self.kinds


def trl_classes(command: str) -> tuple[type, ...]:
    """TRL's dataclasses of a command: ``GRPOConfig`` or ``SFTConfig``, then ``ModelConfig``."""
    from trl import GRPOConfig, ModelConfig, SFTConfig

    return (GRPOConfig if command == "grpo-train" else SFTConfig, ModelConfig)


@functools.cache
def trl_fields(command: str, ours: frozenset[str]) -> dict[str, TrlField]:
    """The TRL fields a command exposes: every field of :func:`trl_classes` not in ``ours``, aliased or excluded.

    A field whose type cannot be given as text or YAML (say accelerate's ``ParallelismConfig``) is left out.
    """
    found: dict[str, TrlField] = {}
    for owner in trl_classes(command):
        hints = typing.get_type_hints(owner)
        for item in dataclasses.fields(owner):
            name = item.name
            if not item.init or name in ours or name in ALIASES or name in EXCLUDED or name in found:
                continue
            kinds = _kinds(hints[name])
            if kinds is None:
                continue
            text = " ".join(item.metadata.get("help", "").replace("%%", "%").split())
            found[name] = TrlField(name, owner, kinds, _plain(_default(item)), text)
    return found


def _default(item: dataclasses.Field) -> Any:
    if item.default is not dataclasses.MISSING:
        return item.default
    if item.default_factory is not dataclasses.MISSING:
        return item.default_factory()
    return None


def _plain(value: Any) -> Any:
    """A value as YAML writes it: enums by their value, tuples as lists."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _kinds(hint: Any) -> tuple[Any, ...] | None:
    """The kinds of value a type hint allows, among bool, int, float, str, None, list, dict; None if another."""
    members = typing.get_args(hint) if typing.get_origin(hint) in (typing.Union, types.UnionType) else (hint,)
    kinds: list[Any] = []
    for member in members:
        origin = typing.get_origin(member) or member
        if member is type(None):
            kinds.append(None)
        elif origin is typing.Literal:
            kinds.extend(str if isinstance(v, str) else type(v) for v in typing.get_args(member))
        elif isinstance(origin, type) and issubclass(origin, enum.Enum):
            kinds.append(str)
        elif origin in (bool, int, float, str, list, dict):
            kinds.append(origin)
        else:
            return None
    return tuple(dict.fromkeys(kinds))


def read_value(item: TrlField, value: Any, text: bool = False) -> Any:
    """``value`` (``text`` from the command line, or a YAML value) as the field takes it.

    Text is read as the field's kinds allow (``true``, ``8``, ``a,b``); a YAML string only where the field takes
    no text (``1e-5`` for a number), so ``"no"`` stays ``"no"`` where the field takes text.

    Raises:
        ConfigError: The value is not of a kind the field takes, or a number is not finite.

    """
    if isinstance(value, str) and (text or str not in item.kinds):
        value = _from_text(item, value)
    if isinstance(value, bool):
        ok = bool in item.kinds
    elif isinstance(value, int):
        ok = int in item.kinds or float in item.kinds
        value = value if int in item.kinds else float(value)
    elif isinstance(value, float):
        ok = float in item.kinds
        if ok and not math.isfinite(value):
            raise ConfigError(f"{item.option} must be a finite number, got {value}")
    elif value is None:
        ok = None in item.kinds
    else:
        ok = type(value) in item.kinds
    if not ok:
        raise ConfigError(f"{item.option} must be {_describe(item.kinds)}, got {value!r}")
    return value


def _from_text(item: TrlField, text: str) -> Any:
    stripped = text.strip()
    lowered = stripped.lower()
    if bool in item.kinds and lowered in _TEXT_TRUE + _TEXT_FALSE:
        return lowered in _TEXT_TRUE
    for kind in (int, float):
        if kind in item.kinds:
            try:
                return kind(stripped)
            except ValueError:
                pass
    if {dict, list} & set(item.kinds) and stripped.startswith(("{", "[")):
        return _load_text(item, stripped)
    if str in item.kinds:
        return text
    if None in item.kinds and lowered in ("none", "null", ""):
        return None
    if list in item.kinds:
        return [part.strip() for part in stripped.split(",") if part.strip()]
    return text


def _load_text(item: TrlField, text: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        raise ConfigError(f"{item.option} must be {_describe(item.kinds)}, got {text!r}") from None


def _describe(kinds: tuple[Any, ...]) -> str:
    words = {
        bool: "true or false",
        int: "a whole number",
        float: "a number",
        str: "text",
        list: "a list",
        dict: "a mapping",
        None: "null",
    }
    return " or ".join(dict.fromkeys(words[k] for k in kinds))


def split_values(
    values: Mapping[str, Any], command: str, ours: frozenset[str], where: str, text: bool = False
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split settings into ours (aliases renamed) and TRL's (read as their fields say).

    Args:
        values: Settings by name (underscores).
        command: ``grpo-train`` or ``sft-train``.
        ours: The names of the command's own settings.
        where: The file the values come from, for an unknown key; empty for the command line.
        text: The values are command-line text (see :func:`read_value`).

    Raises:
        ConfigError: A key neither we nor TRL know, or a TRL value of the wrong kind.

    """
    own: dict[str, Any] = {}
    trl: dict[str, Any] = {}
    unknown = [name for name in values if name not in ours and name not in ALIASES]
    fields = trl_fields(command, ours) if unknown else {}
    for name, value in values.items():
        if name in ours:
            own[name] = value
        elif name in ALIASES:
            own[ALIASES[name]] = value
        elif name in fields:
            trl[name] = read_value(fields[name], value, text)
        else:
            raise ConfigError(unknown_key(name, [*ours, *ALIASES, *fields], where))
    return own, trl


def unknown_key(name: str, known: list[str], where: str) -> str:
    """The one-line error for a key no setting has, with the closest names."""
    import difflib

    close = difflib.get_close_matches(name, known, n=3)
    hint = f"; did you mean {', '.join(close)}?" if close else "; the keys are the options of --help, with underscores"
    if name in EXCLUDED:
        hint = f"; it is set by {EXCLUDED[name]}"
    return f"{where + ': ' if where else ''}unknown key '{name}'{hint}"


def resolved(command: str, ours: frozenset[str], given: Mapping[str, Any], defaults: Mapping[str, Any]) -> dict:
    """Every TRL field's value for the record of a run: given, else our default for it, else TRL's.

    The device-dependent fields (:data:`DEVICE_DEPENDENT`) appear only when given; credentials (``hub_token``,
    any ``*_token``) never: the record is a file users share.
    """
    out = {}
    for name, item in trl_fields(command, ours).items():
        if name.endswith("_token"):
            continue
        if name in given:
            out[name] = _plain(given[name])
        elif name in defaults:
            out[name] = defaults[name]
        elif name not in DEVICE_DEPENDENT:
            out[name] = item.default
    return out
