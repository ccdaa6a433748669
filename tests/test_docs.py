"""The front door and the docs: every path and module they (and the code) name exists, the README stays short."""

import re
import subprocess

import pytest

from conftest import ROOT

TOP = ("app_pages", "core", "ui", "tests", "bench", "scripts", "harness", "assets", "docs", "deploy", "locales")
PATH = re.compile(rf"(?<![\w/.-])(?:{'|'.join(TOP)})/[\w./-]*[\w/]")
MODULE = re.compile(r"(?<![\w./-])(?:core|ui|bench|scripts|harness)(?:\.[a-z_][a-z0-9_]*)+")
PLACEHOLDERS = ("NAME", "IDEA", "PORT", "FOLDER", "*", "...", "<")
INSIDE_AN_ARCHIVE = {"harness/hostile.py"}  # names members of the hostile archives it builds, not files here


def named_files() -> list[str]:
    listed = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    wanted = (".py", ".md", ".txt", ".toml", ".sh", ".yaml", "Dockerfile", "Caddyfile", "run")
    return [name for name in listed if name.endswith(wanted) and (ROOT / name).is_file()]


def module_exists(dotted: str) -> bool:
    """Whether `dotted` is a module, a package, or a name defined or imported in one (ui.as_text)."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        base = ROOT.joinpath(*parts[:cut])
        source = base.with_suffix(".py") if base.with_suffix(".py").exists() else base / "__init__.py"
        if source.exists():
            rest = parts[cut:]
            return not rest or re.search(rf"\b{re.escape(rest[0])}\b", source.read_text()) is not None
    return False


@pytest.mark.parametrize("name", named_files())
def test_every_path_and_module_a_file_names_exists(name):
    text = (ROOT / name).read_text(errors="replace")
    missing = []
    for found in PATH.findall(text) if name not in INSIDE_AN_ARCHIVE else []:
        path = found.rstrip("./")
        if any(mark in path for mark in PLACEHOLDERS) or path.startswith("docs/performance.md#"):
            continue
        if not (ROOT / path).exists() and not (ROOT / f"{path}.py").exists():  # bench/talk: the bench's name
            missing.append(path)
    for found in MODULE.findall(text):
        if not module_exists(found):
            missing.append(found)
    assert not missing, f"{name} names what does not exist: {sorted(set(missing))}"


def test_the_readme_is_a_front_door_and_the_docs_it_links_exist():
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= 200
    for section in ("## Run it", "## Test it", "## What is inside"):
        assert section in readme
    for link in re.findall(r"\]\(([^)#]+)\)", readme):
        if not link.startswith("http"):
            assert (ROOT / link).exists(), link
