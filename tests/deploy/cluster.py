"""Several replicas on one machine: `cds-service serve` processes on loopback ports behind
nginx (Debian's package) as the load balancer, as tests/deploy/test_replicas.py and
bench/replicas.py run them.

nginx runs as a child process (``daemon off``) with its own configuration, logs, pid file
and temporary folders in a directory of ours, on a free loopback port. It passes a request
to the next replica when it cannot connect to one (``proxy_next_upstream error timeout``);
a POST already sent to a replica that then dies is not sent again (nginx's default for
non-idempotent methods), so a token is never presented twice by the balancer itself.
No keep-alive to the replicas: a cached connection to a killed replica would fail a POST
that nginx then may not resend. Each answer says which replica(s) nginx tried in ``X-Upstream``."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from tests.reliability.live import free_port

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
NGINX_HINT = "apt-get install nginx-light (.ci/run installs it)"
START_TIMEOUT_S = 15.0
STOP_TIMEOUT_S = 10.0


def nginx_problem() -> str | None:
    """None when Debian's nginx binary is there, else one line saying how to get it."""
    if os.path.exists(NGINX) and os.access(NGINX, os.X_OK):
        return None
    return f"nginx not found (needed by tests/deploy/): {NGINX_HINT}"


def nginx_config(workdir: Path, port: int, upstreams: Sequence[int]) -> str:
    servers = "\n".join(f"        server 127.0.0.1:{p} max_fails=1 fail_timeout=1s;"
                        for p in upstreams)
    temp = "\n".join(f"    {kind}_temp_path {workdir / kind};"
                     for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    # As root, nginx's workers would switch to `nobody`, who cannot use our 0700 folders.
    user = "user root root;" if os.geteuid() == 0 else ""
    return f"""
daemon off;
master_process on;
worker_processes 1;
{user}
pid {workdir / 'nginx.pid'};
error_log {workdir / 'error.log'} warn;
events {{ worker_connections 1024; }}
http {{
    log_format upstreams '$status $request_method $uri upstream=$upstream_addr '
                         'upstream_status=$upstream_status';
    access_log {workdir / 'access.log'} upstreams;
{temp}
    client_max_body_size 8m;
    upstream cds {{
{servers}
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://cds;
            proxy_next_upstream error timeout;
            proxy_next_upstream_tries {len(upstreams)};
            proxy_connect_timeout 2s;
            proxy_read_timeout 30s;
            add_header X-Upstream $upstream_addr always;
        }}
    }}
}}
"""


class Nginx:
    """nginx in the foreground as our child, balancing over loopback ports."""

    def __init__(self, workdir: Path, upstreams: Sequence[int]) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.upstreams = list(upstreams)
        self.process: subprocess.Popen[bytes] | None = None

    def url(self, path: str) -> str:
        return self.base_url + path

    def start(self) -> Nginx:
        self.workdir.mkdir(parents=True, exist_ok=True)
        config = self.workdir / "nginx.conf"
        config.write_text(nginx_config(self.workdir, self.port, self.upstreams),
                          encoding="utf-8")
        with open(self.workdir / "stderr.log", "ab") as err:
            self.process = subprocess.Popen(
                [NGINX, "-p", str(self.workdir), "-c", str(config),
                 "-e", str(self.workdir / "error.log")],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
                start_new_session=True)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"nginx exited {self.process.returncode}: {self.log()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"nginx did not listen within {START_TIMEOUT_S}s: {self.log()}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)  # fast shutdown of master and workers
        try:
            self.process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=STOP_TIMEOUT_S)

    def log(self) -> str:
        text = ""
        for name in ("stderr.log", "error.log"):
            path = self.workdir / name
            if path.exists():
                text += path.read_text(encoding="utf-8", errors="replace")[-2000:]
        return text

    def access_lines(self) -> list[str]:
        path = self.workdir / "access.log"
        return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


@contextmanager
def nginx(workdir: Path, upstreams: Sequence[int]) -> Iterator[Nginx]:
    balancer = Nginx(workdir, upstreams)
    try:
        yield balancer.start()
    finally:
        balancer.stop()


def migrate_once(workdir: Path, config: dict) -> str:
    """`cds-service migrate` with this config, as the deploy step that runs before the
    replicas start (docs/deploy.md); returns its output, raises when it fails."""
    from tests.reliability.live import CDS_SERVICE, to_toml

    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / "migrate.toml"
    path.write_text(to_toml(config), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CDS_")}
    result = subprocess.run([str(CDS_SERVICE), "--config", str(path), "migrate"], cwd=workdir,
                            env=env, capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise RuntimeError(f"cds-service migrate failed ({result.returncode}): {result.stderr}")
    return result.stdout


def start_all(services: Sequence) -> None:  # Sequence[LiveService]
    """Start the replicas side by side (each loads its NLP pipeline: seconds apiece)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(len(services)) as pool:
        for future in [pool.submit(service.start) for service in services]:
            future.result()
