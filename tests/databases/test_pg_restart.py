"""PostgreSQL restarted under running processes: `web` (Slack over HTTP), `clock` and
`worker` keep running, answer "busy" while it is down, and post what fell due once.

The test starts a cluster of its own (initdb and pg_ctl in a temporary directory, on a
free port), never the shared server, and runs the real `studybot` processes against it
and the fake Slack Web API.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import Engine, insert, select, text, update

from adapters.slack.messenger import METADATA_EVENT
from bot.content.models import Content
from bot.core import BUSY
from bot.store.db import Store, make_engine
from bot.store.models import Group, Outbox, Workspace
from scheduler.clock import Clock
from tests.slack.conftest import action_body, command_body, find_button, signed_headers
from tests.slack.fakeslack import FakeSlack

ROOT = Path(__file__).resolve().parents[2]
STUDYBOT = Path(sys.executable).parent / "studybot"
SECRET = "restart-signing-secret"
CHANNEL = "C1"
ACK_LIMIT = 3.0  # Slack's ack window


def _pg_tool(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for candidate in sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True):
        return str(candidate)
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Cluster:
    """A PostgreSQL cluster of this test's own, stopped and started at will."""

    initdb: str
    pg_ctl: str
    root: Path
    port: int
    as_user: list[str]  # `runuser -u postgres --` when the tests run as root

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        done = subprocess.run(
            [*self.as_user, *args], capture_output=True, text=True, timeout=60, check=False
        )
        assert done.returncode == 0, f"{args[0]} failed: {done.stdout}{done.stderr}"

    def create(self) -> None:
        self._run(
            self.initdb, "-D", str(self.root / "data"), "-A", "trust", "-U", "postgres",
            "-E", "UTF8", "--no-sync",
        )  # fmt: skip

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            self.pg_ctl, "-D", str(self.root / "data"), "-l", str(self.root / "server.log"),
            "-w", "-o", options, "start",
        )  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        self._run(self.pg_ctl, "-D", str(self.root / "data"), "-m", mode, "-w", "stop")


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    initdb, pg_ctl = _pg_tool("initdb"), _pg_tool("pg_ctl")
    if initdb is None or pg_ctl is None:
        pytest.skip("initdb/pg_ctl not found (on PATH or under /usr/lib/postgresql/*/bin)")
    as_user: list[str] = []
    root = Path(tempfile.mkdtemp(prefix="studybot-pg-"))
    if os.geteuid() == 0:  # initdb refuses to run as root: run the cluster as postgres
        runuser = shutil.which("runuser")
        try:
            import pwd

            pw = pwd.getpwnam("postgres")
        except KeyError:
            pw = None
        if runuser is None or pw is None:
            shutil.rmtree(root)
            pytest.skip("running as root, and no postgres user to run initdb as")
        os.chown(root, pw.pw_uid, pw.pw_gid)
        as_user = [runuser, "-u", "postgres", "--"]
    c = Cluster(initdb, pg_ctl, root, _free_port(), as_user)
    try:
        c.create()
        c.start()
        yield c
    finally:
        subprocess.run(
            [*as_user, pg_ctl, "-D", str(root / "data"), "-m", "immediate", "-w", "stop"],
            capture_output=True,
            timeout=60,
            check=False,
        )
        shutil.rmtree(root, ignore_errors=True)


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen[bytes]
    stderr: Path

    def log(self) -> str:
        return self.stderr.read_text(errors="replace")


def _spawn(name: str, args: list[str], env: dict[str, str], tmp: Path) -> Proc:
    err = tmp / f"{name}.stderr"
    with err.open("wb") as f:
        popen = subprocess.Popen(
            [str(STUDYBOT), *args], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=f
        )
    return Proc(name, popen, err)


def _post(base: str, body: str) -> tuple[int, dict[str, object], float]:
    """A signed request to the web process: status, JSON body, seconds to the answer."""
    started = time.monotonic()
    r = httpx.post(
        base + "/slack/events",
        content=body,
        headers=signed_headers(body, SECRET),
        timeout=ACK_LIMIT + 2,
    )
    took = time.monotonic() - started
    return r.status_code, (r.json() if r.content else {}), took


def _response_url(body: str) -> str:
    form = dict(parse_qsl(body))
    if "payload" in form:
        return str(json.loads(form["payload"])["response_url"])
    return form["response_url"]


def _daily_posts(fake: FakeSlack) -> list[str]:
    """The idempotency keys of the daily questions posted to the group's channel."""
    keys = []
    for call in fake.of("chat.postMessage"):
        meta = call.args.get("metadata") or {}
        if isinstance(meta, str):
            meta = json.loads(meta)
        key = str((meta.get("event_payload") or {}).get("key", ""))
        ours = call.args.get("channel") == CHANNEL and meta.get("event_type") == METADATA_EVENT
        if ours and key.startswith("daily:"):
            keys.append(key)
    return keys


def _wait(what: str, check: object, timeout: float) -> None:
    end = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert time.monotonic() < end, f"timed out waiting for {what}"
        time.sleep(0.1)


def _local_zone() -> str:
    """A zone whose local time is far from midnight, so 'today' holds through the test."""
    for tz in ("UTC", "Pacific/Honolulu", "Asia/Tokyo"):
        if 1 <= datetime.now(ZoneInfo(tz)).hour <= 22:
            return tz
    raise AssertionError("unreachable: these zones are 10 hours apart")


def test_processes_survive_a_postgres_restart(cluster: Cluster, tmp_path: Path) -> None:
    fake = FakeSlack().start()
    fake.user("ULEAD", "Lee", admin=True)
    fake.user("UALICE", "Alice")
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "STUDYBOT_DATABASE_URL": cluster.url,
        "SLACK_BOT_TOKEN": "xoxb-restart",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": fake.api_url,
    }
    for key in ("SLACK_APP_TOKEN", "SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET", "DISCORD_TOKEN"):
        env.pop(key, None)
    procs: list[Proc] = []
    engine = make_engine(cluster.url)
    try:
        web = _spawn("web", ["serve", "slack", "--port", str(port)], env, tmp_path)
        procs.append(web)
        _wait("the web process's /healthz", lambda: _healthy(base, web), 30)
        procs.append(_spawn("clock", ["clock", "--interval", "1"], env, tmp_path))
        procs.append(_spawn("worker", ["deliver"], env, tmp_path))
        _wait("the clock's lead and the worker's claims", lambda: _running(engine, procs), 30)

        tz = _local_zone()
        today = datetime.now(ZoneInfo(tz)).date()
        later = (datetime.now(ZoneInfo(tz)) + timedelta(hours=1)).strftime("%H:%M")
        setup = (
            f"setup track=associate start={today} tz={tz} time={later} "
            "days=mon,tue,wed,thu,fri,sat,sun"
        )
        status, ack, _ = _post(base, command_body(fake, "ULEAD", "Lee", setup, CHANNEL))
        assert status == 200 and ack.get("response_type") == "in_channel", ack
        status, ack, _ = _post(base, command_body(fake, "UALICE", "Alice", "join", CHANNEL))
        assert status == 200 and BUSY not in json.dumps(ack), ack
        status, quiz, _ = _post(base, command_body(fake, "UALICE", "Alice", "quiz", CHANNEL))
        assert status == 200 and quiz.get("blocks"), quiz
        answer = find_button(list(quiz["blocks"]), "A")  # type: ignore[arg-type]

        # The daily question falls due a few seconds from now, while the server is down
        # (setup takes minutes, HH:MM; the clock reads the group's next due instant).
        due = datetime.now(UTC) + timedelta(seconds=4)
        moved: dict[str, object] = {"post_time": due.astimezone(ZoneInfo(tz)).time()}
        if "next_due_at" in Group.__table__.c:
            moved["next_due_at"] = due
        with engine.begin() as conn:
            conn.execute(update(Group).values(moved))
        engine.dispose()
        stopped_at = datetime.now(UTC)
        cluster.stop("fast")
        assert datetime.now(UTC) < due, "the server took too long to stop for this test"

        for line in ("today", "leaderboard", "progress"):
            body = command_body(fake, "UALICE", "Alice", line, CHANNEL)
            status, ack, took = _post(base, body)
            assert status == 200 and took < ACK_LIMIT, (status, took, ack)
            assert BUSY in json.dumps(ack), ack
        click = action_body(fake, "UALICE", "Alice", answer, CHANNEL)
        status, _, took = _post(base, click)
        assert status == 200 and took < ACK_LIMIT, (status, took)
        path = _response_url(click)[len(fake.url) :]
        _wait("the click's reply", lambda: [c for c in fake.of("response") if c.path == path], 5)
        (reply,) = [c.args for c in fake.of("response") if c.path == path]
        assert BUSY in json.dumps(reply), reply

        assert httpx.get(base + "/healthz", timeout=ACK_LIMIT).status_code == 503
        while datetime.now(UTC) < due + timedelta(seconds=2):  # ticks meet the outage
            time.sleep(0.2)
        assert _daily_posts(fake) == []
        restarted_at = datetime.now(UTC)  # before: the clock may plan as start() returns
        cluster.start()

        status, ack, took = _post(base, command_body(fake, "UALICE", "Alice", "help", CHANNEL))
        assert status == 200 and "/study today" in json.dumps(ack), ack
        assert httpx.get(base + "/healthz", timeout=ACK_LIMIT).status_code == 200
        try:
            _wait("the daily question", lambda: _daily_posts(fake), 60)  # a loaded CI machine
        except AssertionError as e:  # say what the clock and the worker were doing
            logs = [f"{p.name}: {p.log()}" for p in procs]
            raise AssertionError("\n".join([str(e), *logs])) from e
        time.sleep(3)  # a second post would come within a few more ticks
        assert len(_daily_posts(fake)) == 1, _daily_posts(fake)
        with engine.connect() as conn:
            planned = conn.scalar(select(Outbox.created_at).where(Outbox.kind == "daily"))
        assert planned is not None and planned >= restarted_at > stopped_at

        for p in procs:
            assert p.popen.poll() is None, f"{p.name} exited: {p.log()}"
    finally:
        for p in procs:
            if p.popen.poll() is None:
                p.popen.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.popen.wait(15)
            except subprocess.TimeoutExpired:
                p.popen.kill()
                p.popen.wait(5)
        engine.dispose()
        fake.stop()
    for p in procs:
        log = p.log()
        assert "Traceback" not in log, f"{p.name}:\n{log}"
        assert "xoxb-restart" not in log and SECRET not in log
        trouble = [line for line in log.splitlines() if " WARNING " in line or " ERROR " in line]
        database = [line for line in trouble if "database" in line.lower()]
        assert len(database) <= 2, f"{p.name} logged the outage more than once:\n{log}"


def _running(engine: Engine, procs: list[Proc]) -> bool:
    """The clock holds its advisory lock and the worker has claimed (found nothing yet)."""
    for p in procs:
        assert p.popen.poll() is None, f"{p.name} exited: {p.log()}"
    with engine.connect() as conn:
        leading = conn.scalar(text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"))
        claiming = conn.scalar(
            text("SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%SKIP LOCKED%'")
        )
    return bool(leading) and bool(claiming)


def _healthy(base: str, web: Proc) -> bool:
    assert web.popen.poll() is None, web.log()
    try:
        return httpx.get(base + "/healthz", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def test_after_a_restart_exactly_one_clock_plans(
    cluster: Cluster, content: Content, caplog: pytest.LogCaptureFixture
) -> None:
    """The lead is an advisory lock in the clock's own session, which the restart ends:
    whichever clock asks first leads, and the other steps down before planning."""
    store = Store.from_url(cluster.url)
    now = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    with store.transaction() as s:
        s.execute(insert(Workspace).values(id=1, platform="console", external_id="console",
                                           created_at=now - timedelta(days=1)))  # fmt: skip
        s.execute(
            insert(Group).values(
                id=1, workspace_id=1, channel_id="C1", track="associate",
                start_date=now.date(), tz="UTC", post_time=dtime(9, 0),
                post_days="mon,tue,wed,thu,fri,sat,sun", exam_date=None, leads=[],
                skip_dates=[], paused=False, summary_day="fri", created_by="lead",
                created_at=now - timedelta(days=1), updated_at=now - timedelta(days=1),
            )
        )  # fmt: skip
    first, second = (
        Clock(store, content, clock=lambda: now),
        Clock(store, content, clock=lambda: now),
    )
    stop = threading.Event()
    try:
        assert first.wait_for_lead(stop) and not second.try_lead()
        cluster.stop("fast")
        cluster.start()
        assert second.wait_for_lead(stop, poll=0.05)  # its old session is gone: a new one
        caplog.clear()
        first._safe_tick()  # what the scheduler runs every interval
        assert "another clock took the lead; this one waits as a standby" in caplog.text
        with store.transaction() as s:
            assert s.scalars(select(Outbox.idem_key)).all() == []  # the standby planned nothing
        caplog.clear()
        second._safe_tick()
        assert "took the lead" not in caplog.text  # it found its lock held, in pg_locks
        with store.transaction() as s:
            assert "daily:1:2026-03-02" in s.scalars(select(Outbox.idem_key)).all()
        assert not first.leads()
        second.release()
        assert first.leads()  # the standby takes over when the lead is free again
        assert "Traceback" not in caplog.text
    finally:
        first.release()
        second.release()
        store.dispose()
