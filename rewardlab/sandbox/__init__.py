"""Run untrusted programs: bubblewrap sandboxes holding fork servers, a worker pool, and the resource limits.

The host side is :class:`SandboxPool` (``get_pool`` shares one per process and settings); what runs inside a
sandbox is ``server.py`` (the fork server), ``runner.py`` (one program and its tests) and ``protocol.py`` (the
frames between host and server). ``docs/sandbox.md`` states what is contained and what is not.
"""

from rewardlab.sandbox.limits import Limits
from rewardlab.sandbox.pool import (
    ENV_ISOLATION,
    ISOLATIONS,
    IsolationWarning,
    SandboxPool,
    get_pool,
    resolve_isolation,
)
from rewardlab.sandbox.worker import SandboxError, SandboxStartError

__all__ = [
    "ENV_ISOLATION",
    "ISOLATIONS",
    "IsolationWarning",
    "Limits",
    "SandboxError",
    "SandboxPool",
    "SandboxStartError",
    "get_pool",
    "resolve_isolation",
]
