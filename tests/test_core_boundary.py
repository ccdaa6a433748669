import ast
import subprocess
import sys

from conftest import ROOT


def test_core_never_imports_streamlit():
    modules = sorted(".".join(p.relative_to(ROOT).with_suffix("").parts) for p in (ROOT / "core").rglob("*.py"))
    code = "; ".join(f"import {m}" for m in modules) + "; import sys; assert 'streamlit' not in sys.modules"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]


def test_the_runner_imports_no_concept():
    """core.runs (the job, the line, the child process, the host) runs any task: it knows none of them. Its words
    for the visitor go through core.i18n, which knows no concept either."""
    for path in (ROOT / "core" / "runs").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("core"):
                assert node.module.startswith(("core.runs", "core.i18n")), f"{path.name} imports {node.module}"


def test_malloc_arenas_can_be_capped_on_this_linux():
    from core.runs.runtime import cap_malloc_arenas

    assert cap_malloc_arenas() is True


def test_capping_malloc_arenas_starts_no_process(monkeypatch):
    """app.py caps them on every rerun: finding the C library must not run ldconfig (a fork of the server)."""
    from core.runs.runtime import cap_malloc_arenas

    def no_process(*args, **kwargs):
        raise AssertionError(f"started a process: {args}")

    monkeypatch.setattr(subprocess, "Popen", no_process)
    assert cap_malloc_arenas.__wrapped__() is True


def test_judging_labels_loads_no_tensorflow_and_cleans_with_the_prepared_runs_setup():
    code = "import core.data_quality, sys; assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    from core import data_quality
    from core.training import reference

    assert data_quality.CLEANING_CONFIG == reference.CONFIG  # the cleaned run is compared with that one


def test_no_module_imports_another_modules_private_names():
    """`_`, gettext's name for "translate", is the one name with an underscore that is meant to be imported."""
    for path in [*(ROOT / "core").rglob("*.py"), *(ROOT / "ui").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(("core", "ui")):
                private = [alias.name for alias in node.names if alias.name.startswith("_") and alias.name != "_"]
                assert not private, f"{path.relative_to(ROOT)} imports {private} from {node.module}"
