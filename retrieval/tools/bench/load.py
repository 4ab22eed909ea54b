"""`python -m retrieval.bench --sessions N`: N chat sessions at once against one Streamlit server.

The server is `streamlit run app.py` on 127.0.0.1 (a free port), started here and stopped at the
end; each session speaks Streamlit's own protocol as the browser does: a websocket on
`/_stcore/stream`, BackMsg protobufs out (a rerun with the chat box's value), ForwardMsg protobufs
in, until `script_finished`. One latency is one question: from sending it to the end of its run.
Bounded: at most MAX_SESSIONS sessions, `questions` questions each, `timeout` seconds in all;
localhost only. Errors are runs that show an exception box, end in an error, or time out.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field

import numpy as np

from ...config import APP_DIR

MAX_SESSIONS = 50
QUESTIONS = [
    "quelle différence entre SES et Pinpoint ?",
    "conseils pour l'examen sur SSM",
    "c'est quoi CloudFormation ?",
    "comment détecter une dérive de stack ?",
    "Outposts racks sécurité physique",
    "EKS vs ECS",
]


@dataclass
class LoadResult:
    sessions: int
    latencies: list[float] = field(default_factory=list)  # seconds per question
    errors: int = 0
    seconds: float = 0.0  # wall time of the whole run

    def summary(self) -> dict:
        lat = np.array(self.latencies) if self.latencies else np.array([float("nan")])
        return {
            "sessions": self.sessions,
            "questions": len(self.latencies),
            "p50_s": round(float(np.percentile(lat, 50)), 2),
            "p95_s": round(float(np.percentile(lat, 95)), 2),
            "max_s": round(float(lat.max()), 2),
            "errors": self.errors,
            "seconds": round(self.seconds, 1),
        }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(port: int, env: dict | None = None) -> subprocess.Popen:
    """`streamlit run app.py` on 127.0.0.1:port, headless; returns once its health check answers."""
    cmd = [
        *(sys.executable, "-m", "streamlit", "run", str(APP_DIR / "app.py")),
        *("--server.address", "127.0.0.1", "--server.port", str(port), "--server.headless", "true"),
        *("--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"),
    ]
    proc = subprocess.Popen(
        cmd, cwd=APP_DIR, env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            err = proc.stderr.read().decode(errors="replace")[-500:] if proc.stderr else ""
            raise RuntimeError(f"streamlit s'est arrêté : {err}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return proc
        except OSError:
            time.sleep(0.3)
    proc.terminate()
    raise RuntimeError("streamlit n'a pas répondu en 120 s")


class Session:
    """One browser tab, as Streamlit's protocol sees it."""

    def __init__(self, port: int):
        self.url = f"ws://127.0.0.1:{port}/_stcore/stream"
        self.chat_id: str | None = None
        self.page_hash = ""
        self.quotes = 0  # elements holding a `fichier:ligne` reference (the passages drawn), for checks

    async def __aenter__(self) -> Session:
        import websockets
        from websockets.typing import Subprotocol

        self.ws = await websockets.connect(
            self.url, subprotocols=[Subprotocol("streamlit")], max_size=None, open_timeout=30
        )
        return self

    async def __aexit__(self, *exc) -> None:
        await self.ws.close()

    async def run(self, question: str | None, timeout: float) -> tuple[float, bool]:
        """One rerun (the first load when question is None); (seconds, ok)."""
        from streamlit.proto.BackMsg_pb2 import BackMsg
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        msg = BackMsg()
        msg.rerun_script.query_string = ""
        msg.rerun_script.page_script_hash = self.page_hash
        if question is not None and self.chat_id:
            w = msg.rerun_script.widget_states.widgets.add()
            w.id = self.chat_id
            w.chat_input_value.data = question
        t0 = time.perf_counter()
        await self.ws.send(msg.SerializeToString())
        ok = True
        deadline = t0 + timeout
        while True:
            left = deadline - time.perf_counter()
            if left <= 0:
                return time.perf_counter() - t0, False
            try:
                raw = await asyncio.wait_for(self.ws.recv(), left)
            except TimeoutError:
                return time.perf_counter() - t0, False
            fwd = ForwardMsg()
            fwd.ParseFromString(raw)
            kind = fwd.WhichOneof("type")
            if kind == "new_session":
                self.page_hash = fwd.new_session.page_script_hash or self.page_hash
            elif kind == "delta" and fwd.delta.WhichOneof("type") == "new_element":
                el = fwd.delta.new_element
                which = el.WhichOneof("type")
                if which == "chat_input":
                    self.chat_id = el.chat_input.id
                elif b".md:" in raw:
                    self.quotes += 1
                elif which == "exception":
                    ok = False
            elif kind == "script_finished":
                # 0: finished successfully; 1: with an error; 2: rerun requested; 3: fragment
                if fwd.script_finished in (1,):
                    ok = False
                if fwd.script_finished != 2:
                    return time.perf_counter() - t0, ok


async def _one(port: int, questions: int, offset: int, timeout: float, result: LoadResult, stop: float) -> None:
    try:
        async with Session(port) as s:
            _, ok = await s.run(None, timeout)  # the page opens: index loaded, welcome drawn
            if not ok or s.chat_id is None:
                result.errors += 1
                return
            for n in range(questions):
                if time.perf_counter() > stop:
                    return
                seconds, ok = await s.run(QUESTIONS[(offset + n) % len(QUESTIONS)], timeout)
                result.latencies.append(seconds)
                result.errors += not ok
    except Exception:  # a refused or dropped connection counts as an error, the others go on
        result.errors += 1


async def _drive(port: int, sessions: int, questions: int, timeout: float, budget: float) -> LoadResult:
    result = LoadResult(sessions)
    t0 = time.perf_counter()
    stop = t0 + budget
    await asyncio.gather(*(_one(port, questions, i, timeout, result, stop) for i in range(sessions)))
    result.seconds = time.perf_counter() - t0
    return result


def load(sessions_list: list[int], questions: int = 5, timeout: float = 60.0, budget: float = 300.0) -> list[dict]:
    """Start one server, warm it (index and model loaded by a first session), then drive each N in turn."""
    if any(not 1 <= n <= MAX_SESSIONS for n in sessions_list):
        raise ValueError(f"--sessions : de 1 à {MAX_SESSIONS} sessions")
    port = _free_port()
    proc = start_server(port)
    try:
        asyncio.run(_drive(port, 1, 1, 300.0, 300.0))  # first load: model and index, not what is measured
        return [asyncio.run(_drive(port, n, questions, timeout, budget)).summary() for n in sessions_list]
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def load_table(rows: list[dict]) -> str:
    out = ["sessions  questions   p50 (s)   p95 (s)   max (s)  erreurs   durée (s)"]
    for r in rows:
        out.append(
            f"{r['sessions']:>8}  {r['questions']:>9}  {r['p50_s']:>8.2f}  {r['p95_s']:>8.2f}  {r['max_s']:>8.2f}"
            f"  {r['errors']:>7}  {r['seconds']:>10.1f}"
        )
    return "\n".join(out)
