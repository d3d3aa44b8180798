"""The resource limits one program run gets, checked once on the host and applied in the forked child."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Limits:
    """Per-run limits; every program run (one stdin/stdout case, or all assert or call tests) gets them afresh.

    Attributes:
        timeout: Wall-clock seconds; the run's whole process tree is killed at the deadline. CPU time is also
            capped (``RLIMIT_CPU``, the timeout rounded up plus one second).
        memory_mb: Address-space limit (``RLIMIT_AS``) in MiB; allocations beyond it raise MemoryError. 0 turns
            the limit off.
        output_bytes: Most bytes of stdout and stderr together; a run that writes more is killed.
        file_mb: Largest file the program may write (``RLIMIT_FSIZE``), in MiB.
        processes: Most processes and threads the program may have at once (``RLIMIT_NPROC``), the program
            itself included.
        open_files: Most open file descriptors (``RLIMIT_NOFILE``).

    """

    timeout: float = 5.0
    memory_mb: int = 1024
    output_bytes: int = 1 << 20
    file_mb: int = 16
    processes: int = 64
    open_files: int = 256

    def __post_init__(self) -> None:
        if not self.timeout > 0 or self.timeout > 3600:
            raise ValueError(f"timeout must be between 0 and 3600 seconds, got {self.timeout!r}")
        if self.memory_mb < 0 or (0 < self.memory_mb < 32):
            raise ValueError(f"memory_mb must be 0 (no limit) or at least 32, got {self.memory_mb!r}")
        if self.output_bytes < 1024:
            raise ValueError(f"output_bytes must be at least 1024, got {self.output_bytes!r}")
        if self.file_mb < 1:
            raise ValueError(f"file_mb must be at least 1, got {self.file_mb!r}")
        if self.processes < 1:
            raise ValueError(f"processes must be at least 1, got {self.processes!r}")
        if self.open_files < 16:
            raise ValueError(f"open_files must be at least 16, got {self.open_files!r}")

    def to_wire(self) -> dict[str, Any]:
        """The limits as the fork server reads them (bytes, not MiB)."""
        return {
            "timeout": float(self.timeout),
            "memory_bytes": int(self.memory_mb) << 20,
            "output_bytes": int(self.output_bytes),
            "file_bytes": int(self.file_mb) << 20,
            "processes": int(self.processes),
            "open_files": int(self.open_files),
        }
