"""Every page's element tree as AppTest sees it, one line per element (type, label, value), written as JSON.

A refactoring that must change nothing a visitor sees is checked by running this on the commit before and after
and comparing the two files: `python -m scripts.page_trees before.json`, check out, `... after.json`, then
`python -m scripts.page_trees --compare before.json after.json`.
"""

from __future__ import annotations

import argparse
import difflib
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def tree(node, lines: list[str], depth: int = 0) -> list[str]:
    children = getattr(node, "children", None)
    for child in children.values() if isinstance(children, dict) else []:
        value = ""
        for name in ("value", "body"):
            try:
                found = getattr(child, name)
            except Exception:  # an element without it, or one AppTest cannot read
                continue
            if isinstance(found, str | int | float):
                value = str(found)[:80]
                break
        lines.append(f"{'  ' * depth}{type(child).__name__}|{getattr(child, 'label', None) or ''}|{value}")
        tree(child, lines, depth + 1)
    return lines


def page_trees() -> dict[str, list[str]]:
    from streamlit.testing.v1 import AppTest

    from core.pages import PAGES

    trees = {}
    for page in PAGES:
        app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        app.run()
        app.switch_page(page.file).run()
        trees[page.name] = tree(app._tree, [])
    return trees


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="+", help="where to write the trees, or two files to compare")
    parser.add_argument("--compare", action="store_true", help="compare two files written before")
    arguments = parser.parse_args()
    if not arguments.compare:
        Path(arguments.files[0]).write_text(json.dumps(page_trees(), indent=0))
        return
    before, after = (json.loads(Path(name).read_text()) for name in arguments.files[:2])
    changed = [name for name in sorted(set(before) | set(after)) if before.get(name) != after.get(name)]
    for name in changed:
        print(f"== {name}")
        print("\n".join(difflib.unified_diff(before.get(name, []), after.get(name, []), lineterm="")))
    print(f"{len(changed)} of {len(before | after)} pages changed ({sum(map(len, after.values()))} elements after)")


if __name__ == "__main__":
    main()
