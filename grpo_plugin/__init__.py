"""grpo_plugin: ``grpo-train`` and ``sft-train``, rewardlab rewards on TRL's trainers with a LoRA adapter, and guards.

Importing the package is cheap; torch, transformers and trl load only when training starts
(:mod:`grpo_plugin.train`). The parts: :mod:`~grpo_plugin.config` (settings), :mod:`~grpo_plugin.data` (prompts
and SFT pairs), :mod:`~grpo_plugin.rewards` (rewards as TRL reward functions), :mod:`~grpo_plugin.callbacks`
(zero-variance guard, stop on a signal), :mod:`~grpo_plugin.curriculum` (learnability sampling),
:mod:`~grpo_plugin.runs` (output directory, resume, interruption), :mod:`~grpo_plugin.train` and
:mod:`~grpo_plugin.cli` (GRPO), :mod:`~grpo_plugin.sft` and :mod:`~grpo_plugin.sft_cli` (SFT warm start).
"""

__version__ = "0.1.0"
