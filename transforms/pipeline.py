"""The cleaning steps over one document, and their order, as data in one place.

:func:`clean_document` is the one way a document is cleaned: the workers, ``aliases suggest`` and the
scripts call it (or :func:`run_steps` on an article they have decoded themselves). :data:`STEPS` names
each step in order; a step takes a frozen :class:`Article` and returns a new one. A step that cannot go
on sets ``quarantine_reasons``; :func:`run_steps` then stops, so no step ever sees a quarantined article.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace

from transforms.chrome import ChromeLexicon, strip_chrome
from transforms.chrome.features import LineCache
from transforms.chrome.model import LineModel, strip_with_model
from transforms.decode import DecodeError, decode_text, has_mojibake_hint, looks_like_html, repair_text
from transforms.names import AliasTable, normalize_names
from transforms.records import Article, RawDocument
from transforms.structure import LanguageIdentifier, detect_language, parse_date, parse_datetime, site_from_url


def extract_html(html: str, **options):
    """:func:`transforms.html.extract_html`, imported with the first HTML page: trafilatura, htmldate and lxml cost
    0.15-0.5 s to import (python -X importtime), which a command that cleans no HTML (a rerun with nothing new)
    never needs. Worker processes warm up on a page before any deadline runs."""
    from transforms.html import extract_html as extract

    return extract(html, **options)


def clean_authors(names, **options):
    """:func:`transforms.metadata.clean_authors`, imported when first used (see :func:`extract_html`)."""
    from transforms.metadata import clean_authors as clean

    return clean(names, **options)


@dataclass(frozen=True)
class References:
    """Reference data and models, loaded once per run in flows/ (flows.seeds.load_references) and passed to every step."""

    lexicon: ChromeLexicon
    aliases: AliasTable
    language: LanguageIdentifier
    # The learned line stripper for plain text; None: the rule stripper (transforms.chrome.rules).
    line_model: LineModel | None = None

    @property
    def stripper(self) -> str:
        """What strips plain text, as the articles table records it: the line model's version, or ``rules``."""
        return self.line_model.version if self.line_model is not None else "rules"


@dataclass(frozen=True)
class StepInputs:
    """What a step may use besides the article: the run's reference data and what its site has taught.

    ``site_chrome`` holds the line keys the site repeats (learned across documents and runs);
    ``line_cache`` lets consecutive calls share what the stripper learned about each distinct line
    (see :func:`transforms.chrome.strip_chrome_many`); it is private to ``refs.lexicon``.
    """

    refs: References
    site_chrome: frozenset[str] = frozenset()
    line_cache: dict | None = None


Step = Callable[[Article, StepInputs], Article]


def clean_document(doc: RawDocument, inputs: StepInputs) -> Article:
    """A document's bytes to its cleaned, structured and normalized Article (or a quarantined one).

    >>> from flows.models import FastTextLanguageIdentifier  # flows/ loads models; transforms/ only uses them
    >>> refs = References(lexicon=ChromeLexicon.from_rows([]), aliases=AliasTable.from_rows([]),
    ...                   language=FastTextLanguageIdentifier())
    >>> text = "Home | World | Sport\\n\\nThe council approved the new budget on Monday after a long debate.\\n"
    >>> article = clean_document(RawDocument(source_uri="in/a.txt", raw=text.encode()), StepInputs(refs))
    >>> article.body, article.language
    ('The council approved the new budget on Monday after a long debate.', 'en')
    >>> clean_document(RawDocument(source_uri="in/b.txt", raw=b""), StepInputs(refs)).quarantine_reasons
    ('empty',)
    """
    return run_steps(decode_document(doc), inputs)


def run_steps(article: Article, inputs: StepInputs, steps: tuple[tuple[str, Step], ...] | None = None) -> Article:
    """Run ``steps`` (default :data:`STEPS`) in order on a decoded article, stopping at a quarantine."""
    for _name, step in STEPS if steps is None else steps:
        if article.quarantined:
            break
        article = step(article, inputs)
    return article


def decode_document(doc: RawDocument) -> Article:
    """Bytes to an Article with decoded text and known input format, or a quarantined one."""
    base = Article(doc_id=doc.doc_id, source_uri=doc.source_uri, input_format=doc.format_hint or "text", raw=doc.raw,
                   url=doc.url, title=doc.title, site=document_site(doc), repairs=doc.repairs)
    try:  # a date no parser expected must cost this document its date, never the run
        base = replace(base, published=parse_date(doc.published), published_at=parse_datetime(doc.published))
    except Exception as error:  # noqa: BLE001 (dateutil raises more than ValueError on hostile strings)
        base = replace(base, repairs=base.repairs + (f"published_unparsed: {type(error).__name__}",))
    if doc.read_error:
        return _quarantine(base, "read", doc.read_error)
    markup = looks_like_html(doc.raw[:4096])
    try:  # the repair of an HTML page waits for its extracted body: markup is never kept
        text, repairs = decode_text(doc.raw, repair=not markup)
    except DecodeError as error:
        return _quarantine(base, "read", error.reason)
    is_html = markup or (doc.format_hint == "html" and "<" in text)
    return replace(base, text=text, repairs=base.repairs + repairs, input_format="html" if is_html else "text")


def document_site(doc: RawDocument) -> str | None:
    """The site a document is filed under before cleaning: as given, else the URL's host, else its folder.

    Never raises: the flow calls it outside the per-document error handling (a malformed URL has no host).

    >>> document_site(RawDocument(source_uri="in/kyiv/a.txt", raw=b"", url="https://www.kyivpost.com/x"))
    'kyivpost.com'
    >>> document_site(RawDocument(source_uri="in/kyiv/a.txt", raw=b"", url="http://[::1/x", folder_site="kyiv"))
    'kyiv'
    """
    return doc.site or site_from_url(doc.url) or doc.folder_site


def clean_article(article: Article, *, refs: References, site_chrome: frozenset[str] = frozenset(),
                  line_cache: dict | None = None) -> Article:
    """Remove site chrome: trafilatura for HTML, the line stripper for plain text.

    ``line_cache`` lets consecutive calls share what the stripper learned about each distinct line
    (see :func:`transforms.chrome.strip_chrome_many`); it is private to ``refs.lexicon``.
    """
    if article.input_format == "html":
        # decode_document's text holds no control characters (decode_text deletes them)
        page = extract_html(article.text, url=article.url, no_controls=True)
        if has_mojibake_hint(page.body) or has_mojibake_hint(page.title or ""):
            repaired_body, fixes = repair_text(page.body)
            page = replace(page, body=repaired_body, title=page.title and repair_text(page.title)[0])
            article = replace(article, repairs=article.repairs + fixes)
        stripped = strip_chrome(page.body, lexicon=refs.lexicon, site_chrome=site_chrome, extracted=True,
                                line_cache=line_cache)
        # Bylines the text stripper finds in the body are raw; keep them only as clean person names.
        authors = page.authors or clean_authors(stripped.authors, site_names=(page.site_name or "", page.hostname or ""))
        stripped = replace(stripped, authors=())
        article = replace(
            article,
            title=article.title or page.title,
            authors=authors,
            url=article.url or page.url,
            site=site_from_url(article.url or page.url) or page.hostname or article.site,
            site_name=page.site_name,
            published=article.published or parse_date(page.published),
            published_at=article.published_at or parse_datetime(page.published_at),
            categories=page.categories,
            tags=page.tags,
        )
    elif refs.line_model is not None:
        # The lexicon's verdict on line texts seen before lives in the caller's line cache under a key no line
        # has (a line is stripped text without control characters).
        known = line_cache.setdefault(_LEXICON_KEY, LineCache()) if line_cache is not None else None
        stripped = strip_with_model(article.text, model=refs.line_model, lexicon=refs.lexicon,
                                    site_chrome=site_chrome, language=detect_language(article.text, refs.language),
                                    cache=known)
    else:
        stripped = strip_chrome(article.text, lexicon=refs.lexicon, site_chrome=site_chrome, line_cache=line_cache)
    removed_share = len(stripped.chrome) / stripped.input_lines if stripped.input_lines else 0.0
    article = replace(
        article,
        body=stripped.body,
        chrome=stripped.chrome,
        captions=stripped.captions,
        input_lines=stripped.input_lines,
        removed_share=removed_share,
        stripper="rules" if article.input_format == "html" else refs.stripper,
        title=article.title or stripped.title,
        authors=article.authors or stripped.authors,
        published=article.published or parse_date(stripped.published),
    )
    if not article.body.strip():
        too_deep = article.input_format == "html" and html_depth(article.text) > MAX_HTML_DEPTH
        return _quarantine(article, "clean", "html_too_deep" if too_deep else "empty_body")
    return article


_LEXICON_KEY = "\0line model lexicon"

# lxml (under trafilatura) stops building the tree at this nesting depth, so a deeper page yields no body.
MAX_HTML_DEPTH = 255
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)[^>]*?(/?)>")
_VOID_TAGS = frozenset("area base br col embed hr img input link meta source track wbr".split())


def html_depth(html: str) -> int:
    """The deepest element nesting in ``html``, counted from its tags (no parser: parsers cap the depth).

    >>> html_depth("<html><body><div><p>x<br></p></div></body></html>")
    4
    >>> html_depth("<div>" * 300)
    300
    """
    depth = deepest = 0
    for match in _TAG.finditer(html):
        closing, name, self_closing = match.groups()
        if closing:
            depth = max(depth - 1, 0)
        elif not self_closing and name.lower() not in _VOID_TAGS:
            depth += 1
            deepest = max(deepest, depth)
    return deepest


def structure_article(article: Article, *, refs: References) -> Article:
    """Fill the fields that derive from the cleaned body: language."""
    return replace(article, language=article.language or detect_language(article.body, refs.language))


def normalize_article(article: Article, *, refs: References) -> Article:
    """Canonical entity names into ``body_normalized`` and ``entities``; ``body`` keeps the original."""
    result = normalize_names(article.body, aliases=refs.aliases)
    # Unchanged text stays the same object: a pickled article then carries its body once, not twice.
    normalized = article.body if result.text == article.body else result.text
    return replace(article, body_normalized=normalized, entities=result.entities, rewrites=result.rewrites)


def _strip_step(article: Article, inputs: StepInputs) -> Article:
    return clean_article(article, refs=inputs.refs, site_chrome=inputs.site_chrome, line_cache=inputs.line_cache)


def _language_step(article: Article, inputs: StepInputs) -> Article:
    return structure_article(article, refs=inputs.refs)


def _names_step(article: Article, inputs: StepInputs) -> Article:
    return normalize_article(article, refs=inputs.refs)


# The order matters: language is detected on the stripped body, and names are normalized last so that
# ``body_normalized`` is the final body with canonical names.
STEPS: tuple[tuple[str, Step], ...] = (
    ("strip chrome", _strip_step),
    ("detect language", _language_step),
    ("normalize names", _names_step),
)


def _quarantine(article: Article, stage: str, reason: str) -> Article:
    return replace(article, quarantine_stage=stage, quarantine_reasons=article.quarantine_reasons + (reason,))
