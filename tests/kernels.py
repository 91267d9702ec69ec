"""Run code in a kernel of a user's server through the Jupyter Server REST + websocket API."""

from __future__ import annotations

import json
import time
import uuid

import requests
import websocket


def start_kernel(base: str, user: str, token: str, name: str) -> str:
    r = requests.post(
        f"{base}/user/{user}/api/kernels",
        headers={"Authorization": f"token {token}"},
        json={"name": name},
        timeout=60,
    )
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def _message(user: str, session: str, msg_type: str, content: dict) -> tuple[str, str]:
    msg_id = uuid.uuid4().hex
    header = {"msg_id": msg_id, "msg_type": msg_type, "username": user, "session": session,
              "version": "5.3", "date": ""}  # fmt: skip
    body = {"header": header, "parent_header": {}, "metadata": {}, "channel": "shell",
            "content": content}  # fmt: skip
    return msg_id, json.dumps(body)


def _recv(ws: websocket.WebSocket, deadline: float) -> dict | None:
    """The next message, or None when nothing came before ``deadline`` (or 5 s)."""
    ws.settimeout(max(0.1, min(5.0, deadline - time.monotonic())))
    try:
        return dict(json.loads(ws.recv()))
    except websocket.WebSocketTimeoutException:
        return None


def _wait_until_connected(ws: websocket.WebSocket, user: str, session: str, deadline: float):
    """Ask for kernel_info until it answers: a request sent before the kernel's channels
    are connected can be lost."""
    while time.monotonic() < deadline:
        msg_id, raw = _message(user, session, "kernel_info_request", {})
        ws.send(raw)
        wait = min(deadline, time.monotonic() + 5)
        while time.monotonic() < wait:
            msg = _recv(ws, wait)
            if (
                msg
                and msg.get("parent_header", {}).get("msg_id") == msg_id
                and msg["msg_type"] == "kernel_info_reply"
            ):
                return
    raise AssertionError("the kernel never answered kernel_info_request")


def execute(
    base: str, user: str, token: str, kernel_id: str, code: str, timeout: float = 90
) -> dict:
    """Execute ``code``; return ``{"text": ..., "error": ..., "status": ...}``."""
    ws_url = base.replace("http://", "ws://") + f"/user/{user}/api/kernels/{kernel_id}/channels"
    ws = websocket.create_connection(ws_url, header=[f"Authorization: token {token}"], timeout=10)
    deadline = time.monotonic() + timeout
    session = uuid.uuid4().hex
    text: list[str] = []
    error = None
    status = None
    try:
        _wait_until_connected(ws, user, session, deadline)
        msg_id, raw = _message(
            user, session, "execute_request",
            {"code": code, "silent": False, "store_history": True, "user_expressions": {},
             "allow_stdin": False, "stop_on_error": True},
        )  # fmt: skip
        ws.send(raw)
        while time.monotonic() < deadline:
            msg = _recv(ws, deadline)
            if msg is None or msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind = msg["msg_type"]
            content = msg["content"]
            if kind == "stream":
                text.append(content["text"])
            elif kind in ("execute_result", "display_data"):
                text.append(content["data"].get("text/plain", ""))
            elif kind == "error":
                error = f"{content['ename']}: {content['evalue']}"
            elif kind == "execute_reply":
                status = content["status"]
                if status == "error":
                    error = error or f"{content.get('ename')}: {content.get('evalue')}"
            elif kind == "status" and content["execution_state"] == "idle" and status:
                break
    finally:
        ws.close()
    return {"text": "".join(text), "error": error, "status": status}
