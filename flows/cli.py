"""The ``newsclean`` command line."""
from __future__ import annotations

import argparse
import errno
import os
import signal
import sys
import tempfile
import time
from pathlib import Path

from flows.settings import Stopped, apply_prefect_defaults, configure_output, is_stop_signal, silence_console
from newsclean.api import version


def _process_started() -> float:
    """The ``time.monotonic()`` at which this process started (Linux), so the printed time is the command's."""
    try:
        with open("/proc/self/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        with open("/proc/uptime") as handle:
            uptime = float(handle.read().split()[0])
        age = uptime - int(fields[19]) / os.sysconf("SC_CLK_TCK")  # field 22: start time in ticks after boot
        return time.monotonic() - max(0.0, age)
    except (OSError, ValueError, IndexError):
        return time.monotonic()


STARTED = _process_started()

DESCRIPTION = """Turn scraped news (plain text, HTML, .jsonl) into clean, validated Parquet.

Examples:
  newsclean run seeds/articles                    clean the sample articles into data/
  newsclean run scrapes/ more.jsonl --out out/    several sources, another output folder
  newsclean run scrapes/ --out out/ --full        reprocess everything (after changing seeds/)
  newsclean deploy scrapes/ --out out/ --cron "0 * * * *"   run every hour (then: newsclean serve)
  newsclean report out/                           rebuild the reports from what is stored
  newsclean aliases suggest scrapes/              propose alias-table rows for name variants
  newsclean server stop                           stop the local Prefect server runs started

Without PREFECT_API_URL, `run` starts a local Prefect server in the background once and later commands
reuse it (UI and logs of every run there); it stops after an hour without requests, or with
`newsclean server stop`.

Each command has its own --help.
"""

EXIT_LOCKED = 75  # EX_TEMPFAIL: another run holds the output; try again later
SEEDS_HELP = "folder with the alias and chrome tables (default: $NEWSCLEAN_SEEDS if set, else the project's seeds/)"


def _add_verbose(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="print Prefect's run logs (per batch: read, cleaned, quarantined, written), Dask's "
                             "and Great Expectations' messages on the console")


def _add_run_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seeds", default=None, metavar="DIR", help=SEEDS_HELP)
    parser.add_argument("--batch-size", type=int, default=None, metavar="N",
                        help="input files (or .jsonl lines) per commit: one validation run and one Parquet file per "
                             "table (default: 2000); "
                             "documents are cleaned in batches of at most 1000 or 128 MB of input")
    parser.add_argument("--workers", type=int, default=None, metavar="N",
                        help="worker processes that clean documents (default: one per core; 0 = in this process, "
                             "no per-document timeout)")
    parser.add_argument("--doc-timeout", type=float, default=None, metavar="SECONDS",
                        help="quarantine a document as `timeout` when cleaning it takes longer (default: 30)")
    parser.add_argument("--max-doc-mb", type=float, default=None, metavar="MB",
                        help="quarantine a document as `too_large` above this size; no file is read past it, "
                             ".gz files are decompressed only up to it (default: 16)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="newsclean", description=DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"newsclean {version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    _add_run_command(commands)
    _add_deploy_command(commands)
    _add_serve_command(commands)
    _add_report_command(commands)
    _add_server_command(commands)
    _add_aliases_command(commands)
    return parser


def _add_run_command(commands) -> None:
    """`newsclean run SOURCE... [--out DIR]`: the flow, once, now."""
    run = commands.add_parser(
        "run", help="run the clean-news flow over files and folders",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Run the clean-news Prefect flow. A SOURCE is a file or a folder searched recursively for "
                    ".txt, .html, .htm (also .gz) and .jsonl files.\n\n"
                    "Writes Parquet tables to DIR/articles (partitioned by dt), DIR/quarantine (with reasons) and "
                    "DIR/stories, and reports to DIR/reports (run-ID.html, index.html, data_docs/).\n\n"
                    "Runs are incremental: inputs whose path, size and mtime are in the ledger under DIR/state are "
                    "skipped without being read. A killed run can simply be started again.")
    run.add_argument("sources", nargs="+", metavar="SOURCE", help="input file or folder")
    run.add_argument("--out", default="data", metavar="DIR",
                     help="output folder, or s3://bucket/prefix (credentials and endpoint from the usual AWS_* "
                          "variables; ?endpoint_override=host:port works too) (default: data/)")
    _add_run_options(run)
    run.add_argument("--full", action="store_true",
                     help="reprocess every input into a new dataset that replaces the old one when the run ends")
    run.add_argument("--wait", type=float, default=0.0, metavar="SECONDS",
                     help="if another run is using DIR, wait up to this long for it instead of exiting (code 75)")
    run.add_argument("--task-runner", choices=("local", "dask"), default="local",
                     help="where batches are cleaned: worker processes here (local), or a Dask cluster (dask)")
    run.add_argument("--dask-address", default=None, metavar="tcp://HOST:PORT",
                     help="scheduler of an existing Dask cluster (default with --task-runner dask: a temporary "
                          "local cluster)")
    run.add_argument("--text-stripper", choices=("rules", "model"), default=None,
                     help="what removes chrome from plain text: the hand-set rules or the learned line model "
                          "(default: $NEWSCLEAN_TEXT_STRIPPER if set, else rules)")
    run.add_argument("--in-flight", type=int, default=None, metavar="N",
                     help="batches cleaned at the same time (default: 1; with dask, the cluster's thread count "
                          "with --dask-address, else 2)")
    _add_verbose(run)


def _add_deploy_command(commands) -> None:
    """`newsclean deploy SOURCE... --out DIR --cron EXPR`: a scheduled deployment."""
    deploy = commands.add_parser(
        "deploy", help="register a scheduled clean-news deployment on the Prefect API",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Register (or update) a Prefect deployment of clean-news with a cron schedule. Start an API "
                    "first (`prefect server start`, then `export PREFECT_API_URL=http://127.0.0.1:4200/api`), "
                    "and run `newsclean serve` to execute the scheduled runs.\n\n"
                    "Example:\n  newsclean deploy scrapes/ --out /data/news --cron \"0 * * * *\"")
    deploy.add_argument("sources", nargs="+", metavar="SOURCE", help="input file or folder (stored as absolute path)")
    deploy.add_argument("--out", required=True, metavar="DIR", help="output folder or s3:// URI")
    deploy.add_argument("--cron", required=True, metavar="EXPR", help='cron schedule, e.g. "0 * * * *" for hourly')
    deploy.add_argument("--timezone", default="UTC", metavar="TZ", help="time zone of the schedule (default: UTC)")
    deploy.add_argument("--name", default="scheduled", metavar="NAME", help="deployment name (default: scheduled)")
    deploy.add_argument("--serve", action="store_true", help="serve the deployment right away (blocks)")
    deploy.add_argument("--allow-temporary-server", action="store_true",
                        help="register even when PREFECT_API_URL is unset, on a temporary server that stops with "
                             "this command and runs no scheduler: nothing will be scheduled (for trying deploy out)")
    _add_run_options(deploy)


def _add_serve_command(commands) -> None:
    """`newsclean serve [NAME...]`: run the registered deployments on their schedules."""
    serve = commands.add_parser("serve", help="run registered deployments on their schedules (blocks)",
                                description="Read the clean-news deployments registered with `newsclean deploy` "
                                            "from the Prefect API and run them on schedule until interrupted.")
    serve.add_argument("names", nargs="*", metavar="NAME", help="deployments to serve (default: all)")
    serve.add_argument("--once", action="store_true",
                       help="start the runs that are due now, wait for them and exit (for an external scheduler)")


def _add_report_command(commands) -> None:
    """`newsclean report DIR`: rebuild the reports of an output folder."""
    report = commands.add_parser("report", help="rebuild the reports of an output folder",
                                 description="Rebuild DIR/reports (every run's report, the runs index and the Data "
                                             "Docs) from the stored tables, validating each run's rows again with "
                                             "the current seeds.")
    report.add_argument("out", metavar="DIR", help="output folder of earlier runs, or s3:// URI")
    report.add_argument("--seeds", default=None, metavar="DIR", help=SEEDS_HELP)


def _add_server_command(commands) -> None:
    """`newsclean server start|stop|status`: the local Prefect server."""
    server = commands.add_parser(
        "server", help="the local Prefect server that `run` starts when PREFECT_API_URL is not set",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Without PREFECT_API_URL, `newsclean run` uses a local Prefect server that it starts in the "
                    "background the first time and reuses afterwards (its state under $PREFECT_HOME, default "
                    "~/.prefect). It stops by itself after $NEWSCLEAN_SERVER_IDLE_MINUTES (default 60; 0 = never) "
                    "without a request. NEWSCLEAN_SERVER=temporary gives each command its own server instead, "
                    "stopped when the command ends.")
    server.add_argument("action", choices=("start", "stop", "status"),
                        help="start it now (prints the UI address), stop it, or say whether it runs")


def _add_aliases_command(commands) -> None:
    """`newsclean aliases suggest SOURCE...`: candidate alias rows."""
    aliases = commands.add_parser("aliases", help="work with the alias table")
    alias_commands = aliases.add_subparsers(dest="alias_command", required=True, metavar="ACTION")
    suggest = alias_commands.add_parser("suggest", help="propose alias rows for name variants found in a corpus",
                                        description="Find capitalised names that look like variants of each other or "
                                        "of known entities and print candidate rows; changes nothing.")
    suggest.add_argument("sources", nargs="+", metavar="SOURCE", help="input file or folder, as for run")
    suggest.add_argument("--seeds", default=None, metavar="DIR", help=SEEDS_HELP)
    suggest.add_argument("--limit", type=int, default=50, metavar="N", help="rows to print at most (default: 50)")


def main(argv: list[str] | None = None) -> int:
    """The command line; called without ``argv`` (the ``newsclean`` command itself) it also ends the process."""
    code = _main(argv)
    if argv is None:
        _exit_now(code)
    return code


def _exit_now(code: int) -> None:
    """Run the exit handlers (Prefect sends its last logs and events), flush, and leave without tearing down
    every module and object one by one: that teardown cost 0.5 CPU-seconds, a sixth of a rerun with nothing new."""
    import atexit

    if "prefect" in sys.modules:  # Prefect drains these at thread shutdown, which os._exit skips
        from prefect.events.worker import EventsWorker
        from prefect.logging.handlers import APILogWorker

        for service in (APILogWorker, EventsWorker):
            try:
                service.drain_all(timeout=10)
            except Exception:  # a log line or event lost is no reason to fail the command
                pass
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)


def _main(argv: list[str] | None) -> int:
    args = build_parser().parse_args(argv)
    missing = [s for s in getattr(args, "sources", []) if "://" not in s and not Path(s).exists()]
    if missing:
        print(f"newsclean: {missing[0]}: no such file or folder; check the SOURCE argument", file=sys.stderr)
        return 2
    apply_prefect_defaults()
    configure_output(verbose=getattr(args, "verbose", False))
    if args.command == "run":
        return _run(args)
    if args.command == "server":
        return _server(args)
    if args.command == "deploy":
        return _deploy(args)
    if args.command == "serve":
        return _serve(args)
    if args.command == "report":
        return _report(args)
    if args.command == "aliases":
        from flows.aliases import suggest_command

        return suggest_command(args.sources, seeds_dir=args.seeds, limit=args.limit)
    return 2


def _report(args: argparse.Namespace) -> int:
    from flows.report import rebuild_reports
    from flows.seeds import SeedError

    if not _holds_output(args.out):
        print(f"newsclean: {args.out}: no articles, quarantine or reports there; give the --out folder of a run",
              file=sys.stderr)
        return 2
    from flows.lock import LockError, OutputLock, OutputLocked
    from flows.store import Store

    try:
        with OutputLock(Store.open(args.out)):  # a run writing the output would change what report reads
            rebuilt = rebuild_reports(args.out, seeds=args.seeds)
    except OutputLocked as error:
        print(f"newsclean: {error}", file=sys.stderr)
        return EXIT_LOCKED
    except (SeedError, LockError) as error:
        print(f"newsclean: {error}", file=sys.stderr)
        return 2
    adds_up = "yes" if rebuilt["adds_up"] else "NO"
    print(f"rebuilt the reports of {len(rebuilt['runs'])} run(s); counts add up: {adds_up}\n"
          f"  runs index           {rebuilt['index']}\n  data docs            {rebuilt['data_docs']}")
    return 0 if rebuilt["adds_up"] else 1


def _holds_output(out: str) -> bool:
    """Whether ``out`` holds a run's tables or reports (a local path is checked first: Store.open creates it)."""
    from flows.store import ARTICLES, QUARANTINE, Store

    if "://" not in out and not Path(out).is_dir():
        return False
    store = Store.open(out)
    return any(store.exists(store.path(name)) for name in (ARTICLES, QUARANTINE, "reports"))


# What marks a folder as a run's output: its ledger, or the lock file every run takes.
OUTPUT_MARKERS = (("state", "ledger"), (".newsclean.lock",))


def output_problem(out: str) -> str | None:
    """Why a local ``--out`` cannot take a run's output (one line, naming the fix), or None.

    A folder inside an existing output (``--out out/articles``) would get a second output whose tables sit
    among the first one's Parquet files, after which DuckDB and pandas fail to read that table. A file, or a
    folder that cannot be created or written, used to surface as pyarrow's traceback. An object-store URI
    is checked by the run itself.

    >>> output_problem("s3://bucket/news") is None
    True
    """
    if "://" in out:
        return None
    path = Path(out).expanduser().absolute()
    for parent in path.parents:
        if any(parent.joinpath(*marker).exists() for marker in OUTPUT_MARKERS):
            inside = path.relative_to(parent).parts[0]
            return (f"--out {out} is inside the output folder {parent} (its {inside}/); give {parent} itself, "
                    "or a folder outside it")
    for folder in (path, *path.parents):
        if folder.exists() and not folder.is_dir():
            return f"--out {out}: {folder} is a file, not a folder; give a folder (it is created if missing)"
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as error:
        return f"--out {out}: cannot write there ({error.strerror or error}); give a folder you can write to"
    return None


def _flow_parameters(args: argparse.Namespace) -> dict:
    """Flow keyword arguments for the options the user gave (the flow's defaults otherwise)."""
    params = {"seeds": args.seeds, "batch_size": args.batch_size, "workers": args.workers,
              "doc_timeout": args.doc_timeout,
              "max_document_bytes": int(args.max_doc_mb * 1024 * 1024) if args.max_doc_mb else None}
    return {name: value for name, value in params.items() if value is not None}


def _raise_stopped(signum, frame) -> None:
    raise Stopped(signum)


def _stopped_message(signum: int) -> str:
    name = signal.Signals(signum).name
    return (f"newsclean: stopped by {name}; the batches committed so far are kept, and the same command "
            "started again finishes the run")


def _run(args: argparse.Namespace) -> int:
    # Prefect turns a SIGTERM inside the flow into its TerminationSignal; outside it (start-up, the end) ours does.
    # Both, and Ctrl-C, end with one line instead of a traceback.
    previous = signal.signal(signal.SIGTERM, _raise_stopped)
    try:
        return _run_flow(args)
    except KeyboardInterrupt:
        silence_console()
        print(_stopped_message(signal.SIGINT), file=sys.stderr)
        return 128 + signal.SIGINT
    except BaseException as error:
        signum = getattr(error, "signum", None) or getattr(error, "signal", None)
        if not isinstance(signum, int) or not is_stop_signal(error):
            raise
        silence_console()
        print(_stopped_message(signum), file=sys.stderr)
        return 128 + signum
    finally:
        signal.signal(signal.SIGTERM, previous)


def _run_flow(args: argparse.Namespace) -> int:
    from flows.lock import OutputLocked
    from flows.seeds import SeedError

    if getattr(args, "text_stripper", None):  # the flow and its worker processes read it from the environment
        from flows.seeds import STRIPPER_ENV
        os.environ[STRIPPER_ENV] = args.text_stripper
    refused = _refused_before_start(args)
    if refused is not None:
        return refused
    from flows.server import ServerError

    flow_fn, params = _flow_and_parameters(args)
    try:
        summary = _run_clean_news(args, flow_fn, params)
    except ServerError as error:
        print(f"newsclean: {error}; or set PREFECT_API_URL to a running Prefect server", file=sys.stderr)
        return 1
    except SeedError as error:
        print(f"newsclean: {error}", file=sys.stderr)
        return 2
    except OutputLocked as error:
        print(f"newsclean: {error}", file=sys.stderr)
        return EXIT_LOCKED
    except ValueError as error:  # --full on an object store and other bad combinations
        print(f"newsclean: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        if error.errno != errno.ENOSPC:
            raise
        print(f"newsclean: {args.out}: no space left on device ({error.filename or 'writing the output'}); the "
              "output keeps every finished commit: free some space and run the same command again", file=sys.stderr)
        return 1
    summary = {**summary, "seconds": round(time.monotonic() - STARTED, 2)}
    print(format_summary(summary))
    return 0


def _refused_before_start(args: argparse.Namespace) -> int | None:
    """The exit code when the run cannot start (seeds, --out, a busy output), its reason printed; else None.

    A broken seeds table, a bad --out or a busy output is named at once, not after Prefect's start-up and
    its traceback of the failed flow run.
    """
    from flows.seeds import SeedError, load_references, seed_warnings

    try:  # before the --out check, which creates the output folder
        load_references(args.seeds)
        seed_warnings_found = seed_warnings(args.seeds)
    except SeedError as error:
        print(f"newsclean: {error}", file=sys.stderr)
        return 2
    problem = output_problem(args.out)
    if problem:
        print(f"newsclean: {problem}", file=sys.stderr)
        return 2
    for message in seed_warnings_found:
        print(f"newsclean: warning: {message}", file=sys.stderr)
    return None if args.wait else _output_busy(args.out)


def _output_busy(out: str) -> int | None:
    """EXIT_LOCKED (2 for an unsafe lock) when another run holds ``out``, with its holder printed; else None."""
    from flows.lock import current_holder, locked_message
    from flows.store import Store

    store = Store.open(out)
    try:
        holder = current_holder(store)
    except ValueError as error:  # LockError: the lock file or folder is unsafe
        print(f"newsclean: {error}", file=sys.stderr)
        return 2
    if holder is None:
        return None
    print(f"newsclean: {locked_message(store, holder)}", file=sys.stderr)
    return EXIT_LOCKED


def _flow_and_parameters(args: argparse.Namespace):
    """The clean-news flow (with Dask's task runner for --task-runner dask) and its parameters from ``args``."""
    from flows.clean_news import clean_news

    flow_fn, params = clean_news, _flow_parameters(args)
    if args.task_runner == "dask":
        flow_fn, params = _with_dask(args, params)
    elif args.in_flight:
        params["in_flight"] = args.in_flight
    return flow_fn, params


def _run_clean_news(args: argparse.Namespace, flow_fn, params: dict) -> dict:
    """The flow run itself, on the Prefect API in use (a local server started if needed); its summary."""
    from prefect import tags

    from flows.clean_news import run_tags
    from flows.engine import command_run_settings
    from flows.server import prefect_api

    with prefect_api(announce=lambda message: print(f"newsclean: {message}", file=sys.stderr)), \
            tags(*run_tags(args.out)), command_run_settings():
        summary = flow_fn(sources=args.sources, out=args.out, full=args.full, wait=args.wait, **params)
        return {**summary, "ui": _ui_url(summary)}


def _ui_url(summary: dict) -> str | None:
    """The run's page in the Prefect UI of the API in use (read inside the server's settings context)."""
    from prefect.settings import get_current_settings

    base = get_current_settings().ui_url
    run = summary.get("flow_run_id")
    return f"{str(base).rstrip('/')}/runs/flow-run/{run}" if base and run else None


def _server(args: argparse.Namespace) -> int:
    from flows import server

    if args.action == "stop":
        stopped = server.stop()
        print(f"stopped the local Prefect server (pid {stopped.pid}, {stopped.url})" if stopped
              else "no local Prefect server of newsclean is running")
        return 0
    if args.action == "start":
        try:
            info, started = server.ensure_background()
        except server.ServerError as error:
            print(f"newsclean: {error}", file=sys.stderr)
            return 1
    else:
        info, started = server.running(), False
        if info is None:
            print("no local Prefect server of newsclean is running; `newsclean run` or `newsclean server start` "
                  "starts one")
            return 3
    idle = f"stops after {info.idle_minutes:g} idle minutes" if info.idle_minutes else "runs until stopped"
    print(f"{'started' if started else 'running'}: the local Prefect server, pid {info.pid}; UI {info.url}; "
          f"{idle}\n  use it from other tools with: export PREFECT_API_URL={info.api_url}")
    return 0


def _with_dask(args: argparse.Namespace, params: dict):
    """The flow with prefect-dask's task runner; batches in flight default to the cluster's worker threads."""
    from prefect_dask import DaskTaskRunner

    from flows.clean_news import clean_news

    runner = DaskTaskRunner(address=args.dask_address) if args.dask_address else DaskTaskRunner()
    in_flight = args.in_flight
    if in_flight is None and args.dask_address:
        from distributed import Client

        with Client(args.dask_address, timeout=30) as client:
            in_flight = max(1, sum(client.nthreads().values()))
    params = {"workers": 1, **params, "in_flight": in_flight or 2}
    return clean_news.with_options(task_runner=runner), params


def _deploy(args: argparse.Namespace) -> int:
    from flows import deploy

    problem = output_problem(args.out)
    if not problem and not args.allow_temporary_server:
        problem = deploy.api_problem()
        if problem:
            print(f"newsclean: {problem}", file=sys.stderr)
            return 2
    deployment_id = deploy.register(args.sources, out=args.out, cron=args.cron, name=args.name,
                                    timezone=args.timezone, parameters=_flow_parameters(args))
    print(f"registered deployment clean-news/{args.name} ({deployment_id}) on cron {args.cron!r} ({args.timezone})")
    if args.serve:
        deploy.serve([args.name])
    else:
        print("run `newsclean serve` (with the same PREFECT_API_URL) to execute it on schedule")
    return 0


def _serve(args: argparse.Namespace) -> int:
    from flows import deploy

    problem = deploy.api_problem("serve")
    if problem:
        print(f"newsclean: {problem}", file=sys.stderr)
        return 2
    if not deploy.serve(args.names or None, once=args.once):
        print("newsclean: no clean-news deployments registered; create one with `newsclean deploy`", file=sys.stderr)
        return 2
    return 0


def format_summary(summary: dict) -> str:
    """The one-screen summary printed at the end of a run; ``seconds`` is the command's wall time."""
    lines = [
        f"clean-news {summary['run_id']}: {summary['read']} documents read in {summary['seconds']} s",
        f"  written to articles  {summary['written']:>8}",
        f"  quarantined          {summary['quarantined']:>8}",
    ]
    lines += [f"    {reason:<26}{n:>6}" for reason, n in summary["quarantine_reasons"].items()]
    if summary["already_stored"]:
        lines.append(f"  already stored       {summary['already_stored']:>8}  (same content seen before; skipped)")
        if summary.get("exact_duplicates"):
            lines.append(f"    of which copies    {summary['exact_duplicates']:>8}  (same body as a stored article; "
                         "source kept in the story ledger)")
    if summary.get("skipped_unchanged"):
        lines.append(f"  unchanged inputs     {summary['skipped_unchanged']:>8}  (in the ledger; not read)")
    for action in summary.get("recovered", ()):
        lines.append(f"  recovered: {action}")
    lines.append(f"  output               {summary['out']}")
    lines.append(f"  report               {summary['reports']['summary']}")
    lines.append(f"  data docs            {summary['reports']['data_docs']}")
    if summary.get("ui"):
        lines.append(f"  prefect UI           {summary['ui']}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
