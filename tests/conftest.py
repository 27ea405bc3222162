"""App, client and settings fixtures. Every hook response produced through `client`
is checked against every card constraint (tests/card_checks.py). Before any test runs,
the real services the collected tests need must answer (tests/prerequisites.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from cds_service.app import create_app
from cds_service.config import Settings
from tests.card_checks import check_cards_response
from tests.clock import fixed_clock
from tests.prerequisites import problems


def pytest_collection_finish(session: pytest.Session) -> None:
    """Stop at once, one line per missing service, when a needed service does not answer."""
    if session.config.option.collectonly or not session.items:
        return
    missing = problems({Path(item.path) for item in session.items})
    if missing:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        for line in missing:
            reporter.write_line(line, red=True, bold=True)
        pytest.exit(missing[0] if len(missing) == 1 else f"{len(missing)} services missing, "
                    "see above", returncode=pytest.ExitCode.USAGE_ERROR)


class CardCheckingClient(FlaskClient):
    """A test client that fails the test if any 200 hook answer breaks the spec."""

    checked_cards = 0

    def open(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        response = super().open(*args, **kwargs)
        path = response.request.path
        if (
            response.request.method == "POST"
            and path.startswith("/cds-services/")
            and not path.endswith("/feedback")
            and response.status_code == 200
        ):
            CardCheckingClient.checked_cards += len(check_cards_response(response.get_json()))
        return response


def make_settings(tmp_path: Path, **sections: dict) -> Settings:
    """Settings isolated from the environment: a private SQLite file per test."""
    data: dict = {"store": {"url": f"sqlite:///{tmp_path / 'store.sqlite3'}"}}
    for name, values in sections.items():
        data[name] = {**data.get(name, {}), **values}
    return Settings(**data)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
def app(settings: Settings):  # type: ignore[no-untyped-def]
    application = create_app(settings, clock=fixed_clock)
    application.test_client_class = CardCheckingClient
    return application


@pytest.fixture
def client(app) -> Iterator[FlaskClient]:  # type: ignore[no-untyped-def]
    with app.test_client() as test_client:
        yield test_client
