"""newsclean as a library: clean scraped news in memory, without Prefect, files or a server.

>>> from newsclean import clean_text
>>> record = clean_text("Home | World | Sport\\n\\nThe council approved the new budget on Monday after a long "
...                     "debate.\\n", site="example.com")
>>> record["body"], record["site"], record["language"], record["quarantine_reasons"]
('The council approved the new budget on Monday after a long debate.', 'example.com', 'en', [])

:func:`clean_text`, :func:`clean_html` and :func:`clean_documents` return the article record: a dict with the
fields of a row of the ``articles`` table (see the README), plus ``quarantine_reasons`` (empty when the
document is clean) and ``quarantine_stage``. The command line is ``newsclean`` (``flows.cli``).
"""
from __future__ import annotations

from newsclean.api import clean_documents, clean_html, clean_text, version

__all__ = ["clean_text", "clean_html", "clean_documents", "__version__"]
__version__ = version()
