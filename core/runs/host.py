"""The host the server runs on: its memory limit and CPU quota, the memory of the server's process tree, and the
budget derived from them that every run must fit.

A host such as Streamlit Community Cloud stops the whole app when the server and its children pass the limit, so
the limit is read where the host sets it (cgroup v2, cgroup v1), else the machine's memory; `DIGITLAB_MEMORY_LIMIT`
and `DIGITLAB_CPUS` override both.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from pathlib import Path

from core.i18n import N_, Text

CGROUP = Path("/sys/fs/cgroup")
USABLE_SHARE = 0.8  # of the host's memory limit, for the server and all its children: the rest is the margin
NO_LIMIT_BYTES = 2**60  # cgroup v1 writes a number near 2^63 for "no limit"
_SIZE = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*([kmgt]?)i?b?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40}


@dataclass(frozen=True)
class Host:
    memory_mb: float  # the most the server and its children may use together before the host stops the app
    cpus: float  # cores the host grants (a quota may be fractional)
    memory_from: str  # where the memory limit was read: what the About page says
    cpus_from: str

    @property
    def budget_mb(self) -> float:
        """What the server's whole process tree is kept within: USABLE_SHARE of the limit."""
        return USABLE_SHARE * self.memory_mb

    @property
    def run_slots(self) -> int:
        """Long runs at once: one per whole core (a run uses two cores when it has them; two runs halve each
        other's pace), at least one. Memory decides, run by run, whether a slot may be used."""
        return max(1, math.floor(self.cpus))


def parse_size(text: str) -> float:
    """'2.7G', '1500M', '2700000000' (bytes), '512MiB' -> bytes; ValueError for anything else."""
    match = _SIZE.match(text)
    if not match:
        raise ValueError(Text("not a memory size: {text!r} (write e.g. 2.7G or 1500M)", text=text))
    return float(match.group(1)) * _UNITS[match.group(2).lower()]


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None


def memory_limit(root: Path = CGROUP, env: dict | None = None) -> tuple[float, str]:
    """(bytes, where from): DIGITLAB_MEMORY_LIMIT, cgroup v2's memory.max, cgroup v1's limit, else physical memory."""
    env = os.environ if env is None else env
    if env.get("DIGITLAB_MEMORY_LIMIT"):
        return parse_size(env["DIGITLAB_MEMORY_LIMIT"]), "DIGITLAB_MEMORY_LIMIT"
    v2 = _read(root / "memory.max")
    if v2 is not None and v2 != "max":
        return float(v2), "cgroup v2 memory.max"
    v1 = _read(root / "memory" / "memory.limit_in_bytes")
    if v1 is not None and v1.isdigit() and int(v1) < NO_LIMIT_BYTES:
        return float(v1), "cgroup v1 memory.limit_in_bytes"
    return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")), N_("the machine's memory")


def cpu_quota(root: Path = CGROUP, env: dict | None = None) -> tuple[float, str]:
    """(cores, where from): DIGITLAB_CPUS, cgroup v2's cpu.max, cgroup v1's CFS quota, else the cores it may use."""
    env = os.environ if env is None else env
    if env.get("DIGITLAB_CPUS"):
        cores = float(env["DIGITLAB_CPUS"])
        if not cores > 0:
            raise ValueError(
                Text("DIGITLAB_CPUS must be a positive number of cores, not {env!r}", env=env["DIGITLAB_CPUS"])
            )
        return cores, "DIGITLAB_CPUS"
    v2 = _read(root / "cpu.max")
    if v2 is not None and not v2.startswith("max"):
        quota, period = (float(part) for part in v2.split()[:2])
        return quota / period, "cgroup v2 cpu.max"
    quota, period = _read(root / "cpu" / "cpu.cfs_quota_us"), _read(root / "cpu" / "cpu.cfs_period_us")
    if quota and period and quota.lstrip("-").isdigit() and int(quota) > 0 and period.isdigit():
        return int(quota) / int(period), "cgroup v1 cpu.cfs_quota_us"
    return float(len(os.sched_getaffinity(0))), N_("the machine's cores")


def read_host(root: Path = CGROUP, env: dict | None = None) -> Host:
    """The host as the server sees it now."""
    memory, memory_from = memory_limit(root, env)
    cpus, cpus_from = cpu_quota(root, env)
    return Host(memory / 2**20, cpus, memory_from, cpus_from)


def family(pid: int) -> list[int]:
    """A process and all its descendants (the server, the process runs fork from, every run)."""
    parents = {}
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit():
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except OSError:  # a process that exited while we looked
            continue
    members, added = {pid}, True
    while added:
        grown = members | {child for child, parent in parents.items() if parent in members}
        added, members = grown != members, grown
    return sorted(members)


def memory_mb(pids: list[int], *, field: str = "Pss") -> float:
    """Memory of processes, from /proc/PID/smaps_rollup: PSS counts pages shared between them once (RSS: `Rss`)."""
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith(f"{field}:"):
                    total += int(line.split()[1])
        except OSError:  # gone meanwhile
            continue
    return total / 1024


def tree_memory_mb(pid: int | None = None, *, field: str = "Pss") -> float:
    """The memory of a process and all its descendants (this process's by default)."""
    return memory_mb(family(os.getpid() if pid is None else pid), field=field)


HOST = read_host()  # read once, at the server's start
