"""The scoring engine: one pass over the data, each step in one module.

``read`` (JSONL rows, with file and line) → ``validate`` (the columns a reward needs) → ``batch`` (chunks, and
whole prompt groups for group-level rewards) → ``score`` (a reward over a batch, here or in worker processes) →
``write`` (JSONL out, whole or not at all). :mod:`~rewardlab.engine.pipeline` joins the steps for ``rewardlab
score`` and ``split``; :mod:`~rewardlab.engine.summary` keeps the running statistics, :mod:`~rewardlab.engine.split`
the reward-stratified split, :mod:`~rewardlab.engine.workers` the ``--workers`` processes and
:mod:`~rewardlab.engine.ray_engine` the same objects on Ray Data.
"""
