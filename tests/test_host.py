"""The host's limits, read from cgroup v2 and v1 files as a host writes them (fixtures, since these machines set
none), and the budgets a small host gets, through the real server."""

import asyncio

import pytest

from core.runs.host import Host, cpu_quota, memory_limit, parse_size, read_host
from harness.browser import serving_app
from harness.visitor import Visitor

GB = 2**30


def write(root, files: dict) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_cgroup_v2_limits(tmp_path):
    write(tmp_path, {"memory.max": "2899102924\n", "cpu.max": "200000 100000\n"})
    host = read_host(tmp_path, env={})
    assert host.memory_mb == pytest.approx(2899102924 / 2**20) and host.memory_from == "cgroup v2 memory.max"
    assert host.cpus == 2.0 and host.cpus_from == "cgroup v2 cpu.max" and host.run_slots == 2
    assert host.budget_mb == pytest.approx(0.8 * host.memory_mb)


def test_cgroup_v2_without_limits_falls_back_to_the_machine(tmp_path):
    write(tmp_path, {"memory.max": "max\n", "cpu.max": "max 100000\n"})
    assert memory_limit(tmp_path, env={})[1] == "the machine's memory"
    assert cpu_quota(tmp_path, env={})[1] == "the machine's cores"


def test_cgroup_v1_limits_and_fractional_cpus(tmp_path):
    write(
        tmp_path,
        {
            "memory/memory.limit_in_bytes": str(int(2.7 * GB)),
            "cpu/cpu.cfs_quota_us": "50000",
            "cpu/cpu.cfs_period_us": "100000",
        },
    )
    host = read_host(tmp_path, env={})
    assert host.memory_mb == pytest.approx(2.7 * 1024) and host.memory_from.startswith("cgroup v1")
    assert host.cpus == 0.5 and host.run_slots == 1  # a fraction of a core still runs one at a time


def test_cgroup_v1_no_limit_is_a_huge_number(tmp_path):
    write(
        tmp_path,
        {
            "memory/memory.limit_in_bytes": "9223372036854771712",
            "cpu/cpu.cfs_quota_us": "-1",
            "cpu/cpu.cfs_period_us": "100000",
        },
    )
    assert memory_limit(tmp_path, env={})[1] == "the machine's memory"
    assert cpu_quota(tmp_path, env={})[1] == "the machine's cores"


def test_the_environment_overrides_the_host(tmp_path):
    write(tmp_path, {"memory.max": "1000\n", "cpu.max": "100000 100000\n"})
    host = read_host(tmp_path, env={"DIGITLAB_MEMORY_LIMIT": "2.7G", "DIGITLAB_CPUS": "1.5"})
    assert host == Host(2.7 * 1024, 1.5, "DIGITLAB_MEMORY_LIMIT", "DIGITLAB_CPUS")
    assert [parse_size(text) for text in ("1500M", "512MiB", "2700000000", "1g")] == [
        1500 * 2**20,
        512 * 2**20,
        2.7e9,
        GB,
    ]
    with pytest.raises(ValueError, match="not a memory size"):
        parse_size("lots")


def test_a_small_host_shrinks_the_budgets_and_refuses_a_run_that_cannot_fit():
    async def visit(url: str) -> tuple[list[str], list[str]]:
        async with Visitor(url, path="about") as about, Visitor(url, path="train") as train:
            shown = (await about.rerun(page_name="about")).texts
            refused = await train.press("Train")
            return shown, refused.texts + refused.errors

    with serving_app(env={"DIGITLAB_MEMORY_LIMIT": "1.5G"}) as (url, _):
        about, refused = asyncio.run(visit(url))
    assert any("1.50 GB of memory" in text and "1.20 GB" in text for text in about), about
    assert any("this server allows" in text and "GB" in text for text in refused), refused
