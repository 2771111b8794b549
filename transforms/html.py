"""HTML article extraction: trafilatura with a measured fallback cascade, body clean-up, and clean metadata.

Settings were chosen on the development benchmark (../shared/bench/html, see scripts/score_html.py):
precision-first trafilatura without its external comparison is both the fastest and, once a short result
triggers the slower extractors, the most accurate configuration measured.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from lxml.etree import ElementDefaultClassLookup, ElementNamespaceClassLookup, XPath, _Element
from lxml.html import (HtmlComment, HtmlElement, HtmlElementClassLookup, HtmlEntity, HtmlProcessingInstruction,
                       HTMLParser, fromstring)
from trafilatura import bare_extraction
from trafilatura.baseline import html2txt
from trafilatura.utils import DOCTYPE_TAG, FAULTY_HTML, repair_faulty_html
from trafilatura.xml import xmltotxt
from trafilatura import xpaths as trafilatura_xpaths
from trafilatura.xpaths import BODY_XPATH

from transforms.metadata import read_metadata


@dataclass(frozen=True)
class ExtractedPage:
    body: str
    title: str | None = None
    authors: tuple[str, ...] = ()
    published: str | None = None  # ISO date as the page gives it
    url: str | None = None
    hostname: str | None = None
    site_name: str | None = None
    categories: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    published_at: str | None = None  # the page's timestamp string when it has a time of day (for parse_datetime)
    description: str | None = None
    declared_language: str | None = None  # <html lang>; a hint, templates often leave "en" on every page
    extractor: str = ""  # which cascade step produced the body, for audits: "precision_fast", ... or "" when none


@dataclass(frozen=True)
class ExtractionSettings:
    """The cascade's knobs with the values measured on the benchmark (F1 0.974 before the chrome pass)."""

    # trafilatura runs, first to last; a later one runs only when the body so far is implausibly short.
    cascade: tuple[tuple[str, dict], ...] = (
        ("precision_fast", {"fast": True, "favor_precision": True}),  # F1 0.946 alone, 11 ms/page
        ("precision", {"favor_precision": True}),  # adds readability/jusText comparison, 30 ms/page
        ("balanced_fast", {"fast": True}),  # recall-leaning rules, for pages the precision rules empty out
    )
    short_chars: int = 250  # a body under this many characters is implausibly short
    short_share: float = 0.10  # ... and so is one under this share of the page's visible text
    whole_page_share: float = 0.90  # a fallback returning nearly all page text is a page dump, not an article


DEFAULT_SETTINGS = ExtractionSettings()
_SPACE = re.compile(r"\s+")
_EMBED_WRAPPER = re.compile(r"social|embed|share|tweet|twitter", re.I)
_WORD = re.compile(r"\W+")
_BODY_TEXT = XPath(".//text()[not(parent::script or parent::style or parent::svg or parent::template)]",
                   smart_strings=False)


def _element_classes() -> ElementNamespaceClassLookup:
    """lxml.html's element classes (HtmlElement, FormElement for <form>, ...) picked in C.

    lxml.html's own lookup is a Python method called for every element object lxml hands out; trafilatura's
    XPath pruning and tree walks hand out hundreds of thousands per page set, and the call was a tenth of
    the extraction time. The classes are the same, so every step sees the same tree.
    """
    lookup = ElementNamespaceClassLookup(ElementDefaultClassLookup(
        element=HtmlElement, comment=HtmlComment, pi=HtmlProcessingInstruction, entity=HtmlEntity))
    by_tag = lookup.get_namespace(None)
    for tag, element_class in HtmlElementClassLookup._default_element_classes.items():
        by_tag[tag] = element_class
    return lookup


# trafilatura.utils.HTML_PARSER's settings, with the C-level class lookup.
_PARSER = HTMLParser(collect_ids=False, default_doctype=False, encoding="utf-8", remove_comments=True, remove_pis=True)
_PARSER.set_element_class_lookup(_element_classes())


def extract_html(html: str, *, url: str | None = None, settings: ExtractionSettings = DEFAULT_SETTINGS,
                 no_controls: bool = False) -> ExtractedPage:
    """Article body and metadata from an HTML page; an empty body when nothing is found.

    ``no_controls``: the text holds no C0 control characters (decode_text removed them), see :func:`parse_html`.

    >>> page = extract_html("<html><head><title>T</title></head><body><article><p>" + "Word " * 60 + "</p></article></body></html>")
    >>> page.body.startswith("Word Word")
    True
    """
    tree = parse_html(html, no_controls=no_controls)
    if tree is None:
        return ExtractedPage(body="")
    meta = read_metadata(tree, url=url)
    body, extractor = extract_body(tree, title=meta.title, settings=settings)
    return ExtractedPage(
        body=body,
        title=meta.title,
        authors=meta.authors,
        published=meta.published,
        url=meta.url,
        hostname=meta.hostname,
        site_name=meta.site_name,
        categories=meta.categories,
        tags=meta.tags,
        published_at=meta.published_at,
        description=meta.description,
        declared_language=meta.declared_language,
        extractor=extractor if body else "",
    )


def parse_html(html: str, *, no_controls: bool = False) -> HtmlElement | None:
    """The tree trafilatura's ``load_html`` builds from a string (mirrors trafilatura 2.3.1), or None for non-HTML.

    ``no_controls`` says the text holds no C0 control characters, so the scan that deletes them (a regular
    expression over the whole page, a third of the parse time) only has to look for U+FFFE and U+FFFF.

    >>> parse_html("<html><body><p>Hi</p></body></html>").findtext(".//p")
    'Hi'
    >>> parse_html("just text") is None
    True
    """
    beginning = html[:50].lower()
    dubious = "html" not in beginning  # trafilatura: is_dubious_html
    if not no_controls or "\ufffe" in html or "\uffff" in html:
        html = repair_faulty_html(html, beginning)
    else:  # repair_faulty_html without its control-character pass, which would find nothing
        if "doctype" in beginning:
            first_line, _, rest = html.partition("\n")
            html = DOCTYPE_TAG.sub("", first_line, count=1) + "\n" + rest
        for line in html[:4096].splitlines()[:4]:
            if "<html" in line and line.endswith("/>"):
                html = FAULTY_HTML.sub(r"\1>", html, count=1)
                break
    tree, bytes_parsed = None, False
    try:
        tree = fromstring(html, parser=_PARSER)
    except ValueError:  # "Unicode strings with encoding declaration are not supported."
        tree, bytes_parsed = _parse_bytes(html), True
    except Exception:  # trafilatura logs and goes on without a tree
        pass
    if (tree is None or len(tree) < 1) and not bytes_parsed:
        tree = _parse_bytes(html)
    if tree is not None and dubious and len(tree) < 2:
        return None  # not (well-formed) HTML at all
    return tree


def _parse_bytes(html: str) -> HtmlElement | None:
    try:
        return fromstring(html.encode("utf8", "surrogatepass"), parser=_PARSER)
    except Exception:
        return None


def extract_body(tree: HtmlElement, *, title: str | None = None,
                 settings: ExtractionSettings = DEFAULT_SETTINGS) -> tuple[str, str]:
    """The article text of a parsed page and the name of the cascade step that produced it.

    The tree may be modified (split article bodies are joined); pass a copy to keep it.
    """
    posts, paragraphs, script_chars = _page_parts(tree)
    if _expose_embedded_posts(posts):
        paragraphs = script_chars = None  # wrappers are gone: count again
    body, length, name, text = _cascade(tree, settings, script_chars=script_chars)
    if body is not None and _few_paragraphs(tree, body, paragraphs) and _join_split_body(tree):
        joined = _cascade(tree, settings)
        if joined[1] > length:
            body, _, name, text = joined
    if body is None:
        return "", ""
    if _drop_title_heads(body, title):
        text = xmltotxt(body, False)
    return text.strip(), name  # else trafilatura's own rendering of the body (xmltotxt without formatting)


def _cascade(tree: HtmlElement, settings: ExtractionSettings,
             script_chars: int | None = None) -> tuple[_Element | None, int, str, str]:
    """Run the cascade's extractors until one gives a plausible length; the longest sane result wins.

    Returns the body element, the length of its text, the step's name and the text. ``script_chars``: the
    length of the page's script and style texts when already known.
    """
    best_body: _Element | None = None
    best_len, best_name, best_text = 0, "", ""
    page_len: int | None = None
    for index, (name, options) in enumerate(settings.cascade):
        if index and page_len is None:
            page_len = len(html2txt(tree))
        document = bare_extraction(tree, include_comments=False, with_metadata=False, **options)
        length = len(document.text or "") if document is not None else 0
        if index and length >= settings.whole_page_share * page_len:
            continue  # a page dump: menus, footers and all
        if length > best_len:
            best_body, best_len, best_name, best_text = document.body, length, name, document.text
        if best_len < settings.short_chars:
            continue
        if page_len is None:
            # visible text without scripts bounds html2txt from above and costs far less to get
            if script_chars is None:
                script_chars = sum(len(s.text or "") for s in tree.iter("script", "style"))
            bound = len(tree.text_content()) - script_chars
            if best_len >= settings.short_share * bound:
                break
            body = tree.find(".//body")  # html2txt reads the <body> (all of a page without one)
            if body is not None and best_len >= settings.short_share * _body_text_bound(body):
                break
            page_len = len(html2txt(tree))
        if best_len >= settings.short_share * page_len:
            break
    return best_body, best_len, best_name, best_text


def _body_text_bound(body: HtmlElement) -> int:
    """An upper bound of ``len(html2txt(tree))`` at a fifth of its cost: the words of ``body``, one space apart.

    html2txt (trafilatura 2.3.1) deletes elements from a copy of the page's <body>, puts spaces at block
    edges and joins the words with single spaces. Deleting only removes words or glues them together, and
    the added spaces split only at text-node edges, where the words below are split already: its words are
    never more, nor longer, than these. Text directly in script, style, svg and template elements is left
    out here because html2txt deletes those elements.

    >>> from lxml.html import fromstring
    >>> _body_text_bound(fromstring("<html><body><p>One  two</p><script>var x;</script><p>three</p></body></html>").body)
    13
    """
    words = " ".join(_BODY_TEXT(body)).split()
    return sum(map(len, words)) + len(words) - 1 if words else 0


def _few_paragraphs(tree: HtmlElement, body: _Element, page_paragraphs: int | None = None) -> bool:
    """Whether the result holds under half of the page's paragraphs, the mark of a body split in chunks."""
    if page_paragraphs is None:
        page_paragraphs = tree.xpath("count(//p)")
    return page_paragraphs >= 10 and sum(1 for _ in body.iter("p")) < page_paragraphs / 2


def _page_parts(tree: HtmlElement) -> tuple[list[HtmlElement], int | None, int | None]:
    """The embedded posts (//blockquote[contains(@class, 'twitter-tweet')]), the number of paragraphs
    (count(//p)) and the length of the script and style texts of a page, in one walk; the two numbers are
    None for a fragment's root, whose document holds more than the tree.

    >>> from lxml.html import fromstring
    >>> _page_parts(fromstring("<html><head><style>p{}</style></head><body><p>a</p><blockquote class='twitter-tweet'>"
    ...                        "<p>b</p></blockquote></body></html>"))
    ([<Element blockquote at ...>], 2, 3)
    """
    if tree.getparent() is not None:
        return [quote for quote in tree.getroottree().iter("blockquote") if _is_post(quote)], None, None
    posts: list[HtmlElement] = []
    paragraphs = script_chars = 0
    for element in tree.iter("p", "blockquote", "script", "style"):
        tag = element.tag
        if tag == "p":
            paragraphs += 1
        elif tag == "blockquote":
            if _is_post(element):
                posts.append(element)
        else:
            script_chars += len(element.text or "")
    return posts, paragraphs, script_chars


def _is_post(quote: HtmlElement) -> bool:
    return "twitter-tweet" in (quote.get("class") or "")


def _expose_embedded_posts(posts: list[HtmlElement]) -> bool:
    """Lift embedded tweets out of their "social"/"embed" wrappers, which trafilatura discards as share widgets;
    whether any was.

    Articles quote posts as evidence ("a whole lot of people on Twitter pointed it out", then the posts);
    as plain blockquotes they are kept like any other quotation.
    """
    moved = False
    for post in posts:
        wrapper = None
        for depth, ancestor in enumerate(post.iterancestors()):
            if depth >= 3 or ancestor.tag in ("body", "article", "main"):
                break
            if _EMBED_WRAPPER.search(f"{ancestor.get('class') or ''} {ancestor.get('id') or ''}"):
                wrapper = ancestor
        if wrapper is not None and wrapper.getparent() is not None:
            post.tail = wrapper.tail
            wrapper.getparent().replace(wrapper, post)
            moved = True
    return moved


def _join_split_body(tree: HtmlElement) -> bool:
    """Join an article body split over sibling containers ("chunks") into the first one.

    trafilatura reads only the first element matching its body expressions; magazines that cut the
    article into same-class blocks around ads lose everything after the first block. Blocks are joined
    only when they share tag and class, live in the same <article> (or none) and hold paragraphs.
    Returns whether anything was joined.
    """
    joined = False
    for index, expression in enumerate(BODY_XPATH):
        matches = _article_bodies(tree) if index == 0 and _ARTICLE_BODY_RES else expression(tree)
        if not matches:
            continue
        first = matches[0]
        home = next(first.iterancestors("article"), None)
        for other in matches[1:]:
            if other.tag != first.tag or other.get("class") != first.get("class") or not first.get("class"):
                continue
            if first in other.iterancestors() or other in first.iterancestors():
                continue
            if next(other.iterancestors("article"), None) is not home or not other.xpath("count(.//p) >= 2"):
                continue
            for child in list(other):
                first.append(child)
            joined = True
        return joined
    return joined


def _article_body_res() -> tuple[re.Pattern, re.Pattern] | None:
    """The id and class patterns of trafilatura's first body expression, when it reads as in trafilatura 2.3.1."""
    tokens = trafilatura_xpaths
    try:  # private names of trafilatura.xpaths
        ids, classes = tokens._alt(tokens._ARTICLE_CONTENT_ID_TOKENS), tokens._alt(tokens._ARTICLE_CONTENT_CLASS_TOKENS)
    except (AttributeError, TypeError, ValueError):
        return None
    expected = (".//*[self::article or self::div or self::main or self::section][ @class='post' or @class='entry' or "
                f"@itemprop='articleBody' or @id='articleContent' or re:test(@id, '{ids}') or "
                f"re:test(@class, '{classes}') ][1]")
    if " ".join(BODY_XPATH[0].path.split()) != expected:
        return None  # another trafilatura: its XPath is used as it is
    return re.compile(ids), re.compile(classes)  # EXSLT re:test is Python's re.search without flags


_ARTICLE_BODY_RES = _article_body_res()


def _article_bodies(tree: HtmlElement) -> list[HtmlElement]:
    """``BODY_XPATH[0](tree)`` in a walk over the four tags: the first matching child of each parent, in page order.

    The XPath calls back into Python for each of its two re:test per element; this costs a third.
    """
    ids, classes = _ARTICLE_BODY_RES
    found: list[HtmlElement] = []
    parents: set[HtmlElement] = set()
    for element in tree.iter("article", "div", "main", "section"):
        parent = element.getparent()
        if element is tree or parent in parents:
            continue  # .//* holds descendants only; [1]: only the first match among a parent's children
        get = element.get
        class_, id_ = get("class"), get("id")
        if class_ == "post" or class_ == "entry" or get("itemprop") == "articleBody" or id_ == "articleContent" \
                or ids.search(id_ or "") or classes.search(class_ or ""):
            found.append(element)
            parents.add(parent)
    return found


def _drop_title_heads(body: _Element, title: str | None) -> bool:
    """Remove the headline (and the deck right under it) repeated at the top of the body; whether any was.

    On the benchmark 34 of 38 leading <h1> copies were not part of the article text.
    """
    key = _key(title or "")
    dropped = changed = False
    for element in list(body):
        text = _key("".join(element.itertext()))
        if not text:
            continue
        is_title = bool(key) and (text == key or (len(text) > 20 and (text in key or key in text)))
        if element.tag == "head" and (element.get("rend") == "h1" or is_title or dropped):
            _remove(element)
            dropped = changed = True
        else:
            break
    if key:  # the headline again lower down (a sticky header or a share box) is never article text
        for element in list(body.iter("head", "p")):
            raw = "".join(element.itertext())
            if len(raw) > 2 * len(key) + 20:
                continue  # far longer than the headline: cheap to rule out before normalising
            text = _key(raw)
            if text and (text == key or (len(text) > 20 and text in key)):
                _remove(element)
                changed = True
    return changed


def _remove(element: _Element) -> None:
    parent = element.getparent()
    if parent is None:
        return
    if element.tail and element.tail.strip():
        previous = element.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + element.tail
        else:
            parent.text = (parent.text or "") + element.tail
    parent.remove(element)


def _key(text: str) -> str:
    return _SPACE.sub(" ", _WORD.sub(" ", text.lower())).strip()
