"""The run report's pages: the self-contained HTML report, the runs index, the Markdown summary and the charts
(SVG data URIs), drawn from a run summary and the facts :func:`flows.report.run_facts` read from the output.

Only text in, text out: what the pages show is computed in :mod:`flows.report`.
"""
from __future__ import annotations

import base64
import html
import io

REPORTS = "reports"  # the folder under the output that holds the pages
DATA_DOCS = "data_docs"  # the Data Docs folder under reports/, linked from the pages
TOP_N = 15  # rows in the per-site, per-rule and entity tables and charts


# --- charts ------------------------------------------------------------------------------------

def _svg(figure) -> str:
    """A matplotlib figure as a base64 SVG data URI (text stays text: small and sharp)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight")
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _figure(height: float = 2.6):
    import matplotlib

    matplotlib.rcParams["svg.fonttype"] = "none"
    from matplotlib.figure import Figure  # no pyplot: no global state, safe in worker threads

    figure = Figure(figsize=(6.4, height), dpi=100)
    return figure, figure.add_subplot()


def _histogram(values: list[float], *, title: str, xlabel: str, bins=30, range_=None) -> str | None:
    if not values:
        return None
    figure, axes = _figure()
    axes.hist(values, bins=bins, range=range_, color="#3b6ea5", edgecolor="white")
    axes.set(title=title, xlabel=xlabel, ylabel="documents")
    return _svg(figure)


def _bars(counts: dict[str, float], *, title: str, xlabel: str, color="#3b6ea5") -> str | None:
    items = list(counts.items())[:TOP_N]
    if not items:
        return None
    figure, axes = _figure(height=0.6 + 0.28 * len(items))
    labels = [_short(str(k), 40) for k, _ in items][::-1]
    axes.barh(labels, [v for _, v in items][::-1], color=color)
    axes.set(title=title, xlabel=xlabel)
    return _svg(figure)


def charts(facts: dict) -> dict[str, str]:
    """The report's charts as data URIs, by name; a chart with no data is left out."""
    made = {
        "body_length": _histogram(facts["word_counts"], title="Body length", xlabel="words per article"),
        "removed_share": _histogram(facts["removed_shares"], title="Share of input lines removed as chrome",
                                    xlabel="removed share", range_=(0.0, 1.0), bins=20),
        "per_site": _bars({site: c.get("written", 0) + c.get("quarantined", 0) for site, c in facts["per_site"].items()},
                          title="Documents per site", xlabel="documents"),
        "quarantine": _bars(facts["quarantine_by_reason"], title="Quarantined by reason", xlabel="documents",
                            color="#b5473a"),
        "entities": _bars({f"{e['name']} ({e['kind']})": e["mentions"] for e in facts["entities"]},
                          title="Top entities", xlabel="mentions"),
    }
    return {name: uri for name, uri in made.items() if uri}


# --- rendering ---------------------------------------------------------------------------------

def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def summary_markdown(summary: dict) -> str:
    """A one-screen Markdown summary of a run."""
    check = summary.get("reconciliation", {})
    lines = [
        f"# clean-news run {summary['run_id']}",
        "",
        "| documents | count |",
        "| --- | ---: |",
        f"| files found | {summary.get('files', '')} |",
        f"| files unchanged (skipped) | {summary.get('skipped_unchanged', 0)} |",
        f"| read | {summary['read']} |",
        f"| written to articles | {summary['written']} |",
        f"| quarantined | {summary['quarantined']} |",
        f"| already stored (skipped) | {summary.get('already_stored', 0)} |",
        "",
        f"Counts add up: {'yes' if check.get('ok') else 'NO, see the report'}. "
        f"Time: {summary.get('seconds', '?')} s. Output: `{summary['out']}`.",
    ]
    if summary.get("quarantine_reasons"):
        lines += ["", "## Quarantined by reason", "", "| reason | documents |", "| --- | ---: |"]
        lines += [f"| {reason} | {n} |" for reason, n in summary["quarantine_reasons"].items()]
    if summary.get("rewrites"):
        lines += ["", "## Names normalized", "", "| variant | canonical | rewrites |", "| --- | --- | ---: |"]
        lines += [f"| {r['variant']} | {r['canonical']} | {r['count']} |" for r in summary["rewrites"][:TOP_N]]
    reports = summary.get("reports", {})
    if reports:
        lines += ["", f"Report: `{reports.get('html', '')}`  Data Docs: `{reports.get('data_docs', '')}`"]
    return "\n".join(lines) + "\n"


_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2em auto;max-width:1100px;color:#222;padding:0 1em}
h1{font-size:1.5em;margin-bottom:.2em}h2{font-size:1.15em;margin-top:1.8em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.5em 0}td,th{padding:.2em .7em;border-bottom:1px solid #eee;text-align:left}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}.ok{color:#1d7a33;font-weight:600}
.bad{color:#b5473a;font-weight:600}.grid{display:flex;flex-wrap:wrap;gap:1em}.card{border:1px solid #ddd;
border-radius:6px;padding:.6em 1em;min-width:9em}.card b{display:block;font-size:1.6em}.muted{color:#777}
.bar{background:#3b6ea5;height:.7em;display:inline-block;vertical-align:middle}img{max-width:100%}
code{background:#f4f4f4;padding:0 .2em}
"""
# Marks the page once every chart image has decoded, so a headless browser can tell a broken page.
_SCRIPT = """
window.addEventListener("load", function () {
  var images = Array.prototype.slice.call(document.images);
  var broken = images.filter(function (i) { return !(i.complete && i.naturalWidth > 0); }).length;
  document.body.setAttribute("data-rendered", broken ? "broken:" + broken : "ok:" + images.length);
});
"""


def _rows(pairs, *, headers: tuple[str, str] = ("", "documents")) -> str:
    body = "".join(f"<tr><td>{html.escape(str(k))}</td><td class=n>{v:,}</td></tr>" for k, v in pairs)
    return f"<table><tr><th>{headers[0]}</th><th class=n>{headers[1]}</th></tr>{body}</table>" if body else \
        "<p class=muted>none</p>"


def _img(uri: str | None, alt: str) -> str:
    return f'<img src="{uri}" alt="{html.escape(alt)}">' if uri else f"<p class=muted>{html.escape(alt)}: no data</p>"


def _quarantine_section(summary: dict, facts: dict, images: dict[str, str]) -> str:
    """The report's quarantine counts by reason and stage, its chart and the first quarantined documents."""
    e = html.escape
    if not facts["quarantine_rows"]:
        return "<p>No document was quarantined.</p>"
    quarantined = "".join(
        f"<tr><td>{e(_short(q['source_uri'], 90))}</td><td>{e(q['stage'] or '')}</td><td>{e(', '.join(q['reasons']))}</td></tr>"
        for q in facts["quarantined_documents"])
    more = facts["quarantine_rows"] - len(facts["quarantined_documents"])
    return f"""
<div class=grid><div>{_rows(facts['quarantine_by_reason'].items(), headers=('reason', 'documents'))}
{_rows(facts['quarantine_by_stage'].items(), headers=('stage', 'documents'))}</div>
<div>{_img(images.get('quarantine'), 'Quarantined by reason')}</div></div>
<table><tr><th>source</th><th>stage</th><th>reasons</th></tr>{quarantined}</table>
{f"<p class=muted>and {more:,} more: query the quarantine table for run_id = '{e(summary['run_id'])}'.</p>" if more > 0 else ""}"""


def _validation_section(summary: dict, rules: list[dict]) -> str:
    """The report's rules with their severity, fields, checker and failing rows, and what was not checked."""
    e = html.escape
    failures = summary.get("rule_failures", {})
    rule_lines = "".join(
        f"<tr><td>{e(r['name'])}</td><td>{e(r['severity'])}</td><td>{e(', '.join(r['fields']))}</td>"
        f"<td>{e(r.get('checked_by', ''))}</td><td class=n>{failures.get(r['name'], 0):,}</td></tr>" for r in rules)
    not_checked = "".join(f"<li>{e(item)}</li>" for item in summary.get("not_checked", []))
    docs_link = summary["reports"].get("data_docs_relative", "")
    return f"""<p>Critical failures quarantine the row; warnings keep it and are listed in its <code>warnings</code> column.
<a href="{e(docs_link)}">Great Expectations Data Docs</a>.</p>
<table><tr><th>rule</th><th>severity</th><th>fields</th><th>checked by</th><th class=n>rows failing</th></tr>{rule_lines}</table>
{f"<p class=bad>Not checked in this run:</p><ul>{not_checked}</ul>" if not_checked else ""}"""


def report_html(summary: dict, facts: dict, images: dict[str, str], rules: list[dict]) -> str:
    """The self-contained HTML run report (inline CSS, charts as data URIs, no external requests)."""
    e = html.escape
    check = summary["reconciliation"]
    verdict = ('<span class=ok>the counts add up</span>' if check["ok"] else
               '<span class=bad>the counts do NOT add up</span>')
    cards = [("read", summary["read"]), ("written", summary["written"]), ("quarantined", summary["quarantined"]),
             ("already stored", summary.get("already_stored", 0)), ("files", summary.get("files", 0)),
             ("unchanged files", summary.get("skipped_unchanged", 0))]
    sites = "".join(
        f"<tr><td>{e(site)}</td><td class=n>{c.get('written', 0):,}</td><td class=n>{c.get('quarantined', 0):,}</td>"
        f"<td class=n>{c.get('with_warnings', 0):,}</td></tr>" for site, c in list(facts["per_site"].items())[:50])
    completeness = "".join(
        f"<tr><td>{e(name)}</td><td class=n>{share:.0%}</td><td><span class=bar style='width:{share * 200:.0f}px'>"
        f"</span></td></tr>" for name, share in facts["field_completeness"].items())
    rewrites = "".join(f"<tr><td>{e(r['variant'])}</td><td>{e(r['canonical'])}</td><td class=n>{r['count']:,}</td></tr>"
                       for r in summary.get("rewrites", [])[:50])
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>clean-news run {e(summary['run_id'])}</title>
<meta name="viewport" content="width=device-width,initial-scale=1"><style>{_CSS}</style></head>
<body data-rendered="pending">
<h1>clean-news run <code>{e(summary['run_id'])}</code></h1>
<p class=muted>ingested {e(summary.get('ingested_at', ''))} · {summary.get('seconds', '?')} s · output <code>{e(str(summary['out']))}</code>
· sources {e(', '.join(summary.get('sources', [])))}</p>
<h2>Documents</h2>
<div class=grid>{''.join(f"<div class=card><b>{v:,}</b>{e(k)}</div>" for k, v in cards)}</div>
<p>read {summary['read']:,} = written {summary['written']:,} + quarantined {summary['quarantined']:,}
+ already stored {summary.get('already_stored', 0):,}: {verdict}. Rows stored with this run id:
articles {facts['articles_rows']:,}, quarantine {facts['quarantine_rows']:,}.</p>
{f"<p class=muted>The --full run <code>{e(check['replaced_by'])}</code> rebuilt the tables after this run: its rows are "
 "stored under that run's id now, so only this run's own counts are checked.</p>" if check.get("replaced_by") else ""}
<h2>Quarantine</h2>
{_quarantine_section(summary, facts, images)}
<h2>Per site</h2>
<div class=grid><table><tr><th>site</th><th class=n>written</th><th class=n>quarantined</th>
<th class=n>with warnings</th></tr>{sites}</table>
<div>{_img(images.get('per_site'), 'Documents per site')}</div></div>
<h2>Chrome removed</h2>
<p>{facts['chrome_lines_removed']:,} lines removed from the written articles.</p>
<div class=grid>{_rows(list(facts['chrome_by_rule'].items())[:TOP_N], headers=('rule', 'lines'))}
<div>{_img(images.get('removed_share'), 'Removed share')}</div></div>
<h2>Names normalized</h2>
<table><tr><th>variant</th><th>canonical</th><th class=n>rewrites</th></tr>{rewrites}</table>
{_img(images.get('entities'), 'Top entities')}
<h2>Body length</h2>
{_img(images.get('body_length'), 'Body length')}
<h2>Field completeness (written articles)</h2>
<table><tr><th>field</th><th class=n>filled</th><th></th></tr>{completeness}</table>
<h2>Validation</h2>
{_validation_section(summary, rules)}
<h2>Decoding repairs (written articles)</h2>
{_rows(facts['repairs'].items(), headers=('repair', 'documents'))}
<script>{_SCRIPT}</script>
</body></html>
"""


def index_html(runs: list[dict]) -> str:
    """reports/index.html: every run, newest first, with its counts and links."""
    e = html.escape
    rows = "".join(
        f"<tr><td><a href='{e(r['report'])}'>{e(r['run_id'])}</a></td><td class=n>{r['read']:,}</td>"
        f"<td class=n>{r['written']:,}</td><td class=n>{r['quarantined']:,}</td>"
        f"<td>{'<span class=ok>yes</span>' if r['ok'] else '<span class=bad>no</span>'}</td></tr>" for r in runs)
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>clean-news runs</title>
<style>{_CSS}</style></head><body><h1>clean-news runs</h1><p><a href="{DATA_DOCS}/index.html">Data Docs</a></p>
<table><tr><th>run</th><th class=n>read</th><th class=n>written</th><th class=n>quarantined</th><th>adds up</th></tr>
{rows}</table></body></html>
"""
