"""Metadata cleaners on golden cases: person-only authors, bare titles, site names, terms, canonical URLs; the one
walk that gathers the elements metadata is read from (transforms/metadata.py, transforms/page_sources.py)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from lxml.html import fromstring

from transforms.metadata import canonical_url, clean_authors, clean_site_name, clean_terms, clean_title, read_metadata
from transforms.page_sources import marked_elements

GOLDENS = Path(__file__).resolve().parents[1] / "goldens" / "html"


def load_cases(name: str) -> list:
    """Golden cases as pytest params; a case with ``xfail`` is a known failure, held to it strictly."""
    cases = json.loads((GOLDENS / name).read_text(encoding="utf-8"))
    return [pytest.param(case, id=case["label"],
                         marks=[pytest.mark.xfail(reason=case["xfail"], strict=True)] if case.get("xfail") else [])
            for case in cases]


@pytest.mark.parametrize("case", load_cases("authors.json"))
def test_clean_authors(case):
    assert list(clean_authors(case["original"], site_names=case["site_names"])) == case["expect"]


@pytest.mark.parametrize("case", load_cases("titles.json"))
def test_clean_title(case):
    assert clean_title(case["original"], site_names=case["site_names"], sections=case["sections"]) == case["expect"]


def test_site_name_and_terms():
    assert clean_site_name("Autoracing | F1 | Indy") == "Autoracing"
    assert clean_site_name("/CBSDetroit") == "CBSDetroit"
    assert clean_terms(["Category: Moon", "PG&amp;E", "autoplay_video", "Moon"]) == ("Moon", "PG&E")


def test_canonical_url_prefers_the_link_and_drops_fragments():
    tree = fromstring('<html><head><meta property="og:url" content="https://b.example/x">'
                      '<link rel="canonical" href="https://a.example/x#top"></head></html>')
    assert canonical_url(tree) == "https://a.example/x"
    assert canonical_url(fromstring("<html><head></head></html>")) is None


def test_authors_come_from_the_first_source_with_a_person():
    tree = fromstring('<html><head><meta name="author" content="Jane Roe"></head><body>'
                      '<span class="byline">By John Doe</span></body></html>')
    assert read_metadata(tree).authors == ("Jane Roe",)
    tree = fromstring('<html><body><div class="author">By John Doe | 3 hours ago</div>'
                      '<div class="author">Other Person</div></body></html>')
    assert read_metadata(tree).authors == ("John Doe",)


def test_cms_default_timestamps_are_ignored():
    tree = fromstring('<html><head><meta property="article:published_time" content="0001-01-01T00:00:00Z">'
                      '</head><body></body></html>')
    assert read_metadata(tree).published_at is None


def test_a_site_named_by_its_domain_gives_the_host_when_no_url_does():
    tree = fromstring('<html><head><meta property="og:site_name" content="PanARMENIAN.Net"></head><body></body></html>')
    assert read_metadata(tree).hostname == "panarmenian.net"
    tree = fromstring('<html><head><meta property="og:site_name" content="Mr. Smith Goes"></head><body></body></html>')
    assert read_metadata(tree).hostname is None


MARKED_PAGES = [
    *(path.read_text(encoding="utf-8") for path in sorted(GOLDENS.glob("*.html"))),
    '<html><head><meta name="Author" content=" A "><link rel="canonical" href="/x"><script type="application/ld+json">'
    '{"@type": "NewsArticle"}</script></head><body><a rel="tag">T</a><a rel="category tag">C</a><a rel="category">D</a>'
    '<meta property="article:tag" content="U"><meta property="article:tag" content="V"><link rel="canonical" href="/y">'
    '</body></html>',
    # a fragment: the parsed root is the <body>, renamed, inside the document lxml builds around it
    '<div><a rel="tag">T</a><meta name="description" content="D"><link rel="canonical" href="/z"></div><div>two</div>',
]


@pytest.mark.parametrize("html", MARKED_PAGES)
def test_marked_elements_are_what_the_searches_found(html):
    # one walk stands for these searches (whole document for links, under the tree for meta and script tags)
    tree = fromstring(html)
    marked = marked_elements(tree)
    assert marked.canonical == tree.xpath("//link[@rel='canonical']/@href")
    assert marked.category_links == tree.xpath("//a[@rel='category' or @rel='category tag']")
    assert marked.tag_links == tree.xpath("//a[@rel='tag']")
    assert marked.json_ld == [s.text or "" for s in tree.iterfind(".//script[@type='application/ld+json']")]
    keys = [(m.get("property") or m.get("name") or m.get("itemprop") or "").strip().lower() for m in tree.iterfind(".//meta")]
    assert list(marked.metas) == list(dict.fromkeys(k for k, m in zip(keys, tree.iterfind(".//meta"))
                                                    if k and (m.get("content") or "").strip()))
