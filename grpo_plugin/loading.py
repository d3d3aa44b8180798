"""The policy model, its LoRA adapter and TRL's settings object, from a run's settings, as ``trl grpo`` builds them.

The model settings are TRL's ``ModelConfig`` (``--dtype``, ``--attn-implementation``, ``--model-revision``,
``--load-in-4bit``/``--load-in-8bit`` with the ``--bnb-*`` options, ``--lora-dropout``, ``--use-rslora``,
``--use-dora``, ...) with rewardlab's names for the model and the LoRA shape. 4-bit and 8-bit loading (QLoRA) go
through bitsandbytes (``pip install 'rewardlab[qlora]'``) and need a CUDA GPU; without either, one line says so
before anything loads.
"""

from __future__ import annotations

import dataclasses
import importlib.util
from typing import Any

from grpo_plugin.config import RunConfig
from rewardlab.errors import ConfigError


def on_gpu() -> bool:
    """Whether training runs on a CUDA device (bf16 and bf16 weights only then; CPU runs in float32)."""
    import torch

    return torch.cuda.is_available()


def trl_args(config: RunConfig, owner: type) -> dict[str, Any]:
    """The TRL settings of ``config`` that are fields of ``owner`` (a TRL dataclass): given, else our defaults.

    ``model_init_kwargs`` is left out: the model is loaded here (:func:`load_policy`), not by TRL.
    """
    names = {item.name for item in dataclasses.fields(owner)}
    values = {name: value for name, value in {**config.trl_defaults, **config.trl}.items() if name in names}
    values.pop("model_init_kwargs", None)
    return values


def model_config(config: RunConfig) -> Any:
    """TRL's ``ModelConfig`` for these settings: rewardlab's model and LoRA shape, TRL's other model fields.

    Raises:
        ConfigError: TRL rejects the combination (say 4-bit and 8-bit loading together).

    """
    from trl import ModelConfig

    try:
        return ModelConfig(
            model_name_or_path=config.model,
            use_peft=config.lora,
            lora_r=config.lora_r,
            lora_alpha=config.lora_alpha,
            lora_target_modules=config.target_modules,
            **trl_args(config, ModelConfig),
        )
    except ValueError as error:
        raise ConfigError(f"invalid model settings: {' '.join(str(error).split())}") from None


def lora_config(config: RunConfig) -> Any:
    """The peft LoRA configuration (TRL's ``get_peft_config``), or None with ``--no-lora`` (full fine-tuning)."""
    if not config.lora:
        return None
    from trl import get_peft_config

    return get_peft_config(model_config(config))


def quantization(config: RunConfig) -> Any:
    """The bitsandbytes configuration of ``--load-in-4bit``/``--load-in-8bit``, or None.

    The compute dtype is ``--dtype`` when given, else bf16 where the GPU has it (float16 otherwise).

    Raises:
        ConfigError: Quantized loading asked for without a CUDA GPU, without bitsandbytes, or with ``--no-lora``.

    """
    model = model_config(config)
    if not (model.load_in_4bit or model.load_in_8bit):
        return None
    option = "--load-in-4bit" if model.load_in_4bit else "--load-in-8bit"
    if not config.lora:
        raise ConfigError(f"{option} trains a LoRA adapter on frozen quantized weights (QLoRA); drop --no-lora")
    if not on_gpu():
        raise ConfigError(f"{option} needs a CUDA GPU (bitsandbytes quantizes on the GPU); none is visible")
    if importlib.util.find_spec("bitsandbytes") is None:
        raise ConfigError(f"{option} needs bitsandbytes: pip install 'rewardlab[qlora]'")
    import torch
    from trl import get_quantization_config

    if model.dtype in (None, "auto"):
        model.dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return get_quantization_config(model)


def check_extras(config: RunConfig) -> None:
    """Check, before anything loads, that what quantized loading and ``--use-vllm`` need is there.

    Raises:
        ConfigError: See :func:`quantization`; or ``--use-vllm`` without vllm installed.

    """
    quantization(config)
    if getattr(config, "use_vllm", False) and importlib.util.find_spec("vllm") is None:
        raise ConfigError("--use-vllm needs vllm: pip install 'rewardlab[vllm]'")


def load_policy(config: RunConfig, full_precision: bool = False) -> tuple[Any, Any]:
    """Load the policy and its tokenizer as :func:`rewardlab.models.load_causal_lm` does, as the settings say.

    Without ``--dtype``, on a GPU the weights keep the checkpoint's dtype (bf16 for Qwen) unless ``full_precision``
    (full fine-tuning keeps float32 master weights); on CPU they are float32. ``--attn-implementation``,
    ``--model-revision``, ``--trust-remote-code``, ``--model-init-kwargs`` and quantized loading are passed on.
    """
    import torch

    from rewardlab.models import load_causal_lm

    model = model_config(config)
    kwargs = dict(config.trl.get("model_init_kwargs") or {})
    if model.attn_implementation:
        kwargs["attn_implementation"] = model.attn_implementation
    if model.model_revision != "main":
        kwargs["revision"] = model.model_revision
    if config.trl.get("trust_remote_code"):
        kwargs["trust_remote_code"] = True
    quantized = quantization(config)
    if quantized is not None:
        from trl import get_kbit_device_map

        kwargs.update(quantization_config=quantized, device_map=get_kbit_device_map())
    if "dtype" in config.trl and config.trl["dtype"] is not None:
        dtype: Any = config.trl["dtype"]
    else:
        dtype = "auto" if on_gpu() and not full_precision else torch.float32
    return load_causal_lm(config.model, dtype=dtype, **kwargs)
