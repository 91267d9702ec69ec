"""Schedules: exactly one run per fire time, missed-run policies, recovery, retries, webhooks."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from sqlalchemy import func, select, update

from mlp.service.db import session_factory, utcnow
from pipelines_as_notebooks.engine import Engine, ScheduleError
from pipelines_as_notebooks.store import Run, Schedule
from tests.pipelines_helpers import KERNEL, drive, write_notebook


@pytest.fixture
def root(tmp_path, monkeypatch):
    monkeypatch.setenv("MLP_USERS_DIR", str(tmp_path / "users"))
    path = tmp_path / "users" / "alice"
    write_notebook(path / "job.ipynb", "x = 1", "y = x + 1")
    write_notebook(path / "broken.ipynb", "x = 1", "raise KeyError('column')")
    return path


@pytest.fixture
def db_url(tmp_path):
    return f"sqlite:///{tmp_path / 'mlp.sqlite'}"


@pytest.fixture
def engine(db_url, root):
    eng = Engine(session_factory(db_url))
    yield eng
    eng.shutdown()


def count_runs(engine, schedule_id):
    with engine.sessions() as db:
        return db.scalar(select(func.count()).where(Run.schedule_id == schedule_id))


def make_due(engine, sid, ago: timedelta):
    with engine.sessions() as db, db.begin():
        db.execute(update(Schedule).where(Schedule.id == sid).values(next_fire=utcnow() - ago))


def test_schedule_fires_once_per_fire_time_across_two_instances(engine, db_url, root):
    other = Engine(session_factory(db_url, migrate=False))
    s = engine.create_schedule("alice", {"target": "job.ipynb", "cron": "*/5 * * * *"})
    make_due(engine, s["id"], timedelta(seconds=1))
    now = utcnow()
    assert engine.fire_schedules(now) + other.fire_schedules(now) == 1
    assert engine.fire_schedules(now) == 0
    assert count_runs(engine, s["id"]) == 1
    with engine.sessions() as db:
        sched = db.get(Schedule, s["id"])
        assert sched.next_fire.replace(tzinfo=now.tzinfo) > now


def test_missed_fires_skip_policy(engine, root):
    s = engine.create_schedule("alice", {"target": "job.ipynb", "cron": "* * * * *"})
    make_due(engine, s["id"], timedelta(minutes=10))
    assert engine.fire_schedules(utcnow()) == 0
    assert count_runs(engine, s["id"]) == 0


def test_missed_fires_catch_up_once_policy(engine, root):
    s = engine.create_schedule(
        "alice",
        {"target": "job.ipynb", "cron": "* * * * *", "missed_policy": "catch_up_once"},
    )
    make_due(engine, s["id"], timedelta(minutes=10))
    assert engine.fire_schedules(utcnow()) == 1
    assert engine.fire_schedules(utcnow()) == 0
    assert count_runs(engine, s["id"]) == 1


def test_interval_schedule_runs_and_pause_stops_it(engine, root):
    s = engine.create_schedule("alice", {"target": "job.ipynb", "interval_seconds": 60})
    make_due(engine, s["id"], timedelta(seconds=0))
    engine.fire_schedules(utcnow())
    run = engine.list_runs("alice", False)[0]
    assert run["schedule_id"] == s["id"]
    assert drive(engine, "alice", run["id"])["status"] == "succeeded"
    engine.update_schedule("alice", False, s["id"], {"paused": True})
    make_due(engine, s["id"], timedelta(seconds=0))
    assert engine.fire_schedules(utcnow()) == 0


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"cron": "61 * * * *"}, "invalid cron expression '61 * * * *'"),
        ({"cron": "0 2 * * *", "timezone": "Mars/Olympus"}, "unknown time zone 'Mars/Olympus'"),
        ({"cron": "0 2 * * *", "interval_seconds": 5}, "exactly one of cron"),
        ({}, "exactly one of cron"),
        ({"cron": "0 2 * * *", "missed_policy": "always"}, "missed_policy must be one of"),
    ],
)
def test_bad_schedules_refused(engine, root, body, needle):
    with pytest.raises(ScheduleError) as err:
        engine.create_schedule("alice", {"target": "job.ipynb", **body})
    assert needle in str(err.value)


def test_time_zone_is_respected(engine, root):
    s = engine.create_schedule(
        "alice", {"target": "job.ipynb", "cron": "0 2 * * *", "timezone": "Asia/Shanghai"}
    )
    # 02:00 in Shanghai (UTC+8) is 18:00 UTC.
    assert s["next_fire"].endswith("T18:00:00+00:00")


def test_users_cannot_touch_others_schedules(engine, root):
    from mlp.errors import NotFoundError

    s = engine.create_schedule("alice", {"target": "job.ipynb", "cron": "0 2 * * *"})
    for call in (
        lambda: engine.update_schedule("bob", False, s["id"], {"paused": True}),
        lambda: engine.delete_schedule("bob", False, s["id"]),
        lambda: engine.run_schedule_now("bob", False, s["id"]),
    ):
        with pytest.raises(NotFoundError):
            call()
    assert engine.list_schedules("bob", False) == []
    assert len(engine.list_schedules("admin", True)) == 1


def test_runs_of_a_dead_executor_are_recovered_and_retried(engine, root):
    run = engine.submit_notebook("alice", "job.ipynb", kernel=KERNEL, retries=1)
    with engine.sessions() as db, db.begin():
        db.execute(
            update(Run)
            .where(Run.id == run["id"])
            .values(status="running", lease_owner="dead-host-1", lease_expires=utcnow())
        )
    engine.recover(utcnow() + timedelta(seconds=1))
    lost = engine.get_run("alice", False, run["id"])
    assert lost["status"] == "failed"
    assert "service restart" in lost["error"]
    retry = next(r for r in engine.list_runs("alice", False) if r["attempt"] == 2)
    assert retry["status"] == "queued"


class _Hook(BaseHTTPRequestHandler):
    received: list[dict] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Hook.received.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_failure_notifies_the_webhook(engine, root):
    from tests.conftest import wait_for

    server = HTTPServer(("127.0.0.1", 0), _Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/hook"
        s = engine.create_schedule(
            "alice", {"target": "broken.ipynb", "interval_seconds": 3600, "notify_url": url}
        )
        run = engine.run_schedule_now("alice", False, s["id"])
        assert drive(engine, "alice", run["id"])["status"] == "failed"
        wait_for(lambda: _Hook.received, 10, "the webhook call")
        assert _Hook.received[0]["run"]["status"] == "failed"
        assert "KeyError" in _Hook.received[0]["run"]["error"]
        assert _Hook.received[0]["schedule"]["id"] == s["id"]
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.postgres
def test_two_instances_on_postgresql_never_duplicate(postgres, root):
    url = postgres.create_database("sched_race")
    a = Engine(session_factory(url))
    b = Engine(session_factory(url, migrate=False))
    s = a.create_schedule("alice", {"target": "job.ipynb", "cron": "*/5 * * * *"})
    make_due(a, s["id"], timedelta(seconds=1))
    now = utcnow()
    results: list[int] = []
    threads = [
        threading.Thread(target=lambda e=e: results.append(e.fire_schedules(now))) for e in (a, b)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sum(results) == 1
    assert count_runs(a, s["id"]) == 1
    # Both try to claim the queued run: exactly one gets the lease.
    with a.sessions() as db:
        run = db.scalars(select(Run).where(Run.schedule_id == s["id"])).one()
    claims = [a._claim(run, now), b._claim(run, now)]
    assert sorted(claims) == [False, True]
