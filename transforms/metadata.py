"""Page metadata from a parsed HTML tree, cleaned: person-only authors, bare titles, canonical URL, tags.

Sources are read in order of trust (JSON-LD, then ``<meta>`` tags, then the visible page) and every
value goes through a small pure cleaner, so "A; A B; Site com" becomes ``("A B",)``.
"""
from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit, urlunsplit

from htmldate import find_date
from lxml.html import HtmlElement
from lxml.etree import XPath

from transforms.page_sources import (is_article, json_ld_names, json_ld_objects, json_values, marked_elements,
                                    meta_values)


@dataclass(frozen=True)
class PageMetadata:
    title: str | None = None
    authors: tuple[str, ...] = ()
    published: str | None = None  # ISO date (YYYY-MM-DD)
    published_at: str | None = None  # the page's own timestamp string when it carries a time of day
    url: str | None = None  # canonical URL
    hostname: str | None = None
    site_name: str | None = None
    categories: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    description: str | None = None
    declared_language: str | None = None  # ISO 639-1 from <html lang>; a hint only, often a template default


_AUTHOR_META = ("author", "article:author", "parsely-author", "sailthru.author", "dc.creator", "dc:creator",
                "byl", "citation_author", "dcterms.creator", "article_author")
_SITE_META = ("og:site_name", "application-name", "al:android:app_name", "al:ios:app_name", "twitter:site")
_TITLE_META = ("og:title", "twitter:title", "sailthru.title", "parsely-title")
_CATEGORY_META = ("article:section", "parsely-section", "section", "category")
_TAG_META = ("article:tag", "news_keywords", "parsely-tags", "sailthru.tags")
_DATETIME_META = ("article:published_time", "og:published_time", "datepublished", "pubdate", "publishdate",
                  "date", "dc.date", "dc.date.issued", "sailthru.date", "parsely-pub-date", "article.published")

# Separators sites put between a headline and their own name: "Headline | Site", "Site - Headline".
_TITLE_SEPARATOR = re.compile(r"\s+[|–—\-·•:»/]\s+|\s*\|\s*")
_SPLIT_AUTHORS = re.compile(r"\s*(?:;|\||,|&|\band\b|\bund\b|\bet\b|\s/\s|\n)\s*", re.I)
# Words that lead a byline: "By", "Analysis by", "Text:", "Текст" (Russian "text"), "Von", "Por".
_BYLINE_LEAD = re.compile(
    r"^(?:.*?\bby\b[:\s]*|(?:by|von|por|par|door|av|text|texto|texte|текст|автор|фото|words|posted|written|story|"
    r"reporting|report|analysis|opinion|commentary|reviewed|edited)\b[:\s]*)", re.I)
# A byline ends where a date, a time or a badge begins: "Jeff Foust Monday", "Carrie Arnold November 15".
_MONTHS_AND_DAYS = frozenset("""
january february march april june july august september october november december jan feb mar apr jun jul aug sep
sept oct nov dec monday tuesday wednesday thursday friday saturday sunday
""".split())
_TIME_WORDS = frozenset("""
published updated posted last ago minute minutes min mins hour hours hr hrs second seconds day days week weeks month
months year years yesterday today read reading
""".split())
# Any of these words marks the part as an organisation or a role, not a person.
_NOT_PERSON_WORDS = frozenset("""
staff writer writers editor editors editorial redaktion redacción redação rédaction redazione reporter reporters
correspondent correspondents contributor contributors columnist team desk bureau newsroom news wire wires
service services press agency agencies media magazine network networks online digital group international
national political sports senior associated reuters afp ap pti ians upi dpa ansa efe tass xinhua bloomberg
admin administrator webmaster guest author authors anonymous unknown user moderator publisher publishing
inc ltd llc plc gmbh corp company co university department ministry ministries government council office
municipal prefeitura câmara ayuntamiento mairie comune city county state police institute foundation association
blog blogs site website com org net www http https copyright rights reserved the sponsored partner content
post times daily journal herald tribune gazette chronicle
""".split())
# Outlet words after a two-word name are cut off ("JILL LAWLESS Associated Press"); role words reject the
# whole part instead, because "Science X staff" is a desk, not a person called Science X.
_ROLE_WORDS = frozenset("""
staff writer writers editor editors editorial redaktion reporter reporters correspondent correspondents contributor
contributors columnist team desk bureau newsroom admin administrator webmaster guest moderator user anonymous unknown
""".split())
_WIRE_AGENCIES = frozenset("ap afp pti ians upi dpa ansa efe tass xinhua reuters bloomberg".split())
_NAME_PARTICLES = frozenset("""
van von der den de del della di da das do dos du la le les lo ter ten bin binti ibn al el y e zu af av mac st
""".split())
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")
_LETTERS = re.compile(r"[^\w]+|_", re.UNICODE)
_TAG_JUNK = re.compile(r"^[@#]|_|^https?:|\.(?:com|org|net|info)$", re.I)
_MAX_TAGS = 25
# One cheap pass over the visible page for bylines and tag links; trafilatura's own author search copies and
# prunes the whole tree (about 12 ms a page), too slow for a fallback that runs on half the pages.
_BYLINE_TAGS = ("a", "span", "div", "p", "address", "li", "strong")
_MAX_BYLINES = 8
_VISIBLE_TIME_XPATH = XPath("(//*[@itemprop='datePublished']/@content|//*[@itemprop='datePublished']/@datetime"
                            "|//article//time/@datetime|//time[@pubdate]/@datetime)[position() <= 3]")
_TIMESTAMP = re.compile(r"(?:199|2\d\d)\d-\d{2}-\d{2}[T ]\d{1,2}:\d{2}")  # 0001-01-01T00:00 is a CMS default
_DOMAIN = re.compile(r"(?:www\.)?[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,12}", re.I)
_DATE = re.compile(r"(?:199|2\d\d)\d-[01]\d-[0-3]\d")
_LOCAL_OFFSET = re.compile(r"T.*\d[+-](?!00:?00)\d\d:?\d\d$")  # "+05:30", "-0500"; not "+00:00" (UTC)


def read_metadata(tree: HtmlElement, *, url: str | None = None) -> PageMetadata:
    """Title, authors, dates, canonical URL, site and taxonomy of a parsed page; the tree is not modified.

    >>> from lxml.html import fromstring
    >>> page = fromstring('<html lang="en-GB"><head><title>Rain due | Daily Bugle</title>'
    ...     '<meta property="og:site_name" content="Daily Bugle"><meta name="author" content="Jane Roe; Daily Bugle">'
    ...     '<link rel="canonical" href="https://www.bugle.example/rain?utm_source=x#top"></head><body></body></html>')
    >>> meta = read_metadata(page)
    >>> meta.title, meta.authors, meta.site_name, meta.url, meta.hostname, meta.declared_language
    ('Rain due', ('Jane Roe',), 'Daily Bugle', 'https://www.bugle.example/rain?utm_source=x', 'bugle.example', 'en')
    """
    marked = marked_elements(tree)
    metas = marked.metas
    objects = list(json_ld_objects(marked.json_ld))
    articles = [o for o in objects if is_article(o)] or objects
    canonical = _canonical(marked.canonical, metas, fallback=url)
    hostname = _hostname(canonical or url)
    publishers = [name for o in objects for name in json_ld_names(o.get("publisher"), persons=False)]
    site_name = clean_site_name(_first(metas.get(key) for key in _SITE_META) or _first(publishers), hostname=hostname)
    if hostname is None and site_name and _DOMAIN.fullmatch(site_name):
        hostname = site_name.lower().removeprefix("www.")  # "PanARMENIAN.Net": the site names itself by domain
    site_names = tuple(filter(None, (site_name, hostname, *publishers)))

    categories = clean_terms(json_values(articles, "articleSection") or meta_values(metas, _CATEGORY_META),
                             site_names=site_names)
    tags = clean_terms(json_values(articles, "keywords") or meta_values(metas, _TAG_META), site_names=site_names)
    if not categories:
        categories = clean_terms(_link_texts(marked.category_links), site_names=site_names)
    if not tags:
        tags = clean_terms(_link_texts(marked.tag_links) or meta_values(metas, ("keywords",)), site_names=site_names)

    raw_title = _first(metas.get(key) for key in _TITLE_META) or _first(str(o.get("headline") or "") for o in articles) \
        or _first(tree.xpath("//head/title/text()")) or _first(tree.xpath("//h1//text()"))
    published_at = _timestamp(articles, metas, tree)
    return PageMetadata(
        title=clean_title(raw_title, site_names=site_names, sections=categories),
        authors=_authors(tree, articles, metas, site_names=site_names),
        published=_published_date(tree, canonical, articles, metas),
        published_at=published_at,
        url=canonical,
        hostname=hostname,
        site_name=site_name,
        categories=categories,
        tags=tags,
        description=_squash(metas.get("og:description") or metas.get("description")) or None,
        declared_language=_declared_language(tree),
    )


def clean_authors(values: Iterable[str], *, site_names: Iterable[str] = ()) -> tuple[str, ...]:
    """Person names from raw author strings: no sites, roles, agencies, dates or handles.

    >>> clean_authors(["Troy Smith; Troy L. Smith; Cleveland com"], site_names=["cleveland.com"])
    ('Troy L. Smith',)
    >>> clean_authors(["JERUSALEM POST STAFF NOVEMBER 20, 2019", "Mike Wuerthele; Malcolm Owen Monday; November"])
    ('Mike Wuerthele', 'Malcolm Owen')
    >>> clean_authors(["Analysis by Chris Cillizza, CNN Editor-at-large", "5 minutes ago", "Reuters", "Admin"])
    ('Chris Cillizza',)
    >>> clean_authors(["STEVE PEOPLES, AP National Political Writer", "@handle", "Finian Cunningham. Sputnik International"],
    ...               site_names=["Sputnik News", "sputniknews.com"])
    ('Steve Peoples', 'Finian Cunningham')
    """
    site_keys = _site_keys(site_names)
    names: list[str] = []
    for value in values:
        for part in _SPLIT_AUTHORS.split(_squash(value)):
            name = _person_name(part, site_keys)
            if name:
                names.append(name)
    return _dedupe_names(names)


def clean_title(title: str | None, *, site_names: Iterable[str] = (), sections: Iterable[str] = ()) -> str | None:
    """The headline without the site name or section glued to it.

    >>> clean_title("Rain due tomorrow | Daily Bugle", site_names=["Daily Bugle"])
    'Rain due tomorrow'
    >>> clean_title("Opinion | Republicans Are Following Trump", sections=["Opinion"])
    'Republicans Are Following Trump'
    >>> clean_title("MacBook sale from $700 - 9to5Mac", site_names=["9To5Mac", "9to5mac.com"])
    'MacBook sale from $700'
    >>> clean_title("Star Wars - A New Hope")
    'Star Wars - A New Hope'
    """
    title = _squash(title or "")
    if not title:
        return None
    drop = _site_keys(site_names) | {_key(s) for s in sections if _key(s)}
    segments = _TITLE_SEPARATOR.split(title)
    if len(segments) > 1 and drop:
        while len(segments) > 1 and _is_site_segment(segments[-1], drop):
            segments.pop()
        while len(segments) > 1 and _is_site_segment(segments[0], drop):
            segments.pop(0)
        if len(segments) < len(_TITLE_SEPARATOR.split(title)):
            # re-cut the original string so separators inside the kept headline survive
            start = title.find(segments[0])
            end = title.rfind(segments[-1]) + len(segments[-1])
            title = title[start:end].strip()
    return title or None


def clean_site_name(name: str | None, *, hostname: str | None = None) -> str | None:
    """A readable site name: no handles, URLs, taglines after a bar, or copyright lines.

    >>> clean_site_name("@nytimes")
    'nytimes'
    >>> clean_site_name("LinkNaija | Nigeria's popular news platform")
    'LinkNaija'
    >>> clean_site_name("https://www.hawaiinewsnow.com")
    'hawaiinewsnow.com'
    >>> clean_site_name("Copyright 2014", hostname="jaraguadosul.sc.gov.br") is None
    True
    """
    name = _squash(name or "").lstrip("@/").strip("_ ")
    if not name or re.search(r"copyright|©|all rights", name, re.I):
        return None
    if re.match(r"https?://", name):
        return _hostname(name)
    name = re.split(r"\s+\|\s+|\s+[–—]\s+", name)[0].strip()
    return name or None


def clean_terms(values: Iterable[str], *, site_names: Iterable[str] = ()) -> tuple[str, ...]:
    """Categories or tags: comma lists split, internal codes, sentences and site names dropped, order kept.

    >>> clean_terms(["Electronic Arts,EA, Microsoft", "ctp_video", "@lll", "Gizmodo", "ea"], site_names=["Gizmodo"])
    ('Electronic Arts', 'EA', 'Microsoft')
    """
    site_keys = _site_keys(site_names)
    seen: set[str] = set()
    terms: list[str] = []
    for value in values:
        for term in re.split(r"\s*[,;]\s*", _squash(html.unescape(value))):
            term = re.sub(r"^(?:category|topic|tag)\s*:\s*", "", term.strip(" .|/"), flags=re.I)
            key = _key(term)
            if not key or key in seen or key in site_keys or _TAG_JUNK.search(term) or len(term) > 50 \
                    or len(term.split()) > 6:
                continue
            seen.add(key)
            terms.append(term)
    return tuple(terms[:_MAX_TAGS])


def canonical_url(tree: HtmlElement, *, metas: dict[str, str] | None = None, fallback: str | None = None) -> str | None:
    """The page's own absolute URL: ``<link rel=canonical>``, then ``og:url``, then ``fallback``; fragment dropped.

    >>> from lxml.html import fromstring
    >>> canonical_url(fromstring('<html><head><link rel="canonical" href="/a/b"></head></html>'),
    ...               fallback="https://x.example/a/b?p=1")
    'https://x.example/a/b'
    """
    marked = marked_elements(tree)
    return _canonical(marked.canonical, marked.metas if metas is None else metas, fallback=fallback)


def _canonical(links: list[str], metas: dict[str, str], *, fallback: str | None) -> str | None:
    base = fallback or metas.get("og:url")
    for candidate in (*links, metas.get("og:url"), fallback):
        url = _absolute(candidate, base)
        if url:
            return url
    return None


def _authors(tree: HtmlElement, articles: list[dict], metas: dict[str, str], *, site_names: tuple[str, ...]) -> tuple[str, ...]:
    # First source that yields a person wins: merging sources is how "A; A B" lists arise.
    authors = clean_authors([n for o in articles for n in json_ld_names(o.get("author") or o.get("creator"), persons=True)],
                            site_names=site_names)
    if not authors:
        authors = clean_authors([metas[key] for key in _AUTHOR_META if metas.get(key) and not metas[key].startswith("http")],
                                site_names=site_names)
    if authors:
        return authors
    # On the visible page one byline element counts, not a merge: the others are copies or belong to teasers.
    # A byline runs on into its date ("X and Y Sioux Falls Argus Leader Published 10:02 AM"), so each text is
    # cut at its first date or time word, and the element naming the most people wins (the first on a tie).
    candidates = [clean_authors([_until_date(text)], site_names=site_names) for text in _visible_bylines(tree)]
    return max(candidates, key=len, default=())


def _until_date(text: str) -> str:
    """The text before its first date, time or badge word.

    >>> _until_date("Carlos Nadalim 27/09/2018 Comente! Alfabetização, Música")
    'Carlos Nadalim'
    """
    tokens = text.split()
    for index, token in enumerate(tokens):
        key = _key(token)
        if index and (any(c.isdigit() for c in token) or key in _TIME_WORDS or key in _MONTHS_AND_DAYS):
            return " ".join(tokens[:index])
    return text


def _visible_bylines(tree: HtmlElement) -> list[str]:
    texts: list[str] = []
    for element in _byline_elements(tree):
        text = _short_text(element, 160)  # room for a date after the names
        if text and len(text) >= 3:
            texts.append(text)
    return texts


def _byline_elements(tree: HtmlElement) -> list[HtmlElement]:
    """The page's first byline or author elements outside comment threads, in page order.

    The XPath ``//*[self::a or ...][@rel='author' or ... contains(@class, 'byline') ...][not(ancestor::*[contains(@class,
    'comment')])]`` in a walk over the tags: libxml2 tested every element of the page, at twice the cost.

    >>> from lxml.html import fromstring
    >>> page = fromstring('<html><body><p class="byline">By A</p><div class="comments"><a rel="author">B</a></div>'
    ...                   '<span itemprop="author">C</span></body></html>')
    >>> [e.text for e in _byline_elements(page)]
    ['By A', 'C']
    """
    found: list[HtmlElement] = []
    for element in tree.getroottree().iter(_BYLINE_TAGS):
        get = element.get
        marks = get("class") or ""
        if get("rel") == "author" or get("itemprop") == "author" or "byline" in marks or "author" in marks \
                or "byline" in (get("id") or ""):
            if not any("comment" in (ancestor.get("class") or "") for ancestor in element.iterancestors()):
                found.append(element)
                if len(found) == _MAX_BYLINES:
                    break
    return found


def _short_text(element: HtmlElement, limit: int) -> str | None:
    """The element's text when it is at most ``limit`` characters; stops reading early (author boxes can wrap pages)."""
    parts: list[str] = []
    size = 0
    for part in element.itertext():
        size += len(part)
        if size > 4 * limit:  # raw text carries indentation; normalise only what could still fit
            return None
        parts.append(part)
    text = _squash(" ".join(parts))
    return text if len(text) <= limit else None


def _link_texts(elements: list) -> list[str]:
    return [_squash(" ".join(element.itertext())) for element in elements[:_MAX_TAGS]]


def _person_name(part: str, site_keys: set[str]) -> str | None:
    part = re.sub(r"\S+@\S+|https?://\S+|\([^)]*\)|\[[^\]]*\]", " ", part)
    part = re.split(r"(?<=\w\w)\.\s+(?=[A-Z])", part)[0]  # "Name. Outlet" → "Name"
    part = _BYLINE_LEAD.sub("", part.strip(" \t:.-–—·"))
    tokens = [t for t in re.split(r"\s+", part.strip(" ,.:-–—·'\"")) if t]
    for index, token in enumerate(tokens):
        key = _key(token)
        if any(c.isdigit() for c in token) or key in _TIME_WORDS or (index and key in _MONTHS_AND_DAYS) \
                or (index >= 2 and _starts_outlet(tokens, index, site_keys)):
            tokens = tokens[:index]  # cut a trailing date, badge or outlet: "Finian Cunningham Sputnik International"
            break
    if not tokens or len(tokens) > 5:
        return None
    whole = _key(" ".join(tokens)).replace(" ", "")
    if any(w in _NOT_PERSON_WORDS for t in tokens for w in _key(t).split()) \
            or any(len(_key(t)) >= 3 and _key(t) in site_keys for t in tokens) \
            or any(len(whole) >= 5 and whole in site.replace(" ", "") for site in site_keys):
        return None
    if any(c in "@#/\\=+<>{}" for t in tokens for c in t):
        return None
    words = [t for t in tokens if t.lower().strip(".") not in _NAME_PARTICLES]
    if len(tokens) == 1 and not (_CJK.search(tokens[0]) and 2 <= len(tokens[0]) <= 5):
        return None  # one word is a handle, a first name or an outlet, not a byline we can trust
    if not words or not all(w[0].isupper() or _CJK.match(w) for w in words):
        return None
    if all(w.isupper() for w in words if len(w.strip(".")) > 1):
        tokens = [t.lower() if t.lower() in _NAME_PARTICLES else t if len(t.strip(".")) == 1 else t.capitalize()
                  for t in tokens]
    return " ".join(tokens)


def _starts_outlet(tokens: list[str], index: int, site_keys: set[str]) -> bool:
    """Whether an outlet begins at ``tokens[index]``, after a name: the site, a wire agency, or an organisation
    word in normal case after a name in capitals ("JILL LAWLESS Associated Press"). Without such a cue the part
    is left whole, and rejected later if it holds an organisation word ("NJ Advance Media")."""
    token, key = tokens[index], _key(tokens[index])
    if _is_site_token(token, site_keys) or key in _WIRE_AGENCIES:
        return True
    return key in _NOT_PERSON_WORDS - _ROLE_WORDS and not token.isupper() and all(t.isupper() for t in tokens[:index])


def _dedupe_names(names: list[str]) -> tuple[str, ...]:
    kept: list[str] = []
    token_sets = [set(_key(n).split()) for n in names]
    for index, name in enumerate(names):
        tokens = token_sets[index]
        if any(tokens == token_sets[j] for j in range(index)):
            continue  # same name seen earlier
        if any(tokens < token_sets[j] for j in range(len(names)) if j != index):
            continue  # "Troy Smith" when "Troy L. Smith" is also there
        kept.append(name)
    return tuple(kept)


def _is_site_token(token: str, site_keys: set[str]) -> bool:
    key = _key(token).replace(" ", "")
    return len(key) >= 3 and any(site.replace(" ", "").startswith(key) for site in site_keys)


def _is_site_segment(segment: str, drop: set[str]) -> bool:
    key = _key(segment)
    if not key:
        return True
    squeezed = key.replace(" ", "")
    return any(key == d or squeezed == d.replace(" ", "") or (len(squeezed) >= 4 and squeezed in d.replace(" ", ""))
               for d in drop)


def _site_keys(site_names: Iterable[str]) -> set[str]:
    keys: set[str] = set()
    for name in site_names:
        if not name:
            continue
        keys.add(_key(name))
        host = name.lower()
        if "." in host and " " not in host:  # a hostname: "cleveland.com" also means "cleveland com" and "cleveland"
            host = host.removeprefix("www.")
            keys.add(_key(host))
            keys.add(_key(host.split(".")[0]))
    keys.discard("")
    return keys


@lru_cache(maxsize=8192)  # the same tokens and site names are keyed many times per page
def _key(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode() or text
    return " ".join(_LETTERS.sub(" ", folded.lower()).split())


def _squash(text: str | None) -> str:
    return " ".join((text or "").split())


def _first(values: Iterable[str | None]) -> str | None:
    for value in values:
        value = _squash(value)
        if value:
            return value
    return None


def _timestamp(articles: list[dict], metas: dict[str, str], tree: HtmlElement) -> str | None:
    declared = [str(o.get("datePublished") or "") for o in articles] + [metas.get(key, "") for key in _DATETIME_META]
    found = _first_timestamp(declared)
    if found is None:  # the page body is searched only when the declarations have no time (it costs a tree scan)
        found = _first_timestamp(_VISIBLE_TIME_XPATH(tree))
    return found


def _first_timestamp(values: Iterable[str]) -> str | None:
    for value in values:
        value = _squash(value)
        if _TIMESTAMP.match(value):
            return value
    return None


def _published_date(tree: HtmlElement, url: str | None, articles: list[dict], metas: dict[str, str]) -> str | None:
    """The publication date as the publisher's local calendar date.

    A declared date with a local offset (or no time at all) is taken as it is; a UTC or zone-less timestamp
    can be a day off, so then htmldate reads the URL and the page (it costs a tree scan, hence not always).
    """
    declared = [str(o.get("datePublished") or "").strip() for o in articles]
    declared += [metas.get(key, "").strip() for key in _DATETIME_META]
    for value in declared:
        if _DATE.match(value) and (len(value) == 10 or _LOCAL_OFFSET.search(value)):
            return value[:10]
    try:
        found = find_date(tree, url=url, extensive_search=False, original_date=True, outputformat="%Y-%m-%d")
    except (ValueError, TypeError):  # htmldate raises on malformed trees and odd date formats
        found = None
    return found or next((value[:10] for value in declared if _DATE.match(value)), None)


def _declared_language(tree: HtmlElement) -> str | None:
    lang = tree.get("lang") or tree.get("xml:lang") or ""
    code = lang.strip().lower()[:2]
    return code if re.fullmatch(r"[a-z]{2}", code) else None


def _hostname(url: str | None) -> str | None:
    if not url:
        return None
    host = urlsplit(url if "//" in url else f"//{url}").hostname
    if not host or "." not in host:
        return None
    return host[4:] if host.startswith("www.") else host


def _absolute(url: str | None, base: str | None) -> str | None:
    url = (url or "").strip()
    if url.startswith("//"):
        url = "https:" + url
    elif url.startswith("/") and base and re.match(r"https?://", base):
        parts = urlsplit(base)
        url = f"{parts.scheme}://{parts.netloc}{url}"
    if not re.match(r"https?://[^/\s]+\.[^/\s]+", url):
        return None
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, parts.query, ""))
