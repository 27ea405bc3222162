"""The OpenAPI 3.1 description served at GET /openapi.json, built from the same
pydantic models that validate requests and cards, so it cannot drift from them."""

from __future__ import annotations

from typing import Any

from pydantic.json_schema import models_json_schema

from cds_service.services.definitions import Catalog
from cds_service.wire.cards import CardsResponse
from cds_service.wire.feedback import FeedbackRequest
from cds_service.wire.request import HookRequest

OUTCOME_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["resourceType", "issue"],
    "properties": {
        "resourceType": {"const": "OperationOutcome"},
        "issue": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["severity", "code"],
                "properties": {
                    "severity": {"enum": ["fatal", "error", "warning", "information"]},
                    "code": {"type": "string"},
                    "diagnostics": {"type": "string"},
                    "expression": {"type": "array", "items": {"type": "string"}},
                },
            },
        },
    },
}


def _json(schema_ref: str) -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema_ref}"}}}


def _errors(*statuses: int) -> dict[str, Any]:
    return {str(s): {"description": "OperationOutcome", "content": _json("OperationOutcome")} for s in statuses}


def build_openapi(catalog: Catalog, public_base_url: str) -> dict[str, Any]:
    _, defs = models_json_schema(
        [(HookRequest, "validation"), (FeedbackRequest, "validation"), (CardsResponse, "serialization")],
        ref_template="#/components/schemas/{model}",
    )
    schemas = dict(defs.get("$defs", {}))
    schemas["OperationOutcome"] = OUTCOME_SCHEMA
    service_ids = sorted(catalog.services)
    service_param = {
        "name": "service_id", "in": "path", "required": True,
        "schema": {"type": "string", "enum": service_ids},
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "Hip core decompression check (CDS Hooks 2.0)", "version": "0.1.0"},
        "servers": [{"url": public_base_url}],
        "paths": {
            "/cds-services": {"get": {
                "operationId": "discovery",
                "responses": {"200": {"description": "services", "content": {"application/json": {"schema": {
                    "type": "object", "required": ["services"],
                    "properties": {"services": {"type": "array", "items": {"type": "object"}}}}}}}},
            }},
            "/cds-services/{service_id}": {"post": {
                "operationId": "invoke",
                "parameters": [service_param],
                "requestBody": {"required": True, "content": _json("HookRequest")},
                "responses": {"200": {"description": "cards", "content": _json("CardsResponse")},
                              **_errors(400, 401, 403, 404, 408, 412, 413, 422, 503)},
            }},
            "/cds-services/{service_id}/feedback": {"post": {
                "operationId": "feedback",
                "parameters": [service_param],
                "requestBody": {"required": True, "content": _json("FeedbackRequest")},
                "responses": {"200": {"description": "stored", "content": {"application/json": {"schema": {
                    "type": "object", "required": ["received", "stored"],
                    "properties": {"received": {"type": "integer"}, "stored": {"type": "integer"}}}}}},
                              **_errors(400, 401, 404, 408, 413, 422, 503)},
            }},
            "/healthz": {"get": {"operationId": "healthz", "responses": {"200": {"description": "alive"}}}},
            "/readyz": {"get": {"operationId": "readyz", "responses": {
                "200": {"description": "ready"}, "503": {"description": "store unreachable"}}}},
        },
        "components": {"schemas": schemas},
    }
