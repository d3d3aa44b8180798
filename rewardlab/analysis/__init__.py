"""What a reward and a run are doing: distributions, prompt groups, correlations, and series over training steps.

:mod:`rewardlab.analysis.sketch` holds the constant-memory summaries, :mod:`rewardlab.analysis.scored` analyses a
scored JSONL file, :mod:`rewardlab.analysis.run` a training run's directory, :mod:`rewardlab.analysis.plots` draws
both. ``rewardlab analyze`` (:mod:`rewardlab.cli.analyze`) is the command.
"""
