"""``rewardlab audit``: score what a policy would try beside DATA's real completions, for any reward.

A policy optimises whatever a reward pays for, so before a run the question is which cheap completions it pays for.
:mod:`.probes` builds those completions (echoes, templates, padding, format-only answers, programs that exit early…)
from DATA's own prompts and completions, :mod:`.run` scores them beside the real ones through the same engine as
``rewardlab score`` and computes where each probe lands, and :mod:`.report` prints the table and writes the JSON.
"""

from __future__ import annotations

from rewardlab.audit.run import Audit, ProbeResult, audit

__all__ = ["Audit", "ProbeResult", "audit"]
