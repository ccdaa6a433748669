"""Digit Lab in English and Chinese: complete, fresh catalogs, messages pybabel can see, and pages in one language."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from core import i18n
from core.i18n import Text, _
from core.pages import PAGES

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "locales" / "zh_CN" / "LC_MESSAGES" / "messages.po"
GLOSSARY = ROOT / "locales" / "glossary.md"
SOURCES = [ROOT / "app.py", *sorted((ROOT / "app_pages").glob("*.py"))]
SOURCES += sorted((ROOT / "core").rglob("*.py")) + sorted((ROOT / "ui").rglob("*.py"))
KEYWORDS = {"_", "N_", "Text", "ngettext"}
PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


def catalog():
    with CATALOG.open("rb") as source:
        return read_po(source)


def test_every_message_has_a_chinese_translation_with_the_same_placeholders():
    found = list(catalog())
    assert len(found) > 100
    for message in found:
        if not message.id:
            continue
        assert message.string, f"untranslated: {message.id!r}"
        assert "fuzzy" not in message.flags, f"fuzzy: {message.id!r}"
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for string in strings:
            assert sorted(PLACEHOLDER.findall(string)) == sorted(PLACEHOLDER.findall(ids[-1])), message.id


def test_the_catalogs_are_extracted_from_this_code_and_compiled_from_their_sources():
    from scripts.translations import stale

    assert stale() == []


def _calls(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in KEYWORDS:
            yield node


@pytest.mark.parametrize("path", SOURCES, ids=lambda path: str(path.relative_to(ROOT)))
def test_every_message_is_a_literal_pybabel_can_see_and_underscore_is_never_shadowed(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for call in _calls(tree):
        first = call.args[0] if call.args else None
        literal = isinstance(first, ast.Constant) and isinstance(first.value, str)
        # `_` or Text may take a name or an item of a table whose words N_ marked; never a message built on the spot
        marked = call.func.id in ("_", "Text") and isinstance(first, ast.Name | ast.Attribute | ast.Subscript)
        assert literal or marked, f"{path.name}:{call.lineno}: {call.func.id}() of something extract cannot read"
    translates = any(
        isinstance(node, ast.ImportFrom) and any(alias.name == "_" for alias in node.names) for node in ast.walk(tree)
    ) or any(call.func.id == "_" for call in _calls(tree))
    if translates:
        shadows = [
            node.lineno
            for node in ast.walk(tree)
            if isinstance(node, ast.Name) and node.id == "_" and isinstance(node.ctx, ast.Store)
        ]
        assert not shadows, f"{path.name}: `_` assigned on lines {shadows}, hiding the translation function"


def test_the_language_of_a_run_comes_from_the_visitor_or_a_block_and_a_text_waits_until_shown():
    message = Text("Chapter {number} of {count}", number=2, count=12)
    assert str(message) == "Chapter 2 of 12"
    with i18n.speaking("zh"):
        assert str(message) == "第 2 章，共 12 章"
        assert _("Next") == "下一章"
    assert _("Next") == "Next"
    assert i18n.from_locale("zh-TW") == i18n.from_locale("zh_Hans_CN") == "zh"
    assert i18n.from_locale("en-GB") == "en" and i18n.from_locale("fr-FR") is None
    assert i18n.from_locale(None) is None
    with pytest.raises(ValueError):
        with i18n.speaking("xx"):
            pass


def test_the_glossary_lists_the_essays_terms_and_the_names_kept_as_they_are():
    kept = kept_names()
    assert {"MNIST", "PGD", "ResNet", "Grad-CAM"} <= kept
    text = GLOSSARY.read_text(encoding="utf-8")
    for term in ("混淆矩阵", "迁移学习", "持续学习", "灾难性遗忘", "对抗样本", "差分隐私", "成员推断攻击"):
        assert term in text


def kept_names() -> set[str]:
    """The glossary's names and symbols that stay as they are in Chinese (its table "Kept as they are")."""
    section = GLOSSARY.read_text(encoding="utf-8").split("## Kept as they are", 1)[1]
    return {line.split("|")[1].strip().strip("`") for line in section.splitlines() if line.startswith("| `")}


# ---- what a page shows, in one language


_MARKDOWN_NOISE = re.compile(
    r"`[^`]*`|:material/[a-z_]+:|:[a-z]+\[|https?://\S+|<[^>]+>|\{[^{}]*\}|&[a-z]+;|python -m [\w.]+"  # code is code
)
_ENGLISH_RUN = re.compile(r"[A-Za-z][A-Za-z'’-]*(?:[ \t]+[A-Za-z][A-Za-z'’-]*)+")
_HAN = re.compile(r"[\u4e00-\u9fff]")
_CHART_TEXT_KEYS = {"text", "name", "hovertemplate", "texttemplate", "ticktext", "customdata", "title"}


def _strings(value, key: str | None = None):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for name, item in value.items():
            if name in _CHART_TEXT_KEYS or key in _CHART_TEXT_KEYS or isinstance(item, dict | list):
                yield from _strings(item, name if name in _CHART_TEXT_KEYS else key)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item, key)


def _keys(value):
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _keys(item)
    elif isinstance(value, list):
        for item in value:
            yield from _keys(item)


def shown_texts(node) -> list[str]:
    """Every text an AppTest element tree shows: bodies, labels, help, options, captions, metrics, chart words."""
    from google.protobuf.json_format import MessageToDict

    texts = []
    children = getattr(node, "children", None)
    for child in children.values() if isinstance(children, dict) else []:
        proto = getattr(child, "proto", None)
        if proto is not None and hasattr(proto, "DESCRIPTOR"):
            fields = MessageToDict(proto)
            if type(child).__name__ == "Json":  # a document: its keys and values, not its escaped text
                texts += list(_strings(json.loads(fields.get("body", "null")), "text"))
                texts += [key for key in _keys(json.loads(fields.get("body", "null")))]
                fields.pop("body", None)
            if "spec" in fields and isinstance(fields["spec"], str) and fields["spec"].startswith("{"):
                spec = json.loads(fields["spec"])
                texts += list(_strings({"data": spec.get("data"), "layout": spec.get("layout")}))
            for name in ("body", "label", "help", "caption", "placeholder", "value", "delta", "options", "text"):
                found = fields.get(name)
                for item in found if isinstance(found, list) else [found]:
                    if isinstance(item, str):
                        texts.append(item)
                    elif isinstance(item, dict):
                        texts += [v for v in item.values() if isinstance(v, str)]
            if "imgs" in fields:
                texts += [image.get("caption", "") for image in fields["imgs"]]
        texts += shown_texts(child)
    return texts


def english_in(texts: list[str], kept: set[str]) -> list[str]:
    """The runs of two or more English words in `texts` not made only of names kept as they are."""
    found = []
    for text in texts:
        text = re.sub(r"<style.*?</style>|<script.*?</script>", " ", text, flags=re.S)
        for run in _ENGLISH_RUN.findall(_MARKDOWN_NOISE.sub(" ", text)):
            if not all(word in kept for word in run.split()):
                found.append(run)
    return found


def page_run(page: str, language: str, **query):
    from streamlit.testing.v1 import AppTest

    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    app.query_params["lang"] = language
    # AppTest calls a widget's format_func in this thread to read its value back: it must speak the page's language.
    with i18n.speaking(language):
        app.run()
        app.switch_page(f"app_pages/{page}.py")
        for name, value in query.items():
            app.query_params[name] = value
        app.query_params["lang"] = language
        return app.run()


PAGE_PARTS = {  # the pages with parts: each part is a page of its own to read
    "data": ("suspects", "cleaning", "engine"),
    "privacy": ("cost", "leak", "canary"),
    "scale": ("parameters", "digits", "flops"),
    "generate": ("draw", "finish", "turn", "copy", "map"),
    "labels": ("curve", "map", "yourself"),
}
PARTS = [(page.name, {}) for page in PAGES if page.name not in PAGE_PARTS]
PARTS += [(name, {"part": part}) for name, parts in PAGE_PARTS.items() for part in parts]


@pytest.mark.parametrize(("page", "query"), PARTS, ids=[f"{page}{query or ''}" for page, query in PARTS])
def test_a_page_in_chinese_shows_no_english_sentence_and_in_english_no_chinese(page, query):
    kept = kept_names()
    app = page_run(page, "zh", **query)
    assert not app.exception
    assert [error.value for error in app.error] == []  # error_boundary's apology would hide a broken page
    texts = shown_texts(app._tree)
    assert any(_HAN.search(text) for text in texts)
    assert english_in(texts, kept) == []
    app = page_run(page, "en", **query)
    picker = {*i18n.LANGUAGES.values(), "Language · 语言"}  # the picker names each language in its own
    assert [text for text in shown_texts(app._tree) if _HAN.search(text) and text not in picker] == []


def test_the_frame_and_the_talk_speak_chinese_when_asked():
    from streamlit.testing.v1 import AppTest

    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    app.query_params.update({"lang": "zh", "talk": "1"})
    app.run()
    assert not app.exception
    words = " ".join(shown_texts(app._tree))
    assert "神经网络读懂你的数字" in words and "问问全场" in words and "下一章" in words
    assert english_in(
        [t for t in shown_texts(app.sidebar) if "MNIST" not in t], kept_names()
    ) == [] or "动手" in " ".join(shown_texts(app.sidebar))


def test_a_visitor_who_switches_language_keeps_their_drawing_and_models():
    from streamlit.testing.v1 import AppTest

    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    app.run()
    app.session_state["digitlab_kept_marker"] = "mine"
    picker = app.sidebar.button_group[0] if app.sidebar.button_group else None
    assert picker is not None
    picker.set_value("zh").run()
    assert not app.exception
    assert app.session_state["digitlab_kept_marker"] == "mine"
    assert "神经网络" in " ".join(shown_texts(app._tree)) or "手写" in " ".join(shown_texts(app.sidebar))
