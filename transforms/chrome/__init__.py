"""Plain-text chrome stripping: find the article among a page's lines, and say why each other line went.

Modules:

- :mod:`~transforms.chrome.rules`: the lexicon (the user's ``seeds/`` tables), line keys, per-site learning
  and the hand-set rule stripper (:func:`strip_chrome`).
- :mod:`~transforms.chrome.features`: language-independent features of every line and its neighbours.
- :mod:`~transforms.chrome.segments`: text that lost its line breaks, split into sentences first.
- :mod:`~transforms.chrome.model`: the learned line model (body, title, byline, date, chrome) and the stripper
  built on it (:func:`strip_with_model`). The model file is read by ``flows/`` and passed in: nothing here
  opens a file.
"""
from transforms.chrome.rules import (
    LEXICON_FILES,
    LINE_CACHE_MAX,
    SITE_CHROME_MAX_WORDS,
    SITE_CHROME_MIN_DOCS,
    WHOLE_LINE_MAX_CHARS,
    ChromeLexicon,
    StrippedText,
    count_line_keys,
    learnable_line,
    line_key,
    site_chrome_keys,
    strip_chrome,
    strip_chrome_many,
)

__all__ = [
    "LEXICON_FILES", "LINE_CACHE_MAX", "SITE_CHROME_MAX_WORDS", "SITE_CHROME_MIN_DOCS", "WHOLE_LINE_MAX_CHARS",
    "ChromeLexicon", "StrippedText", "count_line_keys", "learnable_line", "line_key", "site_chrome_keys",
    "strip_chrome", "strip_chrome_many",
]
