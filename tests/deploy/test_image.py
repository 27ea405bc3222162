"""The container image without a Docker engine (issue 17 §3): none runs on these machines
and no base image can be pulled, so the Dockerfile is checked by what it relies on.

1. The build context, computed from .dockerignore by docker-py (Docker's own matching
   rules), holds every path the Dockerfile copies and nothing heavy or local.
2. The package installed non-editable from that context (as `pip install .` in the
   Dockerfile), run the way the Deployment runs it: in a mount namespace whose whole root
   filesystem is read-only, with a tmpfs on TMPDIR (the emptyDir at /tmp), every
   capability dropped and no new privileges; config and JWKS files as mounted, the
   working directory and HOME the installed tree (/app). It migrates once, serves over
   PostgreSQL and Redis, and answers an authenticated hook call and feedback. (The uid is
   the test's, not 10001: this venv's interpreter may live where 10001 cannot enter.)"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
import yaml
from docker.utils.build import exclude_paths

from cds_service.devtools.fixture_data import fixture_request
from tests.deploy.conftest import REDIS_URL
from tests.reliability.live import free_port, to_toml
from tests.reliability.tokens import Keys, signed

ROOT = Path(__file__).resolve().parents[2]
SIGN = "/cds-services/toh-core-decompression-sign"
UID = 10001  # the Dockerfile's USER, the Deployment's runAsUser
CONTEXT_MAX_BYTES = 5 * 1024 * 1024


def build_context() -> list[str]:
    lines = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    patterns = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    return sorted(exclude_paths(str(ROOT), patterns, dockerfile="Dockerfile"))


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def test_build_context_holds_what_the_dockerfile_copies_and_no_more() -> None:
    context = build_context()
    for word, rest in dockerfile_instructions():
        if word == "COPY":
            for source in rest.split()[:-1]:
                assert source in context or any(p.startswith(source + "/") for p in context), \
                    f"COPY {source}: excluded by .dockerignore"
    tops = {path.split("/")[0] for path in context}
    assert tops == {".dockerignore", "Dockerfile", "README.md", "cds_service", "pyproject.toml"}
    assert not [p for p in context if "__pycache__" in p or p.endswith((".pyc", ".sqlite3"))]
    size = sum((ROOT / p).stat().st_size for p in context if (ROOT / p).is_file())
    assert size < CONTEXT_MAX_BYTES, f"build context {size} bytes"


def test_dockerfile_matches_the_deployment() -> None:
    instructions = dockerfile_instructions()
    assert ("USER", f"{UID}:{UID}") in instructions
    env = " ".join(rest for word, rest in instructions if word == "ENV")
    assert ("WORKDIR", "/app") in instructions
    assert "HOOKS_DIR" not in env  # the installed package finds its own hooks
    deployment = yaml.safe_load((ROOT / "deploy/kubernetes/deployment.yaml").read_text())
    pod = deployment["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsUser"] == UID
    container = pod["containers"][0]
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    assert f"CDS_CONFIG={mounts['config']}" in env  # the image expects the config there


@pytest.fixture
def image_root() -> Iterator[Path]:
    """A folder others can enter (pytest's tmp_path is 0700): the 'image' goes here."""
    path = Path(tempfile.mkdtemp(prefix="cds-image-"))
    path.chmod(0o755)
    yield path
    for inner in [path, *path.rglob("*")]:
        if inner.is_dir():
            inner.chmod(0o755)
    shutil.rmtree(path, ignore_errors=True)


def install_from_context(root: Path) -> Path:
    """Copy the build context to root/app and `pip install` it (non-editable, no deps:
    they are this venv's) into root/site, as the Dockerfile does."""
    app = root / "app"
    for relative in build_context():
        source = ROOT / relative
        if source.is_file():
            (app / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, app / relative)
    site = root / "site"
    result = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
         "--disable-pip-version-check", "--target", str(site), str(app)],
        capture_output=True, text=True, timeout=300, cwd=root)
    assert result.returncode == 0, result.stderr[-2000:]
    shutil.rmtree(app / "build", ignore_errors=True)
    for egg in app.glob("*.egg-info"):
        shutil.rmtree(egg)
    for path in [app, *app.rglob("*"), site, *site.rglob("*")]:  # no write bits either
        path.chmod(0o555 if path.is_dir() or os.access(path, os.X_OK) else 0o444)
    return site


# In a mount namespace of its own: the whole root filesystem read-only, a 16 MB tmpfs on
# TMPDIR (the emptyDir), then every capability dropped and no new privileges
# (allowPrivilegeEscalation: false, capabilities drop ALL) before the command starts.
READ_ONLY = ('mount -o remount,bind,ro / && mount -t tmpfs -o size=16m,mode=1777 tmpfs '
             '"$TMPDIR" && exec setpriv --no-new-privs --inh-caps=-all --bounding-set=-all '
             '-- "$@"')


def read_only(argv: list[str]) -> list[str]:
    """argv as the container runs it. The uid stays ours: this venv's interpreter may live
    where uid 10001 cannot enter (/root/.pyenv), but without capabilities and with the
    root filesystem read-only, a write anywhere but TMPDIR fails as it would in the pod."""
    namespace = ["unshare", "--mount", "--propagation", "private"]
    if os.geteuid() != 0:
        namespace.insert(1, "--map-root-user")
    return [*namespace, "--", "sh", "-c", READ_ONLY, "sh", *argv]


def test_runs_on_a_read_only_root_without_capabilities(image_root: Path, keys: Keys, pg_url: str,
                                                  redis_prefix: str) -> None:
    site = install_from_context(image_root)
    app = image_root / "app"
    etc = image_root / "etc"  # the ConfigMap and Secret mounts, read-only
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    issuer = {k: v for k, v in keys.issuer([]).items() if k != "jwks"}
    issuer["jwks_file"] = str(etc / "jwks" / "ehr.json")
    config = {"service": {"public_base_url": public},
              "store": {"migrate_on_start": False},
              "auth": {"required": True, "issuers": [issuer]},
              "cache": {"key_prefix": redis_prefix}}
    (etc / "jwks").mkdir(parents=True)
    (etc / "config.toml").write_text(to_toml(config), encoding="utf-8")
    (etc / "jwks" / "ehr.json").write_text(
        json.dumps({"keys": [keys.es384.jwk, keys.rs384.jwk]}), encoding="utf-8")
    for path in [etc, *etc.rglob("*")]:
        path.chmod(0o555 if path.is_dir() else 0o444)
    tmp = image_root / "tmp"  # the emptyDir's mount point: the one writable place
    tmp.mkdir()
    env = {"PATH": f"{site / 'bin'}:/usr/bin:/bin", "PYTHONPATH": str(site),
           "PYTHONDONTWRITEBYTECODE": "1", "HOME": str(app), "TMPDIR": str(tmp),
           "CDS_CONFIG": str(etc / "config.toml"),
           "CDS_SERVICE__PROFILE": "production", "CDS_STORE__URL": pg_url,
           "CDS_CACHE__URL": REDIS_URL}
    cds = str(site / "bin" / "cds-service")

    where = subprocess.run(read_only([sys.executable, "-P", "-c",  # -P: as a script
                                          "import cds_service; print(cds_service.__file__)"]),
                           env=env, cwd=app, capture_output=True, text=True, timeout=60)
    assert where.stdout.strip() == str(site / "cds_service" / "__init__.py"), where.stderr
    # the sandbox is what it claims: TMPDIR writable, the rest not, not even for its owner
    probe = subprocess.run(read_only(["sh", "-c", f'touch "$TMPDIR/x" && ! touch {app}/x '
                                      f'2>/dev/null && ! touch /var/tmp/cds-probe-{port}']),
                           env=env, cwd=app, capture_output=True, text=True, timeout=30)
    assert probe.returncode == 0 and "Read-only file system" in probe.stderr, probe.stderr
    migrated = subprocess.run(read_only([cds, "migrate"]), env=env, cwd=app,
                              capture_output=True, text=True, timeout=120)
    assert migrated.returncode == 0, migrated.stderr[-2000:]

    log = image_root / "serve.log"
    with open(log, "wb") as err:
        serve = subprocess.Popen(
            read_only([cds, "serve", "--host", "127.0.0.1", "--port", str(port),
                           "--workers", "2"]),
            env=env, cwd=app, stdin=subprocess.DEVNULL, stdout=err, stderr=err,
            start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while True:
            assert serve.poll() is None, log.read_text(errors="replace")[-3000:]
            assert time.monotonic() < deadline, "not ready in 90 s"
            try:
                if requests.get(f"{public}/readyz", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.2)
        body = fixture_request("crp-mgdl", "order-sign", datetime.now(UTC).date())
        token = signed(keys.es384, public + SIGN)
        hook = requests.post(public + SIGN, json=body, timeout=30,
                             headers={"Authorization": f"Bearer {token}"})
        assert hook.status_code == 200, hook.text[:300]
        card = hook.json()["cards"][0]["uuid"]
        feedback = {"feedback": [{"card": card, "outcome": "overridden",
                                  "outcomeTimestamp": "2026-01-01T00:00:00Z"}]}
        token = signed(keys.es384, public + SIGN + "/feedback")
        sent = requests.post(public + SIGN + "/feedback", json=feedback, timeout=30,
                             headers={"Authorization": f"Bearer {token}"})
        assert sent.status_code == 200 and sent.json() == {"received": 1, "stored": 1}, sent.text
    finally:
        serve.send_signal(signal.SIGTERM)
        try:
            serve.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(serve.pid, signal.SIGKILL)
            serve.wait(timeout=10)
    text = log.read_text(errors="replace")
    assert "Read-only file system" not in text and "Permission denied" not in text, text[-3000:]
    assert serve.returncode == 0, text[-3000:]
    assert not any(tmp.iterdir()), "the tmpfs held the writes, not the real folder"
