"""Data Docs views that escape the values they show and load nothing from the network.

GX 1.24 escapes the parameters of its string templates, but inserts a plain string content block
(a cell of the "unexpected values" table, a sampled value) into the page as raw HTML: a title or site of
``<img src=x onerror=...>`` in the data then runs script in the browser of whoever opens the Data Docs.
Here every plain string block is escaped; the blocks GX builds itself (templates, tables, headers) are
dicts or content objects and render as before. The site config in :mod:`expectations.articles` names
these classes (GX's documented way to replace a Data Docs view).

GX's page templates also load Bootstrap, jQuery, bootstrap-table and Vega from CDNs; offline the index
then lists no run at all (its table is built by bootstrap-table in the browser). The templates in
``data_docs_templates/`` take precedence over GX's: the same pages without CDN assets, the index table
rendered on the server, and a small stylesheet.
"""
from __future__ import annotations

import copy
import html
from pathlib import Path

from great_expectations.render.renderer import ValidationResultsPageRenderer
from great_expectations.render.view.view import DefaultJinjaIndexPageView, DefaultJinjaPageView, contextfilter
from jinja2 import ChoiceLoader, FileSystemLoader

TEMPLATES = Path(__file__).resolve().parent / "data_docs_templates"


def escape_plain(content_block, render_to_markdown: bool = False):
    """A plain string block escaped (and each plain string of a list of them); anything else unchanged.

    >>> escape_plain('<img src=x onerror="alert(1)">')
    '&lt;img src=x onerror=&quot;alert(1)&quot;&gt;'
    >>> escape_plain(["<b>", {"content_block_type": "text"}])
    ['&lt;b&gt;', {'content_block_type': 'text'}]
    >>> escape_plain("<b>", render_to_markdown=True)
    '<b>'
    """
    if render_to_markdown:
        return content_block
    if isinstance(content_block, str):
        return html.escape(content_block)
    if isinstance(content_block, list):
        return [html.escape(item) if isinstance(item, str) else item for item in content_block]
    return content_block


class _Escaping:
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.env.loader = ChoiceLoader([FileSystemLoader(str(TEMPLATES)), self.env.loader])

    @contextfilter
    def render_content_block(self, jinja_context, content_block, index=None, content_block_id=None,
                             render_to_markdown: bool = False):
        return super().render_content_block(jinja_context, escape_plain(content_block, render_to_markdown),
                                            index=index, content_block_id=content_block_id,
                                            render_to_markdown=render_to_markdown)


class EscapingPageView(_Escaping, DefaultJinjaPageView):
    """Validation result and suite pages."""


class EscapingIndexPageView(_Escaping, DefaultJinjaIndexPageView):
    """The index page (its table cells hold run names and asset names)."""


class NamedAssetValidationPage(ValidationResultsPageRenderer):
    """Validation pages that name their data asset: GX 1.24 looks for it in the batch spec, which a
    dataframe batch does not fill ("Data asset: None"); the result's batch definition has it."""

    def render(self, validation_results, suite_parameters=None):
        meta = validation_results.meta
        asset = (meta.get("active_batch_definition") or {}).get("data_asset_name")
        spec = meta.get("batch_spec") or {}
        if asset and not spec.get("data_asset_name"):
            validation_results = copy.copy(validation_results)  # the stored result stays as it was
            validation_results.meta = {**meta, "batch_spec": {**spec, "data_asset_name": asset}}
        return super().render(validation_results, suite_parameters)
