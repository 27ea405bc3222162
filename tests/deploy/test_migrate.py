"""The schema migration runs once, as its own step (docs/deploy.md): `cds-service migrate`
(idempotent, `--check` changes nothing), and replicas started with `[store]
migrate_on_start = false` refuse to serve a store whose schema is not the newest."""

from __future__ import annotations

import os
import subprocess

from tests.reliability.live import CDS_SERVICE, running, start_refused, to_toml


def migrate(tmp_path, config: dict, *args: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "migrate.toml"
    path.write_text(to_toml(config), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CDS_")}
    return subprocess.run([str(CDS_SERVICE), "--config", str(path), "migrate", *args],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)


def test_replicas_wait_for_the_one_migration(tmp_path) -> None:
    config = {"store": {"url": f"sqlite:///{tmp_path / 'store.sqlite3'}",
                        "migrate_on_start": False}}
    code, stderr = start_refused(tmp_path / "early", config, workers=1)
    assert code == 2 and "cds-service migrate" in stderr and "absent" in stderr, stderr

    check = migrate(tmp_path, config, "--check")
    assert check.returncode == 1 and "absent" in check.stderr, check.stderr
    for _ in range(2):  # idempotent
        done = migrate(tmp_path, config)
        assert done.returncode == 0 and "newest revision" in done.stdout, done.stderr
    assert migrate(tmp_path, config, "--check").returncode == 0

    with running(tmp_path / "service", config, workers=1) as service:
        assert "schema_not_current" not in service.log()
