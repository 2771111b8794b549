"""Run reports under DIR/reports: JSON and Markdown summaries, GX Data Docs, Prefect artifacts."""
from __future__ import annotations

import json

from flows.store import Store


def summary_markdown(summary: dict) -> str:
    """A one-screen Markdown summary of a run."""
    lines = [
        f"# clean-news run {summary['run_id']}",
        "",
        "| documents | count |",
        "| --- | ---: |",
        f"| read | {summary['read']} |",
        f"| written to articles | {summary['written']} |",
        f"| quarantined | {summary['quarantined']} |",
        f"| already stored (skipped) | {summary['already_stored']} |",
        "",
        f"Time: {summary['seconds']} s. Output: `{summary['out']}`.",
    ]
    if summary["quarantine_reasons"]:
        lines += ["", "## Quarantined by reason", "", "| reason | documents |", "| --- | ---: |"]
        lines += [f"| {reason} | {n} |" for reason, n in summary["quarantine_reasons"].items()]
    if summary["rewrites"]:
        lines += ["", "## Names normalized", "", "| variant | canonical | rewrites |", "| --- | --- | ---: |"]
        lines += [f"| {r['variant']} | {r['canonical']} | {r['count']} |" for r in summary["rewrites"]]
    return "\n".join(lines) + "\n"


def write_run_report(store: Store, summary: dict, validator) -> dict:
    """Write the run's summary files and Data Docs; return the summary with the report paths."""
    folder = store.path("reports")
    store.filesystem.create_dir(folder, recursive=True)
    validator.build_docs()
    summary = {**summary, "reports": {"data_docs": store.path("reports", "data_docs", "index.html"),
                                      "summary": store.path("reports", f"run-{summary['run_id']}.md")}}
    for name, content in ((f"run-{summary['run_id']}.json", json.dumps(summary, indent=2, ensure_ascii=False)),
                          (f"run-{summary['run_id']}.md", summary_markdown(summary))):
        with store.filesystem.open_output_stream(f"{folder}/{name}") as sink:
            sink.write(content.encode("utf-8"))
    try:
        from prefect.artifacts import create_markdown_artifact

        create_markdown_artifact(markdown=summary_markdown(summary), key="clean-news-summary",
                                 description="clean-news run summary")
    except Exception:  # artifacts need a flow run context; the report itself is already written
        pass
    return summary
