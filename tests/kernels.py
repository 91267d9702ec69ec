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


def execute(
    base: str, user: str, token: str, kernel_id: str, code: str, timeout: float = 90
) -> dict:
    """Execute ``code``; return ``{"text": ..., "error": ..., "status": ...}``."""
    ws_url = base.replace("http://", "ws://") + f"/user/{user}/api/kernels/{kernel_id}/channels"
    ws = websocket.create_connection(
        ws_url, header=[f"Authorization: token {token}"], timeout=timeout
    )
    msg_id = uuid.uuid4().hex
    ws.send(
        json.dumps(
            {
                "header": {
                    "msg_id": msg_id,
                    "msg_type": "execute_request",
                    "username": user,
                    "session": uuid.uuid4().hex,
                    "version": "5.3",
                    "date": "",
                },
                "parent_header": {},
                "metadata": {},
                "channel": "shell",
                "content": {
                    "code": code,
                    "silent": False,
                    "store_history": True,
                    "user_expressions": {},
                    "allow_stdin": False,
                    "stop_on_error": True,
                },
            }
        )
    )
    text: list[str] = []
    error = None
    status = None
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            msg = json.loads(ws.recv())
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
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
