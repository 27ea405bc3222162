"""GET /rules: the page every card's `source.url` points to (cds_service/rules_page.py).

It holds no patient data, so it is open like discovery; it is built once per app from the
settings and catalog it runs with.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app

from cds_service.routes.cds import pipeline
from cds_service.rules_page import rules_html

blueprint = Blueprint("rules", __name__)
# A page without scripts: only its own inline style is allowed.
CONTENT_POLICY = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"


@blueprint.get("/rules")
def rules() -> Response:
    """The rules, thresholds and trigger codes in use, as plain HTML."""
    html = current_app.extensions.get("cds_rules_page")
    if html is None:
        p = pipeline()
        html = rules_html(p.settings.clinical, p.catalog, p.settings.cards.informational)
        current_app.extensions["cds_rules_page"] = html
    response = Response(html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = CONTENT_POLICY
    return response
