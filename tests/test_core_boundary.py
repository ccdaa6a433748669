import subprocess
import sys

from conftest import ROOT


def test_core_never_imports_streamlit():
    modules = sorted(p.stem for p in (ROOT / "core").glob("*.py") if p.stem != "__init__")
    code = "; ".join(f"import core.{m}" for m in modules) + "; import sys; assert 'streamlit' not in sys.modules"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]


def test_malloc_arenas_can_be_capped_on_this_linux():
    from core.runtime import cap_malloc_arenas

    assert cap_malloc_arenas() is True


def test_capping_malloc_arenas_starts_no_process(monkeypatch):
    """app.py caps them on every rerun: finding the C library must not run ldconfig (a fork of the server)."""
    from core.runtime import cap_malloc_arenas

    def no_process(*args, **kwargs):
        raise AssertionError(f"started a process: {args}")

    monkeypatch.setattr(subprocess, "Popen", no_process)
    assert cap_malloc_arenas.__wrapped__() is True
