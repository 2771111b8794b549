"""The ``newsclean`` command line."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from flows.settings import apply_prefect_defaults

DESCRIPTION = """Turn scraped news (plain text, HTML, .jsonl) into clean, validated Parquet.

Examples:
  newsclean run seeds/articles                    clean the sample articles into data/
  newsclean run scrapes/ more.jsonl --out out/    several sources, another output folder
  newsclean aliases suggest scrapes/              propose alias-table rows for name variants
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="newsclean", description=DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="run the clean-news flow over files and folders",
                              description="Run the clean-news Prefect flow. A SOURCE is a file or a folder searched "
                              "recursively for .txt, .html, .htm (also .gz) and .jsonl files.")
    run.add_argument("sources", nargs="+", metavar="SOURCE", help="input file or folder")
    run.add_argument("--out", default="data", metavar="DIR", help="output folder or s3:// URI (default: data/)")
    run.add_argument("--seeds", default=None, metavar="DIR",
                     help="folder with the alias and chrome tables (default: the project's seeds/, or $NEWSCLEAN_SEEDS)")
    run.add_argument("--batch-size", type=int, default=None, metavar="N",
                     help="documents per batch task (default: 2000)")

    aliases = commands.add_parser("aliases", help="work with the alias table")
    alias_commands = aliases.add_subparsers(dest="alias_command", required=True, metavar="ACTION")
    suggest = alias_commands.add_parser("suggest", help="propose alias rows for name variants found in a corpus",
                                        description="Find capitalised names that look like variants of each other or "
                                        "of known entities and print candidate rows; changes nothing.")
    suggest.add_argument("sources", nargs="+", metavar="SOURCE")
    suggest.add_argument("--seeds", default=None, metavar="DIR")
    suggest.add_argument("--limit", type=int, default=50, metavar="N", help="rows to print at most (default: 50)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    missing = [s for s in getattr(args, "sources", []) if "://" not in s and not Path(s).exists()]
    if missing:
        print(f"newsclean: {missing[0]}: no such file or folder; check the SOURCE argument", file=sys.stderr)
        return 2
    if args.command == "run":
        return _run(args)
    if args.command == "aliases":
        from flows.aliases import suggest_command

        return suggest_command(args.sources, seeds_dir=args.seeds, limit=args.limit)
    return 2


def _run(args: argparse.Namespace) -> int:
    apply_prefect_defaults()
    from flows.clean_news import DEFAULT_BATCH_SIZE, clean_news
    from flows.seeds import SeedError

    try:
        summary = clean_news(sources=args.sources, out=args.out, seeds=args.seeds,
                             batch_size=args.batch_size or DEFAULT_BATCH_SIZE)
    except SeedError as error:
        print(f"newsclean: {error}", file=sys.stderr)
        return 2
    print(format_summary(summary))
    return 0


def format_summary(summary: dict) -> str:
    """The one-screen summary printed at the end of a run."""
    lines = [
        f"clean-news {summary['run_id']}: {summary['read']} documents read in {summary['seconds']} s",
        f"  written to articles  {summary['written']:>8}",
        f"  quarantined          {summary['quarantined']:>8}",
    ]
    lines += [f"    {reason:<26}{n:>6}" for reason, n in summary["quarantine_reasons"].items()]
    if summary["already_stored"]:
        lines.append(f"  already stored       {summary['already_stored']:>8}  (same content seen before; skipped)")
    lines.append(f"  output               {summary['out']}")
    lines.append(f"  report               {summary['reports']['summary']}")
    lines.append(f"  data docs            {summary['reports']['data_docs']}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
