"""End to end: the real platform on loopback (hub, proxy, MLP service, user servers, kernels).

Each test starts the platform, acts through its public HTTP API as an admin and as
users, stops it, and checks that no process of it remains.
"""

from __future__ import annotations

import re

import pytest
import requests

from tests.conftest import Hub, auth, start_hub
from tests.kernels import execute, start_kernel

pytestmark = pytest.mark.e2e


def full_flow(hub: Hub) -> None:
    admin = hub.admin_token()
    pw = hub.add_user(admin, "alice")
    r = hub.user_token("alice", pw)
    assert r.status_code == 201, r.text
    alice = r.json()["token"]

    server = hub.spawn(alice, "alice", "cpu-large")
    assert server["user_options"] == {"profile": "cpu-large"}

    r = requests.get(f"{hub.url}/user/alice/api/status", headers=auth(alice), timeout=30)
    assert r.status_code == 200
    assert "kernels" in r.json()

    kid = start_kernel(hub.url, "alice", alice, "mlp-lightgbm-dask")
    out = execute(hub.url, "alice", alice, kid, "%mlp env")
    hub.remember()
    assert out["status"] == "ok", out
    assert re.search(r"user\s+alice", out["text"]), out["text"]
    assert "CPU large [cpu-large]" in out["text"]
    assert "1 usable" not in out["text"]  # cpu-large pins 2 cores
    assert "mlp service  reachable" in out["text"], out["text"]
    bad = execute(hub.url, "alice", alice, kid, "%mlp env --bogus")
    assert bad["status"] == "error"
    assert "UsageError" in bad["error"]
    assert execute(hub.url, "alice", alice, kid, "print(6 * 7)")["text"].strip() == "42"

    r = requests.get(f"{hub.url}/services/mlp/api/me", headers=auth(alice), timeout=30)
    assert r.status_code == 200
    assert r.json()["name"] == "alice"
    assert r.json()["admin"] is False

    r = requests.get(f"{hub.url}/user/alice/mlp/api/info", headers=auth(alice), timeout=60)
    assert r.status_code == 200, r.text
    info = r.json()
    assert info["user"] == "alice"
    assert info["profile"]["slug"] == "cpu-large"
    assert info["service"]["reachable"] is True


def test_full_flow_on_sqlite(hub: Hub):
    full_flow(hub)


@pytest.mark.postgres
def test_full_flow_on_postgresql(tmp_path, postgres):
    hub = start_hub(
        tmp_path,
        hub_db_url=postgres.create_database("hub_e2e"),
        mlp_db_url=postgres.create_database("mlp_e2e"),
    )
    try:
        full_flow(hub)
        r = requests.get(
            f"{hub.url}/services/mlp/api/users", headers=auth(hub.admin_token()), timeout=30
        )
        assert {u["name"] for u in r.json()["users"]} >= {"alice"}
    finally:
        hub.stop()
    assert not hub.leftovers()
    # The state lives in PostgreSQL, not in SQLite files of the data dir.
    assert not (hub.platform.data_dir / "jupyterhub.sqlite").exists()
    assert not (hub.platform.data_dir / "mlp.sqlite").exists()


def login_form(hub: Hub, username: str, password: str) -> requests.Session:
    s = requests.Session()
    s.get(f"{hub.url}/hub/login", timeout=30)
    xsrf = s.cookies.get("_xsrf")
    s.post(
        f"{hub.url}/hub/login",
        data={"username": username, "password": password, "_xsrf": xsrf},
        allow_redirects=False,
        timeout=30,
    )
    return s


def test_denials(hub: Hub):
    admin = hub.admin_token()
    pw_a = hub.add_user(admin, "alice")
    pw_b = hub.add_user(admin, "bob")
    alice = hub.user_token("alice", pw_a).json()["token"]
    bob = hub.user_token("bob", pw_b).json()["token"]

    # Right password: a session; wrong password or another user's password: none.
    assert "jupyterhub-hub-login" in login_form(hub, "alice", pw_a).cookies
    assert "jupyterhub-hub-login" not in login_form(hub, "alice", "wrong-password-1").cookies
    assert "jupyterhub-hub-login" not in login_form(hub, "bob", pw_a).cookies
    assert hub.user_token("bob", pw_a).status_code == 403
    assert hub.user_token("alice", "wrong-password-1").status_code == 403

    hub.spawn(bob, "bob", "cpu-small")
    # Alice cannot reach Bob's server nor Bob's data in the MLP service.
    r = requests.get(f"{hub.url}/user/bob/api/status", headers=auth(alice), timeout=30)
    assert r.status_code in (403, 404)
    r = requests.get(f"{hub.url}/user/bob/mlp/api/info", headers=auth(alice), timeout=30)
    assert r.status_code in (403, 404)
    requests.get(f"{hub.url}/services/mlp/api/me", headers=auth(bob), timeout=30)
    r = requests.get(f"{hub.url}/services/mlp/api/users/bob", headers=auth(alice), timeout=30)
    assert r.status_code in (403, 404)
    r = requests.get(f"{hub.url}/services/mlp/api/users", headers=auth(alice), timeout=30)
    assert r.status_code == 403
    # Bob sees his own record; the admin sees everyone's.
    r = requests.get(f"{hub.url}/services/mlp/api/users/bob", headers=auth(bob), timeout=30)
    assert r.status_code == 200
    r = requests.get(f"{hub.url}/services/mlp/api/users/bob", headers=auth(admin), timeout=30)
    assert r.status_code == 200

    # No token: refused by the server extension and every service endpoint.
    r = requests.get(f"{hub.url}/user/bob/mlp/api/info", timeout=30, allow_redirects=False)
    assert r.status_code in (302, 403)
    for path in ["api/health", "api/me", "api/users", "api/users/bob"]:
        r = requests.get(f"{hub.url}/services/mlp/{path}", timeout=30, allow_redirects=False)
        assert r.status_code == 403, path
    # A valid token in the URL query is not accepted by our endpoints.
    r = requests.get(f"{hub.url}/services/mlp/api/me?token={bob}", timeout=30)
    assert r.status_code == 403
    r = requests.get(
        f"{hub.url}/user/bob/mlp/api/info?token={bob}", timeout=30, allow_redirects=False
    )
    assert r.status_code in (302, 403)

    # A spawn with an unknown profile is refused with the valid names.
    r = requests.post(
        f"{hub.url}/hub/api/users/alice/server",
        headers=auth(alice),
        json={"profile": "huge"},
        timeout=60,
    )
    assert r.status_code == 400
    assert "cpu-small" in r.json()["message"]


def test_signup_needs_admin_approval(hub: Hub):
    s = requests.Session()
    s.get(f"{hub.url}/hub/signup", timeout=30)
    r = s.post(
        f"{hub.url}/hub/signup",
        data={
            "username": "carol",
            "signup_password": "carol-secret-pw-1",
            "signup_password_confirmation": "carol-secret-pw-1",
            "_xsrf": s.cookies.get("_xsrf"),
        },
        timeout=30,
    )
    assert r.status_code == 200
    assert "sent to the admin" in r.text
    # Not approved yet: no session, and the page says why.
    pending = login_form(hub, "carol", "carol-secret-pw-1")
    assert "jupyterhub-hub-login" not in pending.cookies
    # Signing up as the admin name cannot take over the admin account.
    s.post(
        f"{hub.url}/hub/signup",
        data={
            "username": hub.platform.admin_user,
            "signup_password": "attacker-password-1",
            "signup_password_confirmation": "attacker-password-1",
            "_xsrf": s.cookies.get("_xsrf"),
        },
        timeout=30,
    )
    assert (
        "jupyterhub-hub-login"
        not in login_form(hub, hub.platform.admin_user, "attacker-password-1").cookies
    )

    admin = login_form(hub, hub.platform.admin_user, hub.platform.admin_password)
    assert "jupyterhub-hub-login" in admin.cookies
    r = admin.get(f"{hub.url}/hub/authorize/carol", timeout=30)
    assert r.status_code == 200
    assert "jupyterhub-hub-login" in login_form(hub, "carol", "carol-secret-pw-1").cookies


def test_idle_culler_stops_idle_servers(tmp_path):
    from tests.conftest import wait_for

    hub = start_hub(tmp_path, MLP_CULL_TIMEOUT="5")
    try:
        admin = hub.admin_token()
        hub.add_user(admin, "frank")
        hub.spawn(admin, "frank", "cpu-small")

        def culled() -> bool:
            model = requests.get(
                f"{hub.url}/hub/api/users/frank", headers=auth(admin), timeout=30
            ).json()
            return not model["servers"]

        wait_for(culled, 90, "the idle culler to stop frank's idle server", interval=1)
        assert "Culling server frank" in hub.log_path.read_text()
    finally:
        hub.stop()
    assert not hub.leftovers()
