"""HTML article extraction with trafilatura: body text plus page metadata."""
from __future__ import annotations

from dataclasses import dataclass

import trafilatura


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


def extract_html(html: str) -> ExtractedPage:
    """Article body and metadata from an HTML page; an empty body when nothing is found.

    >>> page = extract_html("<html><head><title>T</title></head><body><article><p>" + "Word " * 60 + "</p></article></body></html>")
    >>> page.body.startswith("Word Word")
    True
    """
    document = trafilatura.bare_extraction(html, with_metadata=True, include_comments=False)
    if document is None:
        return ExtractedPage(body="")
    fields = document.as_dict()
    return ExtractedPage(
        body=(fields.get("text") or "").strip(),
        title=fields.get("title") or None,
        authors=tuple(a.strip() for a in (fields.get("author") or "").split(";") if a.strip()),
        published=fields.get("date") or None,
        url=fields.get("url") or None,
        hostname=fields.get("hostname") or None,
        site_name=fields.get("sitename") or None,
        categories=tuple(fields.get("categories") or ()),
        tags=tuple(fields.get("tags") or ()),
    )
