"""Throughput with 1 and 3 replicas behind nginx, and the memory of each worker.

    .venv/bin/python bench/replicas.py [--seconds 10] [--out bench/replicas-results.json]

Each layout: a throwaway PostgreSQL database (CDS_TEST_PG_ADMIN) migrated once by
`cds-service migrate`, the replicas (`cds-service serve --workers W`, `migrate_on_start =
false`) on loopback ports, nginx in front (tests/deploy/cluster.py, the same
configuration the replica test uses). wrk (bench/request.lua, 8 connections, 2 threads)
drives S1 (typical order-sign, reports never read before) and S3 (S1 repeated) through
nginx. No JWT auth here (wrk cannot sign a token per request), so Redis is not on the
path. After each scenario: RSS and PSS of every worker (/proc/<pid>/smaps_rollup) and its
peak RSS (VmHWM). Not a test: nothing is asserted. Needs wrk and nginx (Debian).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import uuid
from datetime import date
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

import make_data  # noqa: E402
from bench.bench import check, children, git_commit, peak_rss_mb, reset_peak_rss, wrk  # noqa: E402
from tests.deploy.cluster import migrate_once, nginx, start_all  # noqa: E402
from tests.reliability.live import LiveService, free_port  # noqa: E402

PG_ADMIN = os.environ.get("CDS_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/test")
SIGN = "/cds-services/toh-core-decompression-sign"
LAYOUTS = (("1 replica x 1 worker", 1, 1), ("3 replicas x 1 worker", 3, 1),
           ("1 replica x 2 workers", 1, 2))


def memory_mb(pid: int) -> dict[str, float]:
    """Rss and Pss (shared pages split between the processes sharing them) of one process."""
    out = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("Rss", "Pss"):
            out[name.lower() + "_mb"] = round(int(rest.split()[0]) / 1024, 1)
    return out


def admin(sql: str) -> None:
    with psycopg.connect(PG_ADMIN, autocommit=True) as connection:
        connection.execute(sql)


def run_layout(work: Path, name: str, replicas: int, workers: int, bodies: dict[str, Path],
               seconds: float) -> dict[str, Any]:
    database = f"cds_bench_{uuid.uuid4().hex[:10]}"
    admin(f'CREATE DATABASE "{database}"')
    host = PG_ADMIN.split("://", 1)[1].rsplit("/", 1)[0]
    ports = [free_port() for _ in range(replicas)]
    public = "http://cds.bench.example"
    config = {"service": {"public_base_url": public},
              "store": {"url": f"postgresql+psycopg://{host}/{database}",
                        "migrate_on_start": False}}
    tag = f"{replicas}x{workers}"
    migrate_once(work / f"migrate-{tag}", json.loads(json.dumps(config)))
    services = [LiveService(work / f"{tag}-{i}", json.loads(json.dumps(config)), port=port,
                            workers=workers) for i, port in enumerate(ports)]
    result: dict[str, Any] = {"layout": name, "replicas": replicas,
                              "workers_per_replica": workers, "scenarios": {}}
    try:
        start_all(services)
        pids = [pid for s in services for pid in children(s.process.pid)]  # the workers
        with nginx(work / f"nginx-{tag}", ports) as balancer:
            url = balancer.url(SIGN)
            for scenario, nonce in (("S1", True), ("S3", False)):
                body = bodies[scenario]
                for i in range(2 * len(pids)):  # each worker sees the patient once or more
                    check(url, body, f"prime{i}-{uuid.uuid4().hex}" if nonce else None, True)
                wrk(url, body, connections=8, threads=2, seconds=1, nonce=nonce,
                    out=work / "wrk.json")
                reset_peak_rss(pids)
                figures = wrk(url, body, connections=8, threads=2, seconds=seconds,
                              nonce=nonce, out=work / "wrk.json")
                peaks = peak_rss_mb(pids)
                figures["workers"] = [{**memory_mb(pid), "peak_rss_mb": peaks.get(str(pid))}
                                      for pid in pids]
                figures["loadavg_1min_after"] = round(os.getloadavg()[0], 2)  # shared machine
                result["scenarios"][scenario] = figures
                print(f"{name:24} {scenario}: {figures['rps']:7.1f} req/s  p50 "
                      f"{figures['p50_ms']} ms  p99 {figures['p99_ms']} ms  errors "
                      f"{figures['errors']}  load {figures['loadavg_1min_after']}  workers "
                      f"{figures['workers']}", flush=True)
    finally:
        for service in services:
            service.stop()
        admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--out", type=Path, default=HERE / "replicas-results.json")
    args = parser.parse_args()
    for tool, package in (("wrk", "wrk"), ("nginx", "nginx-light")):
        if shutil.which(tool) is None and not Path(f"/usr/sbin/{tool}").exists():
            print(f"bench: {tool} not found: apt-get install {package}", file=sys.stderr)
            return 2
    with tempfile.TemporaryDirectory(prefix="cds-bench-replicas-") as tmp:
        work = Path(tmp)
        make_data.write(work / "data", date.today())
        bodies = {"S1": work / "data" / "s1-request.json",
                  "S3": work / "data" / "s1-request.json"}
        layouts = [run_layout(work, name, n, w, bodies, args.seconds)
                   for name, n, w in LAYOUTS]
    meta = {"commit": git_commit(), "cpus": os.cpu_count(), "python": platform.python_version(),
            "load": "wrk, 8 connections, 2 threads, through nginx (no upstream keep-alive); "
                    "the load generator and nginx share the cores with the replicas",
            "seconds": args.seconds}
    args.out.write_text(json.dumps({"meta": meta, "layouts": layouts}, indent=2) + "\n",
                        encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
