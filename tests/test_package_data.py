"""The hooks ship inside the package: a built wheel holds every file of cds_service/hooks,
and the service installed from it finds and loads them without a checkout beside it."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from cds_service.resources import hooks_dir

ROOT = Path(__file__).resolve().parents[1]
LOAD = ("from cds_service.resources import hooks_dir; "
        "from cds_service.services.definitions import load_catalog; "
        "print(hooks_dir()); print(len(load_catalog(hooks_dir()).services))")


def test_hooks_dir_is_inside_the_package() -> None:
    import cds_service

    assert hooks_dir() == Path(cds_service.__file__).parent / "hooks"
    assert sorted(p.name for p in hooks_dir().iterdir()) == ["services", "triggers", "vocabulary"]


def test_wheel_holds_the_hooks_and_the_installed_package_loads_them(tmp_path: Path) -> None:
    source = tmp_path / "source"  # a copy: the build leaves build/ and egg-info behind
    for name in ("pyproject.toml", "README.md"):
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, source / name)
    shutil.copytree(ROOT / "cds_service", source / "cds_service",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "--disable-pip-version-check", "--wheel-dir", str(tmp_path / "dist"), str(source)],
        capture_output=True, text=True, timeout=300, check=False)
    assert built.returncode == 0, built.stderr[-2000:]
    (wheel,) = (tmp_path / "dist").glob("cds_service-*.whl")

    shipped = {p.relative_to(ROOT).as_posix() for p in hooks_dir().rglob("*.toml")}
    assert len(shipped) >= 8
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        assert shipped <= names, sorted(shipped - names)
        archive.extractall(tmp_path / "site")

    site = tmp_path / "site"
    loaded = subprocess.run([sys.executable, "-P", "-c", LOAD], cwd=tmp_path,
                            env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"},
                            capture_output=True, text=True, timeout=120, check=False)
    assert loaded.returncode == 0, loaded.stderr[-2000:]
    folder, services = loaded.stdout.split()
    assert folder == str(site / "cds_service" / "hooks") and services == "3"
