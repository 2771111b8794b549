"""Where a page declares its metadata: ``<meta>`` tags, JSON-LD scripts, canonical links and rel=tag/category
links, gathered in one walk over the page; and the values read out of the JSON-LD objects."""
from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from lxml.html import HtmlElement


@dataclass(frozen=True)
class MarkedElements:
    metas: dict[str, str]  # <meta> property, name or itemprop (lower case) -> first content
    json_ld: list[str]  # texts of <script type="application/ld+json">
    canonical: list[str]  # href of each <link rel="canonical">
    category_links: list[HtmlElement]  # <a rel="category"> and <a rel="category tag">
    tag_links: list[HtmlElement]  # <a rel="tag">


def marked_elements(tree: HtmlElement) -> MarkedElements:
    """The elements metadata is read from, in page order, gathered in one walk over their tags.

    One walk instead of a search per kind (meta tags, JSON-LD, canonical link, category and tag links):
    each search is a pass over the whole page, and five of them cost twice this one.

    >>> from lxml.html import fromstring
    >>> marked = marked_elements(fromstring('<html><head><meta name="Author" content=" A "><link rel="canonical" '
    ...     'href="/x"></head><body><a rel="tag">T</a><a rel="category tag">C</a><meta property="article:tag" '
    ...     'content="U"><meta property="article:tag" content="V"></body></html>'))
    >>> marked.metas, marked.canonical, [a.text for a in marked.category_links], [a.text for a in marked.tag_links]
    ({'author': 'A', 'article:tag': 'U,V'}, ['/x'], ['C'], ['T'])
    """
    metas: dict[str, str] = {}
    json_ld: list[str] = []
    canonical: list[str] = []
    category_links: list[HtmlElement] = []
    tag_links: list[HtmlElement] = []
    # links are searched in the whole document (//link, //a), meta and script tags under ``tree`` (.//meta)
    whole = tree.getroottree().getroot()
    for element in whole.iter("meta", "script", "link", "a"):
        tag, get = element.tag, element.get
        if tree is not whole and tag in ("meta", "script") and tree not in element.iterancestors():
            continue
        if tag == "a":
            rel = get("rel")
            if rel == "tag":
                tag_links.append(element)
            elif rel == "category" or rel == "category tag":
                category_links.append(element)
        elif tag == "meta":
            key = (get("property") or get("name") or get("itemprop") or "").strip().lower()
            content = get("content")
            if key and content and content.strip():
                metas.setdefault(key, content.strip())
                if key in ("article:tag",):  # repeated tags: keep them all
                    metas[key] = metas[key] if metas[key] == content.strip() else f"{metas[key]},{content.strip()}"
        elif tag == "script":
            if get("type") == "application/ld+json":
                json_ld.append(element.text or "")
        elif get("rel") == "canonical" and get("href") is not None:
            canonical.append(get("href"))
    return MarkedElements(metas, json_ld, canonical, category_links, tag_links)


def meta_values(metas: dict[str, str], keys: Iterable[str]) -> list[str]:
    """The non-empty ``<meta>`` contents under ``keys``, in the order of the keys.

    >>> meta_values({"section": "World", "category": ""}, ("article:section", "section", "category"))
    ['World']
    """
    return [metas[key] for key in keys if metas.get(key)]


def json_ld_objects(scripts: Iterable[str]) -> Iterator[dict]:
    """Every object in the JSON-LD scripts, nested graphs and list items included; unreadable scripts skipped.

    >>> [o.get("@type") for o in json_ld_objects(['{"@graph": [{"@type": "NewsArticle"}]}', '{broken', ''])]
    [None, 'NewsArticle']
    """
    for script in scripts:
        text = script.strip().removeprefix("<![CDATA[").removesuffix("]]>").strip()
        if not text:
            continue
        try:
            data = json.loads(text, strict=False)
        except ValueError:
            continue
        yield from _walk_json(data)


def _walk_json(data: object) -> Iterator[dict]:
    if isinstance(data, list):
        for item in data:
            yield from _walk_json(item)
    elif isinstance(data, dict):
        yield data
        for key in ("@graph", "mainEntity", "itemListElement"):
            if key in data:
                yield from _walk_json(data[key])


def is_article(obj: dict) -> bool:
    """Whether a JSON-LD object describes the article (an article or page type with a headline, author or date).

    >>> is_article({"@type": ["NewsArticle"], "headline": "H"}), is_article({"@type": "Organization", "name": "X"})
    (True, False)
    """
    kinds = obj.get("@type")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    return any(isinstance(k, str) and ("Article" in k or k in ("BlogPosting", "Report", "WebPage", "LiveBlogPosting"))
               for k in kinds) and any(key in obj for key in ("headline", "author", "datePublished"))


def json_ld_names(value: object, *, persons: bool) -> list[str]:
    """Names in a JSON-LD author/publisher value; with ``persons`` organisations are skipped."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [name for item in value for name in json_ld_names(item, persons=persons)]
    if isinstance(value, dict):
        kind = value.get("@type")
        if persons and isinstance(kind, str) and kind not in ("Person", ""):
            return []
        name = value.get("name")
        if isinstance(name, str):
            return [name]
        if isinstance(name, list):
            return [n for n in name if isinstance(n, str)]
    return []


def json_values(objects: list[dict], key: str) -> list[str]:
    """The string values (or strings of a list value) of ``key`` in the objects.

    >>> json_values([{"keywords": ["a", 1, "b"]}, {"keywords": "c"}, {}], "keywords")
    ['a', 'b', 'c']
    """
    values: list[str] = []
    for obj in objects:
        value = obj.get(key)
        if isinstance(value, str):
            values.append(value)
        elif isinstance(value, list):
            values.extend(v for v in value if isinstance(v, str))
    return values
