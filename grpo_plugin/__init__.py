"""grpo_plugin: ``grpo-train``, rewardlab rewards on TRL's GRPOTrainer with a LoRA adapter, and guards for dead runs.

Importing the package is cheap; torch, transformers and trl load only when training starts
(:mod:`grpo_plugin.train`). The parts: :mod:`~grpo_plugin.config` (settings), :mod:`~grpo_plugin.data` (prompts),
:mod:`~grpo_plugin.rewards` (rewards as TRL reward functions), :mod:`~grpo_plugin.callbacks` (zero-variance guard),
:mod:`~grpo_plugin.curriculum` (learnability sampling), :mod:`~grpo_plugin.train` and :mod:`~grpo_plugin.cli`.
"""

__version__ = "0.1.0"
