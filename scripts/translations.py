"""Keep the catalogs in step with the code: extract every message, merge it into each language, compile.

    python -m scripts.translations            # extract, update locales/*/messages.po, compile messages.mo
    python -m scripts.translations --check    # exit 1 if the catalog or the compiled file is not up to date

Babel does the work (`pybabel extract -F babel.cfg`, `update`, `compile`): the keywords are core.i18n's `_`, `N_`,
`ngettext` and `Text`. A new message arrives in zh_CN's catalog untranslated: translate it there (locales/README.md).
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from pathlib import Path

from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from core.i18n import PHRASE

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ROOT / "locales"
TEMPLATE = LOCALES / "messages.pot"
KEYWORDS = ["-k", "_", "-k", "N_", "-k", "ngettext:1,2", "-k", "Text"]


def card_words(value) -> list[str]:
    """The phrases of a model card (its strings of two words or more, keys too), in order, each once."""
    if isinstance(value, str):
        return [value] if PHRASE.search(value) else []
    items = [*value, *value.values()] if isinstance(value, dict) else value if isinstance(value, list) else []
    return list(dict.fromkeys(word for item in items for word in card_words(item)))


def extract_card(fileobj, keywords, comment_tags, options):
    """Babel's extractor for a model card (JSON): each phrase a message, which core.i18n.translated shows."""
    for phrase in card_words(json.load(fileobj)):
        yield 1, "_", phrase, []


def pybabel(*args: str) -> None:
    CommandLineInterface().run(["pybabel", "-q", *args])


def extract(to: Path) -> None:
    pybabel(
        "extract", "-F", str(ROOT / "babel.cfg"), *KEYWORDS, "--no-wrap", "--sort-by-file", "--omit-header",
        "--no-location", "-o", str(to), str(ROOT),
    )  # fmt: skip


def catalogs() -> list[Path]:
    return sorted(LOCALES.glob("*/LC_MESSAGES/messages.po"))


def compiled(po: Path) -> bytes:
    with po.open("rb") as source:
        catalog = read_po(source)
    out = io.BytesIO()
    write_mo(out, catalog, use_fuzzy=False)
    return out.getvalue()


def update() -> None:
    extract(TEMPLATE)
    pybabel("update", "-i", str(TEMPLATE), "-d", str(LOCALES), "--no-wrap", "--no-fuzzy-matching", "--ignore-obsolete")
    for po in catalogs():
        po.with_suffix(".mo").write_bytes(compiled(po))


def stale() -> list[str]:
    """What is not up to date: the template against the code, each catalog's compiled file against the catalog."""
    problems = []
    fresh = LOCALES / ".messages.pot.check"
    try:
        extract(fresh)
        if fresh.read_text(encoding="utf-8") != TEMPLATE.read_text(encoding="utf-8"):
            problems.append(f"{TEMPLATE.relative_to(ROOT)} does not match the code's messages")
    finally:
        fresh.unlink(missing_ok=True)
    for po in catalogs():
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.read_bytes() != compiled(po):
            problems.append(f"{mo.relative_to(ROOT)} is not compiled from {po.name}")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="only say whether the catalogs are up to date")
    if parser.parse_args().check:
        problems = stale()
        for problem in problems:
            print(problem, "(python -m scripts.translations)", file=sys.stderr)
        return 1 if problems else 0
    update()
    return 0


if __name__ == "__main__":
    sys.exit(main())
