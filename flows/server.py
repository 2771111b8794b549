"""The Prefect API of a command run without ``PREFECT_API_URL``: a local server started once and reused.

Without an API Prefect starts a temporary server inside every command: 5-20 s to start and a few to stop
on 2 cores, most of the wall time of a small run, and a SIGKILLed command leaves it running (about 260 MB).
Instead the first ``newsclean run`` starts a server in the background (its own session, so Ctrl-C of the
command does not stop it), records it in ``$PREFECT_HOME/newsclean-server.json``, and later commands use
it; it stops by itself after ``NEWSCLEAN_SERVER_IDLE_MINUTES`` (default 60) without a request, or with
``newsclean server stop``. Its UI shows the runs, their logs and artifacts.

Prefect's own ``prefect server start --background`` is the same idea, but it takes the fixed port 4200 and
leaves the server's output on a pipe to the command that started it; the app served here is the same
(``prefect.server.api.server:create_app`` under uvicorn), its output goes to ``newsclean-server.log``.

``NEWSCLEAN_SERVER=temporary`` gives a server for the one command instead, stopped when the command ends
and, since it watches its parent, also when the command is killed.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

MODE_ENV = "NEWSCLEAN_SERVER"  # background (default) or temporary
IDLE_ENV = "NEWSCLEAN_SERVER_IDLE_MINUTES"
DEFAULT_IDLE_MINUTES = 60.0
STATE_FILE = "newsclean-server.json"
LOG_FILE = "newsclean-server.log"
LOCK_FILE = "newsclean-server.lock"
# The server imports FastAPI, SQLAlchemy and the UI and migrates its database on the first start: 5-20 s on
# a loaded 2-core machine.
STARTUP_TIMEOUT = 120.0
STOP_TIMEOUT = 15.0
PARENT_CHECK_SECONDS = 0.5


class ServerError(RuntimeError):
    """The local Prefect server could not be started; the message says why and where its log is."""


@dataclass(frozen=True)
class ServerInfo:
    pid: int
    port: int
    home: str
    idle_minutes: float
    started_at: float

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.url}/api"


def prefect_home() -> Path:
    """Prefect's home folder (``PREFECT_HOME``, default ``~/.prefect``), where the server's files live."""
    from prefect.settings import get_current_settings

    return Path(get_current_settings().home).expanduser()


def configured_api_url() -> str | None:
    """The API the user configured (``PREFECT_API_URL``, a profile, a test harness), or None."""
    from prefect.settings import get_current_settings

    url = get_current_settings().api.url
    return str(url) if url else None


def idle_minutes() -> float:
    """Minutes without a request after which a background server stops (0: never)."""
    value = os.environ.get(IDLE_ENV, "")
    try:
        return max(0.0, float(value)) if value else DEFAULT_IDLE_MINUTES
    except ValueError:
        raise ServerError(f"{IDLE_ENV}={value!r}: give a number of minutes (0 = never stop)") from None


def healthy(url: str, timeout: float = 2.0) -> bool:
    """Whether a Prefect API answers its health check at ``url`` (the server's address, without /api)."""
    try:
        with urllib.request.urlopen(f"{url}/api/health", timeout=timeout) as response:
            return response.status == 200
    except (OSError, urllib.error.URLError, ValueError):
        return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def running(home: Path | None = None) -> ServerInfo | None:
    """The background server recorded under ``home``, if its process is alive and answers."""
    home = home or prefect_home()
    try:
        info = ServerInfo(**json.loads((home / STATE_FILE).read_text()))
    except (OSError, ValueError, TypeError):
        return None
    if not _alive(info.pid) or not healthy(info.url):
        return None
    return info


@contextlib.contextmanager
def _locked(home: Path):
    """One command at a time starts or stops the background server of ``home``."""
    import fcntl

    home.mkdir(parents=True, exist_ok=True)
    with open(home / LOCK_FILE, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _free_port(preferred: int | None = None) -> int:
    for port in ([preferred] if preferred else []) + [0]:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return sock.getsockname()[1]
    raise ServerError("no free local port for the Prefect server")


def _launch(home: Path, *, idle: float, parent: int | None, port: int | None = None) -> ServerInfo:
    """Start ``python -m flows.server serve`` detached and wait until it answers; retries a port taken meanwhile."""
    log_path = home / LOG_FILE
    for attempt in range(3):
        chosen = port or _free_port(8200 if attempt == 0 else None)
        command = [sys.executable, "-m", "flows.server", "serve", "--port", str(chosen), "--idle-minutes", str(idle)]
        if parent:
            command += ["--parent", str(parent)]
        home.mkdir(parents=True, exist_ok=True)
        with open(log_path, "ab") as log:
            process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                       start_new_session=True, cwd=str(Path(__file__).resolve().parent.parent),
                                       env={**os.environ, "PREFECT_HOME": str(home)})
        info = ServerInfo(pid=process.pid, port=chosen, home=str(home), idle_minutes=idle, started_at=time.time())
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if process.poll() is not None:
                break
            if healthy(info.url, timeout=1.0):
                return info
            time.sleep(0.1)
        else:
            process.kill()
            process.wait()
            raise ServerError(f"the local Prefect server did not answer within {STARTUP_TIMEOUT:.0f} s; see {log_path}")
        if port:  # a port the caller asked for: no other to try
            break
    raise ServerError(f"the local Prefect server exited during start-up (code {process.returncode}); see {log_path}")


def ensure_background(home: Path | None = None, *, port: int | None = None) -> tuple[ServerInfo, bool]:
    """The background server of ``home`` (Prefect's home), started if none answers; and whether it was started."""
    home = home or prefect_home()
    with _locked(home):
        info = running(home)
        if info is not None:
            return info, False
        info = _launch(home, idle=idle_minutes(), parent=None, port=port)
        (home / STATE_FILE).write_text(json.dumps(asdict(info)))
        return info, True


def stop(home: Path | None = None) -> ServerInfo | None:
    """Stop the background server of ``home``; the one stopped, or None if none was running."""
    home = home or prefect_home()
    with _locked(home):
        state = home / STATE_FILE
        try:
            info = ServerInfo(**json.loads(state.read_text()))
        except (OSError, ValueError, TypeError):
            return None
        state.unlink(missing_ok=True)
        if not _alive(info.pid) or not _is_our_server(info.pid):
            return None
        _terminate(info.pid)
        return info


def _is_our_server(pid: int) -> bool:
    """Whether ``pid`` still runs this module (the number may have been reused by another process)."""
    try:
        return b"flows.server" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return True  # no /proc: trust the state file


def _terminate(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.1)
    if _alive(pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


class TemporaryServer:
    """A server for one command: stopped when the command ends, and by itself when the command is killed."""

    def __init__(self, home: Path | None = None):
        self.home = home or prefect_home()
        self.info: ServerInfo | None = None

    def __enter__(self) -> ServerInfo:
        self.info = _launch(self.home, idle=0, parent=os.getpid())
        return self.info

    def __exit__(self, *exc) -> None:
        if self.info is not None:
            _terminate(self.info.pid)
            self.info = None


@contextlib.contextmanager
def prefect_api(announce=None):
    """Run the body against a Prefect API: the configured one, else the background (or temporary) local server.

    ``announce(message)`` is told when a server is started.
    """
    if configured_api_url():
        yield None
        return
    from prefect.settings import PREFECT_API_URL, temporary_settings

    mode = os.environ.get(MODE_ENV, "background")
    if mode not in ("background", "temporary"):
        raise ServerError(f"{MODE_ENV}={mode!r}: use background (the default) or temporary")
    if mode == "temporary":
        with TemporaryServer() as info, temporary_settings({PREFECT_API_URL: info.api_url}):
            yield info
        return
    info, started = ensure_background()
    if started and announce:
        idle = f"stops after {info.idle_minutes:g} idle minutes or with" if info.idle_minutes else "stop it with"
        announce(f"started a local Prefect server for this and later runs: UI {info.url} ({idle} "
                 "`newsclean server stop`)")
    with temporary_settings({PREFECT_API_URL: info.api_url}):
        yield info


# ----------------------------------------------------------------------------------------------
# The server process: `python -m flows.server serve --port N [--idle-minutes M] [--parent PID]`


class _ActivityTracker:
    """ASGI middleware that remembers when the last request ended and how many are open (websockets too)."""

    def __init__(self, app):
        self.app = app
        self.open = 0
        self.last = time.monotonic()

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        self.open += 1
        try:
            return await self.app(scope, receive, send)
        finally:
            self.open -= 1
            self.last = time.monotonic()

    def idle_seconds(self) -> float:
        return 0.0 if self.open else time.monotonic() - self.last


def serve(port: int, *, idle_minutes: float = 0.0, parent: int | None = None) -> None:
    """Serve the Prefect API and UI on 127.0.0.1:``port`` until SIGTERM, ``idle_minutes`` without a request,
    or the end of process ``parent``."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ["PREFECT__SERVER_FINAL"] = "1"
    os.environ.pop("PREFECT_API_URL", None)  # the server is the API; a client setting must not point it elsewhere
    import uvicorn
    from prefect.server.api.server import create_app

    tracker = _ActivityTracker(create_app())
    server = uvicorn.Server(uvicorn.Config(tracker, host="127.0.0.1", port=port, log_level="error", lifespan="on"))

    def watch() -> None:
        while not server.should_exit:
            time.sleep(PARENT_CHECK_SECONDS)
            if parent and os.getppid() != parent:
                print(f"newsclean server: process {parent} ended; stopping", flush=True)
                server.should_exit = True
            elif not server.started:  # idle time counts from the moment it answers (start-up can take 20 s)
                tracker.last = time.monotonic()
            elif idle_minutes and tracker.idle_seconds() > idle_minutes * 60:
                print(f"newsclean server: no request in {idle_minutes:g} minutes; stopping", flush=True)
                server.should_exit = True
        # A stop asked for during the app's start-up can hang in its shutdown ("Reactive triggers not started"):
        # after a grace period the process ends anyway (SQLite keeps the database consistent).
        time.sleep(STOP_TIMEOUT - 5)
        print("newsclean server: shutdown took too long; exiting", flush=True)
        os._exit(0)

    threading.Thread(target=watch, name="newsclean-server-watch", daemon=True).start()
    print(f"newsclean server: pid {os.getpid()} serving http://127.0.0.1:{port}", flush=True)
    server.run()
    if not server.started:  # the port was taken or the app failed to start
        sys.exit(3)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m flows.server")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("serve")
    run.add_argument("--port", type=int, required=True)
    run.add_argument("--idle-minutes", type=float, default=0.0)
    run.add_argument("--parent", type=int, default=None)
    args = parser.parse_args(argv)
    serve(args.port, idle_minutes=args.idle_minutes, parent=args.parent)


if __name__ == "__main__":
    main()
