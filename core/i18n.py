"""The visitor's language: English is the source of every message, other languages are gettext catalogs in locales/.

core/ never imports Streamlit, so it cannot ask a session which language its visitor reads. ui/ tells it instead:
`set_resolver` names a function that answers for the run in progress (the visitor's session), and `speaking` sets
one language for a block of code (a test, a chart warmed ahead for one language). Where there is no visitor (a run's
thread, a child process) a message is a `Text`, its id and values, translated by the page that shows it.

The catalogs are kept with Babel: `python -m scripts.translations` extracts every `_`, `N_`, `ngettext` and `Text`
message, updates the catalogs and compiles them (locales/README.md).
"""

from __future__ import annotations

import contextlib
import functools
import gettext
import re
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path

LOCALES = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "messages"
LANGUAGES = {"en": "English", "zh": "中文"}  # the code a link carries (?lang=zh) and the name the picker shows
CATALOGS = {"zh": "zh_CN"}  # the catalog of each translated language
DEFAULT = "en"

_spoken: ContextVar[str | None] = ContextVar("digitlab_language", default=None)
_resolver: Callable[[], str | None] | None = None


def set_resolver(resolver: Callable[[], str | None]) -> None:
    """Name the function that says the language of the run in progress (None where it cannot tell)."""
    global _resolver
    _resolver = resolver


def language() -> str:
    """The language of the current run: the one `speaking` set, else the resolver's, else English."""
    spoken = _spoken.get()
    if spoken is not None:
        return spoken
    found = _resolver() if _resolver is not None else None
    return found if found in LANGUAGES else DEFAULT


@contextlib.contextmanager
def speaking(code: str) -> Iterator[None]:
    """Every message within the block in the language `code` (one of LANGUAGES)."""
    if code not in LANGUAGES:
        raise ValueError(f"no language {code!r}; the languages are {', '.join(LANGUAGES)}")
    token = _spoken.set(code)
    try:
        yield
    finally:
        _spoken.reset(token)


def from_locale(locale: str | None) -> str | None:
    """The language of a browser's locale ("zh-CN", "zh-Hant-TW", "en-GB"): any Chinese reads zh; None if unknown."""
    if not locale or not isinstance(locale, str):
        return None
    code = locale.strip().lower().replace("_", "-").split("-")[0]
    return code if code in LANGUAGES else None


@functools.cache
def catalog(code: str) -> gettext.NullTranslations:
    """The compiled catalog of a language (English has none: its messages are their own translation)."""
    if code not in CATALOGS:
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, LOCALES, languages=[CATALOGS[code]], fallback=True)


def _(message: str) -> str:
    """`message` in the current run's language."""
    return catalog(language()).gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    """The form of `singular`/`plural` for `count`, in the current run's language."""
    return catalog(language()).ngettext(singular, plural, count)


PHRASE = re.compile(r"[A-Za-z]{2,}\s+[A-Za-z]{2,}")  # two words: a phrase, not a name, a key, a number or a path


def translated(value):
    """A document (a model card: dicts, lists, strings) with every phrase in it, key or value, in the current run's
    language (scripts/translations.py puts the shipped cards' phrases in the catalog)."""
    if isinstance(value, str):
        return _(value) if PHRASE.search(value) else value
    if isinstance(value, dict):
        return {translated(key): translated(item) for key, item in value.items()}
    if isinstance(value, list):
        return [translated(item) for item in value]
    return value


def N_(message: str) -> str:
    """Marks `message` for the catalog where it is made (a table at import); `_` translates it where it is shown."""
    return message


@dataclass(frozen=True)
class Text:
    """A message to translate later: its id (English, with `{name}` placeholders) and the values that fill them.

    `str(text)` translates it in the language of the run that shows it; values that are Texts are translated too.
    It pickles, so a child process's progress can cross to the page as one."""

    id: str
    values: dict = field(default_factory=dict)

    def __init__(self, id: str, **values) -> None:  # noqa: A002  (the catalog's word for it)
        object.__setattr__(self, "id", id)
        object.__setattr__(self, "values", values)

    def __str__(self) -> str:
        values = {name: str(value) if isinstance(value, Text) else value for name, value in self.values.items()}
        return _(self.id).format(**values)

    def __hash__(self) -> int:
        return hash((self.id, tuple(sorted((k, repr(v)) for k, v in self.values.items()))))
