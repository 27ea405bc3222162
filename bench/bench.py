"""The benchmark: start the service the production way, drive it with wrk, report.

Run through `bench/run` (which installs wrk, the venv, py-spy and the test FHIR server).
Per round (3 by default): start the floor app and `cds-service serve --workers 2`, then for
each scenario (floor, S0, S1, S1cold, S2, S3, S3close, S4) a short warm-up, one connection
for latency, eight connections for throughput, responses closing their connection, and
the peak RSS of each worker; the fixtures through every hook and the PSS of master and
workers; stop both; then a fresh service for issue 16's PSS (S1, S2, fixtures). Medians
over rounds go to bench/results.json and a table on stdout. Then py-spy profiles S1 and S2
(bench/profiling.py) and S3 unless --no-profile.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import requests

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

import make_data  # noqa: E402
from latency_proxy import LatencyProxy, max_in_flight  # noqa: E402

from cds_service.devtools.fixture_data import render_template, service_for_hook  # noqa: E402
from cds_service.devtools.loader import load_bundles  # noqa: E402

VENV_BIN = Path(sys.executable).parent
SIGN = "toh-core-decompression-sign"
EXPECTED_TOPIC = "toh-suspected"
LUA = HERE / "request.lua"
PROBE_DELAY_S = 0.05  # added per FHIR request in the S4 parallelism probe
PROBE_CALLS = 5
SCENARIOS = ("floor", "S0", "S1", "S1cold", "S2", "S3", "S3close", "S4")
NONCE_SCENARIOS = ("S0", "S1", "S1cold")
CLOSE_SCENARIOS = ("S3close",)  # a new TCP connection per request ("Connection: close")
NO_CARDS = ("S0",)
DESCRIPTIONS = {
    "floor": "bare Flask + orjson, fixed card, S1 body",
    "S0": "S1's prefetch, the order not a trigger: no cards",
    "S1": "typical, ~200 resources, 3 reports never seen before",
    "S1cold": "S1 with every resource new (informational, no target)",
    "S2": "heavy, ~5,000 Observations, 40 reports",
    "S3": "S1 repeated with a new hookInstance",
    "S3close": "S3, every request on a new connection (informational)",
    "S4": "no prefetch: the service queries the test FHIR server",
}

# Targets from issue 16 (medians of 3 runs; S4's and RSS from issue 6).
S0_OVER_FLOOR_MS = 1.0
S1_OVER_FLOOR_MS = 8.0
S3_OVER_FLOOR_MS = 1.0
S2_P50_MS = 60.0
S3_RPS_RATIO = 0.40
S1_RPS_RATIO = 0.25
S4_OWN_MS = 20.0
RSS_MB = 300.0
PSS_MB = 250.0
READY_S = 2.5


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ---------------------------------------------------------------- processes


class Server:
    """A gunicorn master we started (in its own session); stopped by its PID only."""

    def __init__(self, name: str, argv: list[str], workdir: Path, env: dict[str, str]) -> None:
        self.name = name
        self.log_path = workdir / f"{name}.log"
        self.log_file = open(self.log_path, "ab")
        self.started = time.monotonic()
        self.process = subprocess.Popen(argv, cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                                        stdout=self.log_file, stderr=self.log_file,
                                        start_new_session=True)

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait_ready(self, url: str, workers: int, timeout: float = 60.0) -> float:
        """Seconds from launch to the first 200 from `url` (a worker has finished
        loading: app built, NLP warmed); then wait for every worker to exist."""
        deadline = self.started + timeout
        ready = None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited {self.process.returncode}:\n"
                                   + self.log_path.read_text(errors="replace")[-3000:])
            try:
                if requests.get(url, timeout=2).status_code == 200:
                    ready = time.monotonic() - self.started
                    break
            except requests.RequestException:
                pass
            time.sleep(0.02)
        if ready is None:
            raise RuntimeError(f"{self.name} not ready after {timeout}s")
        while len(self.workers()) < workers and time.monotonic() < deadline:
            time.sleep(0.05)
        return ready

    def workers(self) -> list[int]:
        return children(self.pid)

    def log_offset(self) -> int:
        self.log_file.flush()
        return self.log_path.stat().st_size

    def log_lines(self, start: int, end: int) -> list[dict[str, Any]]:
        with open(self.log_path, "rb") as f:
            f.seek(start)
            chunk = f.read(end - start)
        out = []
        for line in chunk.splitlines():
            if line.startswith(b"{"):
                try:
                    out.append(json.loads(line))
                except ValueError:
                    pass
        return out

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # gunicorn: graceful shutdown
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self.log_file.close()


def children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return sorted(int(p) for p in text.split())


def reset_peak_rss(pids: list[int]) -> None:
    """Reset VmHWM to the current RSS (Linux >= 4.0, `5` in clear_refs; needs root)."""
    for pid in pids:
        try:
            Path(f"/proc/{pid}/clear_refs").write_text("5")
        except OSError:
            pass


def pss_mb(pid: int) -> float | None:
    """Proportional set size: pages shared with the master (copy-on-write after the
    fork) count a third each to master and 2 workers, so the sum is what they use."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return None


def peak_rss_mb(pids: list[int]) -> dict[str, float]:
    out = {}
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    out[str(pid)] = round(int(line.split()[1]) / 1024, 1)
        except OSError:
            pass
    return out


@contextmanager
def fhir_server(workdir: Path) -> Iterator[Any]:
    """The Node test FHIR server (tests/integration/conftest.py), started and stopped there."""
    from tests.integration.conftest import start_fhir_server

    with start_fhir_server(workdir / "fhir-server") as server:
        yield server


# ---------------------------------------------------------------- load


def wrk(url: str, body: Path, *, connections: int, threads: int, seconds: float,
        nonce: bool, out: Path, close: bool = False) -> dict[str, Any]:
    env = {**os.environ, "BENCH_BODY": str(body), "BENCH_NONCE": "1" if nonce else "0",
           "BENCH_NONCE_B64": make_data.NONCE_B64, "BENCH_CLOSE": "1" if close else "0",
           "BENCH_OUT": str(out)}
    argv = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "20s",
            "-s", str(LUA), url]
    result = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=seconds + 60)
    if result.returncode != 0 or not out.exists():
        raise RuntimeError(f"wrk failed ({result.returncode}): {result.stderr}{result.stdout}")
    data = json.loads(out.read_text())
    out.unlink()
    seconds_run = data["duration_us"] / 1e6
    errors = data["non2xx"] + sum(data["socket_errors"].values())
    lat = data["latency_us"]
    done = data["requests"] > 0  # no answer within the run: latency unknown, not zero
    return {
        "requests": data["requests"],
        "closed_by_server": data["closed"],  # responses with "Connection: close"
        "rps": round(data["requests"] / seconds_run, 1) if seconds_run else 0.0,
        "errors": errors,
        "non2xx": data["non2xx"],
        "socket_errors": data["socket_errors"],
        **{f"{k}_ms": lat[k] / 1000 if done else None for k in ("p50", "p90", "p95", "p99")},
        "mean_ms": round(lat["mean"] / 1000, 3) if done else None,
        "max_ms": lat["max"] / 1000 if done else None,
    }


def fill(body: str, nonce: str | None = None) -> bytes:
    text = body.replace(make_data.HOOK_PLACEHOLDER, str(uuid.uuid4()))
    if nonce is not None:
        text = make_data.put_nonce(text, nonce)
    return text.encode()


def topics(response: requests.Response) -> list[str]:
    return [((c.get("source") or {}).get("topic") or {}).get("code", "?")
            for c in response.json().get("cards", [])]


def check(url: str, body_path: Path, nonce: str | None, expect_topic: bool,
          no_cards: bool = False) -> float:
    """One request from Python: must answer 200 (and the expected card, or none). ms."""
    body = fill(body_path.read_text(), nonce)
    started = time.perf_counter()
    response = requests.post(url, data=body, headers={"Content-Type": "application/json"},
                             timeout=60)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise RuntimeError(f"{url}: HTTP {response.status_code}: {response.text[:500]}")
    if expect_topic and topics(response) != [EXPECTED_TOPIC]:
        raise RuntimeError(f"{url}: expected one {EXPECTED_TOPIC} card, got {topics(response)}")
    if no_cards and topics(response):
        raise RuntimeError(f"{url}: expected no card, got {topics(response)}")
    return elapsed


def prime(url: str, body_path: Path, nonce: bool, concurrency: int = 8) -> None:
    """Eight concurrent requests on fresh connections, three times: gthread workers each
    accept as connections come, so every worker very likely answers some (S2: both have
    read its 40 reports before the clock starts)."""
    from concurrent.futures import ThreadPoolExecutor

    def one(i: int) -> float:
        return check(url, body_path, f"prime{i}-{uuid.uuid4().hex}" if nonce else None, False)

    with ThreadPoolExecutor(concurrency) as pool:
        for _ in range(3):
            list(pool.map(one, range(8)))


def hook_log_times(lines: list[dict[str, Any]]) -> dict[str, Any]:
    """Service-side timings from the hook_invoked log events of one measurement."""
    calls = [x for x in lines if x.get("event") == "hook_invoked"]
    if not calls:
        return {}
    total = [float(x["duration_ms"]) for x in calls]
    fhir = [float(x.get("fhir_ms", 0.0)) for x in calls]
    own = [t - f for t, f in zip(total, fhir)]
    return {"calls": len(calls), "duration_p50_ms": pct(total, 50), "fhir_p50_ms": pct(fhir, 50),
            "own_p50_ms": pct(own, 50), "own_p95_ms": pct(own, 95), "fhir_p95_ms": pct(fhir, 95)}


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return round(ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo), 3)


def fhir_query_times(base: str, token: str, request: dict[str, Any],
                     repeats: int = 15) -> dict[str, Any]:
    """Each prefetch query of S4 sent straight to the FHIR server, one after another:
    median time per query, their sum (serial) and their max (the floor for parallel)."""
    service = service_for_hook(make_data.HOOK)
    session = requests.Session()
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/fhir+json"}
    per_query = {}
    for key, template in service.prefetch.items():
        query = render_template(template, request["context"])
        if query is None:
            continue
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            response = session.get(f"{base}/{query}", headers=headers, timeout=30)
            response.json()
            times.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                raise RuntimeError(f"FHIR {query}: HTTP {response.status_code}")
        per_query[key] = round(statistics.median(times), 2)
    session.close()
    return {"per_query_ms": per_query, "sum_ms": round(sum(per_query.values()), 2),
            "max_ms": round(max(per_query.values()), 2)}


# ---------------------------------------------------------------- one round


def write_config(path: Path, port: int, store: Path, fhir_bases: list[str]) -> None:
    path.write_text(
        "[service]\n"
        f'public_base_url = "http://127.0.0.1:{port}"\n'
        "[store]\n"
        f'url = "sqlite:///{store}"\n'
        "[fhir]\n"
        f"allowed_servers = {json.dumps(fhir_bases)}\n"
        "[log]\n"
        'level = "INFO"\n', encoding="utf-8")


def start_service(work: Path, fhir_bases: list[str], tag: str) -> tuple[Server, str, float]:
    port = free_port()
    config = work / f"service-{tag}.toml"
    write_config(config, port, work / f"store-{tag}.sqlite3", fhir_bases)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CDS_")}
    argv = [str(VENV_BIN / "cds-service"), "serve", "--host", "127.0.0.1", "--port", str(port),
            "--workers", "2", "--config", str(config)]
    server = Server(f"service-{tag}", argv, work, env)
    ready = server.wait_ready(f"http://127.0.0.1:{port}/readyz", workers=2)
    return server, f"http://127.0.0.1:{port}", ready


def start_floor(work: Path, tag: str) -> tuple[Server, str, float]:
    port = free_port()
    argv = [sys.executable, str(HERE / "floor_server.py"), "127.0.0.1", str(port), "2"]
    server = Server(f"floor-{tag}", argv, work, dict(os.environ))
    ready = server.wait_ready(f"http://127.0.0.1:{port}/healthz", workers=2)
    return server, f"http://127.0.0.1:{port}", ready


def parallel_probe(service: Server, hook_url: str, body: Path,
                   proxy: LatencyProxy) -> dict[str, Any]:
    """S4 through the latency proxy, one call at a time: FHIR requests in flight together,
    and the service's FHIR wait against the serial lower bound (requests x delay)."""
    for attempt in range(5):  # the test FHIR server may still be working off S4's c=8 load
        try:
            check(hook_url, body, None, True)
            break
        except RuntimeError:
            if attempt == 4:
                raise
            time.sleep(3)
    proxy.take()
    calls = []
    for _ in range(PROBE_CALLS):
        start = service.log_offset()
        check(hook_url, body, None, True)
        time.sleep(0.05)
        records = proxy.take()
        logged = hook_log_times(service.log_lines(start, service.log_offset()))
        calls.append({"requests": len(records), "max_in_flight": max_in_flight(records),
                      "fhir_wait_ms": logged.get("fhir_p50_ms", 0.0),
                      "serial_floor_ms": round(len(records) * PROBE_DELAY_S * 1000, 1)})
    return {
        "delay_ms": PROBE_DELAY_S * 1000,
        "calls": calls,
        "max_in_flight": median([c["max_in_flight"] for c in calls]),
        "requests": median([c["requests"] for c in calls]),
        "fhir_wait_ms": median([c["fhir_wait_ms"] for c in calls]),
        "serial_floor_ms": median([c["serial_floor_ms"] for c in calls]),
    }


def run_fixtures(service_url: str) -> dict[str, int]:
    """Every manifest patient through every hook, twice (so both workers very likely
    answer each): the clinical fixtures the PSS figure is taken after. Status counts."""
    from concurrent.futures import ThreadPoolExecutor

    from cds_service.devtools.fixture_data import HOOKS, fixture_request, load_manifest

    calls = [(service_for_hook(hook).id, fixture_request(name, hook, date.today()))
             for name in load_manifest() for hook in HOOKS]

    def one(call: tuple[str, dict[str, Any]]) -> int:
        service_id, body = call
        body = {**body, "hookInstance": str(uuid.uuid4())}
        return requests.post(f"{service_url}/cds-services/{service_id}", json=body,
                             timeout=60).status_code

    with ThreadPoolExecutor(2) as pool:
        statuses = list(pool.map(one, calls * 2))
    return {str(code): statuses.count(code) for code in sorted(set(statuses))}


def run_round(number: int, work: Path, bodies: dict[str, Path], fhir_bases: list[str],
              seconds: float, warmup: float, proxy: LatencyProxy) -> dict[str, Any]:
    log(f"round {number}: starting floor and service")
    floor, floor_url, floor_ready = start_floor(work, f"r{number}")
    service, service_url, ready = start_service(work, fhir_bases, f"r{number}")
    result: dict[str, Any] = {"loadavg_before": os.getloadavg()[0],
                              "start_to_ready_s": round(ready, 3),
                              "floor_start_to_ready_s": round(floor_ready, 3),
                              "scenarios": {}}
    try:
        hook_url = f"{service_url}/cds-services/{SIGN}"
        # The first hook call after start: warm start means no model loading here.
        result["first_request_ms"] = round(check(hook_url, bodies["S1"], "first", True), 1)
        for name in SCENARIOS:
            server = floor if name == "floor" else service
            url = f"{floor_url}/cds-services/{SIGN}" if name == "floor" else hook_url
            nonce, close = name in NONCE_SCENARIOS, name in CLOSE_SCENARIOS
            body = bodies[name]
            check(url, body, "check" if nonce else None, name not in ("floor", *NO_CARDS),
                  no_cards=name in NO_CARDS)
            pids = server.workers()
            # S4: the test FHIR server answers one query at a time; 8 calls at once on a
            # busy machine ran past the FHIR budget (412) before the clock started.
            prime(url, body, nonce, concurrency=2 if name == "S4" else 8)
            wrk(url, body, connections=2, threads=2, seconds=warmup, nonce=nonce,
                out=work / "wrk.json", close=close)
            reset_peak_rss(pids)
            start = server.log_offset()
            one = wrk(url, body, connections=1, threads=1, seconds=seconds, nonce=nonce,
                      out=work / "wrk.json", close=close)
            time.sleep(0.2)
            middle = server.log_offset()
            eight = wrk(url, body, connections=8, threads=2, seconds=seconds, nonce=nonce,
                        out=work / "wrk.json", close=close)
            time.sleep(0.2)
            end = server.log_offset()
            entry = {"c1": one, "c8": eight, "peak_rss_mb": peak_rss_mb(pids),
                     "workers_replaced": sorted(set(pids) ^ set(server.workers()))}
            if name != "floor":
                entry["service_log_c1"] = hook_log_times(server.log_lines(start, middle))
                entry["service_log_c8"] = hook_log_times(server.log_lines(middle, end))
            result["scenarios"][name] = entry
            log(f"round {number} {name}: c1 p50 {num(one['p50_ms']):.2f} ms, "
                f"c8 {eight['rps']:.0f} req/s, errors {one['errors'] + eight['errors']}")
        result["s4_parallel_probe"] = parallel_probe(service, hook_url, bodies["S4-proxy"], proxy)
        result["fixtures"] = run_fixtures(service_url)
        time.sleep(0.2)
        result["pss_after_all_mb"] = pss_of(service)
    finally:
        service.stop()
        floor.stop()
    result["pss_mb"] = pss_probe(work, bodies, fhir_bases, f"r{number}-pss")
    log(f"round {number} PSS after S1, S2 and the fixtures: {result['pss_mb']}; after every "
        f"scenario: {result['pss_after_all_mb']}")
    return result


def pss_of(server: Server) -> dict[str, Any]:
    master, workers = pss_mb(server.pid), [pss_mb(pid) for pid in server.workers()]
    return {"master": master, "workers": workers,
            "total": round(sum(x for x in (master, *workers) if x), 1)}


def pss_probe(work: Path, bodies: dict[str, Path], fhir_bases: list[str],
              tag: str) -> dict[str, Any]:
    """A fresh service: 16 S1 calls and 6 S2 calls, two at a time, then every fixture
    through every hook twice; then the PSS of master and workers (issue 16's figure)."""
    from concurrent.futures import ThreadPoolExecutor

    service, url, ready = start_service(work, fhir_bases, tag)
    try:
        hook_url = f"{url}/cds-services/{SIGN}"
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(lambda i: check(hook_url, bodies["S1"], f"pss{i}-{uuid.uuid4().hex}",
                                          True), range(16)))
            list(pool.map(lambda i: check(hook_url, bodies["S2"], None, True), range(6)))
        fixtures = run_fixtures(url)
        time.sleep(0.2)
        return {**pss_of(service), "fixtures": fixtures, "start_to_ready_s": round(ready, 3)}
    finally:
        service.stop()


# ---------------------------------------------------------------- summary


def median(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return round(statistics.median(known), 3) if known else None


def num(value: float | None) -> float:
    """For comparisons and formatting: unknown is NaN (never meets a target)."""
    return float("nan") if value is None else value


def summarise(rounds: list[dict[str, Any]], fhir_times: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in SCENARIOS:
        runs = [r["scenarios"][name] for r in rounds]
        entry: dict[str, Any] = {
            "description": DESCRIPTIONS[name],
            "c1_p50_ms": median([r["c1"]["p50_ms"] for r in runs]),
            "c1_p95_ms": median([r["c1"]["p95_ms"] for r in runs]),
            "c1_p99_ms": median([r["c1"]["p99_ms"] for r in runs]),
            "c1_rps": median([r["c1"]["rps"] for r in runs]),
            "c8_rps": median([r["c8"]["rps"] for r in runs]),
            "c8_p50_ms": median([r["c8"]["p50_ms"] for r in runs]),
            "c8_p95_ms": median([r["c8"]["p95_ms"] for r in runs]),
            "c8_p99_ms": median([r["c8"]["p99_ms"] for r in runs]),
            "errors": sum(r["c1"]["errors"] + r["c8"]["errors"] for r in runs),
            "requests": sum(r["c1"]["requests"] + r["c8"]["requests"] for r in runs),
            "peak_rss_mb_per_worker": max(
                (max(r["peak_rss_mb"].values(), default=0.0) for r in runs), default=0.0),
            "closed_by_server": sum(r["c1"]["closed_by_server"] + r["c8"]["closed_by_server"]
                                    for r in runs),
        }
        if name != "floor":
            logs = [r.get("service_log_c1") or {} for r in runs]
            entry["service_duration_p50_ms"] = median(
                [x["duration_p50_ms"] for x in logs if x])
            if name == "S4":
                entry["fhir_wait_p50_ms"] = median([x["fhir_p50_ms"] for x in logs if x])
                entry["own_p50_ms"] = median([x["own_p50_ms"] for x in logs if x])
                entry["own_p95_ms"] = median([x["own_p95_ms"] for x in logs if x])
                entry["fhir_queries_direct"] = fhir_times
                probes = [r["s4_parallel_probe"] for r in rounds]
                entry["parallel_probe"] = {
                    "delay_ms": probes[0]["delay_ms"],
                    "max_in_flight": median([p["max_in_flight"] for p in probes]),
                    "requests": median([p["requests"] for p in probes]),
                    "fhir_wait_ms": median([p["fhir_wait_ms"] for p in probes]),
                    "serial_floor_ms": median([p["serial_floor_ms"] for p in probes]),
                }
        out[name] = entry
    return out


def ready_times(rounds: list[dict[str, Any]]) -> list[float]:
    """Launch to /readyz 200 of every service start (each round starts two)."""
    out = [r["start_to_ready_s"] for r in rounds]
    return out + [r["pss_mb"]["start_to_ready_s"] for r in rounds if r.get("pss_mb")]


def pss_summary(rounds: list[dict[str, Any]], key: str = "pss_mb") -> dict[str, Any]:
    """PSS of master and workers (medians over rounds): `pss_mb` after S1, S2 and the
    fixtures on a fresh service, `pss_after_all_mb` after every scenario and the fixtures."""
    pss = [r[key] for r in rounds if r.get(key)]
    return {
        "master": median([p["master"] for p in pss]),
        "worker_max": median([max((w for w in p["workers"] if w), default=None) for p in pss]),
        "total": median([p["total"] for p in pss]),
        "runs": pss,
    }


def targets(s: dict[str, Any], rounds: list[dict[str, Any]]) -> list[dict[str, Any]]:
    floor, s0, s1, s2, s3, s4 = (s[n] for n in ("floor", "S0", "S1", "S2", "S3", "S4"))
    ready = num(median(ready_times(rounds)))
    rss = max(s[n]["peak_rss_mb_per_worker"] for n in SCENARIOS if n != "floor")
    pss = num(pss_summary(rounds)["total"])
    probe = s4["parallel_probe"]
    f50, s0_50, s1_50, s2_50, s3_50 = (num(x["c1_p50_ms"]) for x in (floor, s0, s1, s2, s3))
    f_rps = num(floor["c8_rps"]) or float("nan")
    own, wait = num(s4.get("own_p50_ms")), num(s4.get("fhir_wait_p50_ms"))
    added = num(probe["fhir_wait_ms"]) - wait
    serial = num(probe["serial_floor_ms"])
    kept = [n for n in SCENARIOS if n not in CLOSE_SCENARIOS]
    closed = sum(s[n]["closed_by_server"] for n in kept)
    answered = sum(s[n]["requests"] for n in kept)
    rows = [
        ("S0 p50 minus floor p50 (not a trigger)", f"<= {S0_OVER_FLOOR_MS:g} ms",
         f"{s0_50 - f50:.2f} ms ({s0_50:.2f} - {f50:.2f})", s0_50 - f50 <= S0_OVER_FLOOR_MS),
        ("S1 p50 minus floor p50 (reports never seen)", f"<= {S1_OVER_FLOOR_MS:g} ms",
         f"{s1_50 - f50:.2f} ms ({s1_50:.2f} - {f50:.2f})", s1_50 - f50 <= S1_OVER_FLOOR_MS),
        ("S1 throughput c=8 / floor", f">= {S1_RPS_RATIO:.0%}",
         f"{num(s1['c8_rps']) / f_rps:.1%} ({num(s1['c8_rps']):.0f}/{f_rps:.0f})",
         num(s1["c8_rps"]) >= S1_RPS_RATIO * f_rps),
        ("S2 p50, one connection", f"<= {S2_P50_MS:g} ms", f"{s2_50:.2f} ms",
         s2_50 <= S2_P50_MS),
        ("S3 p50 minus floor p50", f"<= {S3_OVER_FLOOR_MS:g} ms",
         f"{s3_50 - f50:.2f} ms ({s3_50:.2f} - {f50:.2f})", s3_50 - f50 <= S3_OVER_FLOOR_MS),
        ("S3 throughput c=8 / floor", f">= {S3_RPS_RATIO:.0%}",
         f"{num(s3['c8_rps']) / f_rps:.1%} ({num(s3['c8_rps']):.0f}/{f_rps:.0f})",
         num(s3["c8_rps"]) >= S3_RPS_RATIO * f_rps),
        ("S4 service's own time beyond FHIR wait, p50", f"< {S4_OWN_MS:g} ms",
         f"{own:.2f} ms (FHIR wait {wait:.1f} ms)", own < S4_OWN_MS),
        (f"S4 FHIR queries in parallel (+{probe['delay_ms']:g} ms/request)",
         "added wait < half serial",
         f"{num(probe['max_in_flight']):g} of {num(probe['requests']):g} in flight; "
         f"+{added:.0f} ms vs {serial:.0f} ms serial",
         num(probe["max_in_flight"]) > 1 and added < 0.5 * serial),
        ("PSS master + 2 workers after S1, S2, fixtures", f"<= {PSS_MB:g} MB",
         f"{pss:.0f} MB", pss <= PSS_MB),
        ("Peak RSS per worker (max, all scenarios)", f"< {RSS_MB:g} MB", f"{rss:.0f} MB",
         rss < RSS_MB),
        ("Start to ready (median of all starts)", f"<= {READY_S:g} s", f"{ready:.2f} s",
         ready <= READY_S),
        ("Keep-alive: responses closing the connection", "0",
         f"{closed} of {answered}", closed == 0),
        ("Errors (non-2xx and socket), service scenarios", "0",
         str(sum(s[n]["errors"] for n in SCENARIOS if n != "floor")),
         all(s[n]["errors"] == 0 for n in SCENARIOS)),
    ]
    return [{"target": a, "goal": b, "measured": c, "met": bool(d)} for a, b, c, d in rows]


def table(s: dict[str, Any], goals: list[dict[str, Any]], meta: dict[str, Any]) -> str:
    lines = [
        f"cds-service benchmark  {meta['when']}  commit {meta['commit']}  "
        f"{meta['cpus']} CPUs  {meta['rounds']} rounds x {meta['seconds']:g}s, medians",
        "1-min load average at the start of each round (other work on the machine): "
        + ", ".join(f"{x:.1f}" for x in meta["loadavg_1min_at_rounds"]),
        "",
        f"{'scenario':<8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'c=8 req/s':>10} "
        f"{'errors':>6} {'RSS MB':>7}  notes",
    ]
    for name in SCENARIOS:
        x = s[name]
        note = ""
        if name == "S4":
            note = (f"own {num(x.get('own_p50_ms')):.1f} ms + FHIR wait "
                    f"{num(x.get('fhir_wait_p50_ms')):.1f} ms")
        elif name != "floor":
            note = f"in-service {num(x.get('service_duration_p50_ms')):.1f} ms"
        lines.append(f"{name:<8} {num(x['c1_p50_ms']):>8.2f} {num(x['c1_p95_ms']):>8.2f} "
                     f"{num(x['c1_p99_ms']):>8.2f} {num(x['c8_rps']):>10.1f} {x['errors']:>6} "
                     f"{x['peak_rss_mb_per_worker']:>7.0f}  {note}")
    for label, key in (("S1, S2 and the fixtures (fresh service)", "pss_mb"),
                       ("every scenario and the fixtures", "pss_after_all_mb")):
        pss = meta.get(key) or {}
        lines.append(f"PSS after {label}: master {pss.get('master')} MB, largest worker "
                     f"{pss.get('worker_max')} MB, total {pss.get('total')} MB (medians)")
    lines += ["", "(p50/p95/p99: one connection; RSS: peak per worker; errors: all runs; "
              "in-service: the service's own hook_invoked duration_ms)", ""]
    width = max(len(g["target"]) for g in goals)
    for g in goals:
        lines.append(f"{g['target']:<{width}}  {g['goal']:<24} {g['measured']:<46} "
                     f"{'MET' if g['met'] else 'NOT MET'}")
    return "\n".join(lines)


def git_commit() -> str:
    try:
        sha = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                             capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "cds_service"], cwd=ROOT,
                               capture_output=True, text=True).stdout.strip()
        return sha + ("+dirty" if dirty else "")
    except OSError:
        return "unknown"


# ---------------------------------------------------------------- main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=int(os.environ.get("BENCH_ROUNDS", 3)))
    parser.add_argument("--seconds", type=float,
                        default=float(os.environ.get("BENCH_SECONDS", 5)))
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--no-profile", action="store_true")
    parser.add_argument("--profile-seconds", type=float, default=8.0)
    parser.add_argument("--out", type=Path, default=HERE / "results.json")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("bench: wrk not found (bench/run installs it)", file=sys.stderr)
        return 2

    began = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="cds-bench-"))
    today = date.today()
    try:
        log(f"generating data in {work}")
        summary = make_data.write(work / "data", today)
        bodies = {"floor": work / "data" / "s1-request.json",
                  "S0": work / "data" / "s0-request.json",
                  "S3close": work / "data" / "s1-request.json",
                  "S1": work / "data" / "s1-request.json",
                  "S1cold": work / "data" / "s1-cold-request.json",
                  "S2": work / "data" / "s2-request.json",
                  "S3": work / "data" / "s1-request.json"}
        with fhir_server(work) as fhir:
            log(f"test FHIR server at {fhir.base_url}; loading the S1 patient")
            s1_bundle = json.loads((work / "data" / "s1-bundle.json").read_text())
            load_bundles(fhir.base_url, [s1_bundle], fhir.token)
            s4 = make_data.s4_request(s1_bundle, today, fhir.base_url, fhir.token)
            bodies["S4"] = work / "data" / "s4-request.json"
            bodies["S4"].write_text(json.dumps(s4), encoding="utf-8")
            fhir_times = fhir_query_times(fhir.base_url, fhir.token, s4)
            log(f"FHIR queries one by one: sum {fhir_times['sum_ms']} ms, "
                f"max {fhir_times['max_ms']} ms")
            with LatencyProxy(fhir.base_url, PROBE_DELAY_S) as proxy:
                probe = make_data.s4_request(s1_bundle, today, proxy.base_url, fhir.token)
                bodies["S4-proxy"] = work / "data" / "s4-proxy-request.json"
                bodies["S4-proxy"].write_text(json.dumps(probe), encoding="utf-8")
                bases = [fhir.base_url, proxy.base_url]
                rounds = [run_round(i + 1, work, bodies, bases, args.seconds, args.warmup,
                                    proxy) for i in range(args.rounds)]
            profiles: dict[str, Any] = {}
            if not args.no_profile:
                import profiling

                service, url, _ = start_service(work, [fhir.base_url], "profile")
                try:
                    profiles = profiling.profile_scenarios(
                        service.pid, f"{url}/cds-services/{SIGN}", bodies, work,
                        args.profile_seconds, wrk_runner=wrk)
                finally:
                    service.stop()
        scenarios = summarise(rounds, fhir_times)
        goals = targets(scenarios, rounds)
        meta = {
            "when": datetime.now(UTC).isoformat(timespec="seconds"),
            "commit": git_commit(),
            "cpus": os.cpu_count(),
            "machine": platform.platform(),
            "python": platform.python_version(),
            "rounds": args.rounds,
            "seconds": args.seconds,
            "gunicorn": "2 gthread workers (cds-service serve --workers 2, 32 threads; NLP and FHIR "
                        "model classes preloaded in the master); floor the same options",
            "load": "wrk 4.1 + bench/request.lua; c=1: 1 thread; c=8: 2 threads",
            "loadavg_1min_at_rounds": [r["loadavg_before"] for r in rounds],
            "pss_mb": pss_summary(rounds),
            "pss_after_all_mb": pss_summary(rounds, "pss_after_all_mb"),
            "s1_fresh_reports": "every S1 request has a unique token at the end of each of its "
                                "3 reports' texts (in the MRI report's attached text, which "
                                "repeats its conclusion), so no report text has been read "
                                "before",
        }
        results = {
            "meta": meta,
            "data": summary,
            "start_to_ready_s": {"median": median(ready_times(rounds)),
                                 "runs": ready_times(rounds)},
            "first_request_ms": [r["first_request_ms"] for r in rounds],
            "scenarios": scenarios,
            "targets": goals,
            "rounds": rounds,
            "profile": profiles,
            "wall_seconds": round(time.monotonic() - began, 1),
        }
        args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
        print(table(scenarios, goals, meta))
        log(f"wrote {args.out} in {results['wall_seconds']} s")
        return 0
    finally:
        if args.keep:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
