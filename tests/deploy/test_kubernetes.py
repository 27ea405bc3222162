"""The Kubernetes manifests (deploy/kubernetes/, issue 17 §1), checked offline.

Every object in every YAML file there is validated against the Kubernetes OpenAPI schemas
that `kubernetes-validate` ships (strict: an unknown field fails), for the oldest and the
newest version this suite claims. The kustomization's resource list must name exactly
the files of the base; when `kubectl` is on the machine (it bundles kustomize) the base is
also rendered and every rendered object validated. Then what the schema cannot say: the
probes, limits and security settings the issue asks for, selectors that match, Secret
keys that exist, a NetworkPolicy open only to DNS, PostgreSQL, Redis and https, and a
ConfigMap whose TOML the service itself accepts in its production profile."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from cds_service.config import load_settings
from cds_service.security.jwks import parse_jwks

ROOT = Path(__file__).resolve().parents[2]
BASE = ROOT / "deploy" / "kubernetes"
VERSIONS = ("1.30.0", kubernetes_validate.latest_version())
MANIFESTS = sorted(p for p in BASE.rglob("*.yaml") if p.name != "kustomization.yaml")
KUBECTL = shutil.which("kubectl")


def documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]


def objects(*names: str) -> dict[str, dict[str, Any]]:
    """kind -> object, for the files of the base."""
    found = {}
    for name in names:
        for doc in documents(BASE / name):
            found[doc["kind"]] = doc
    return found


def kustomization() -> dict[str, Any]:
    return yaml.safe_load((BASE / "kustomization.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: str(p.relative_to(BASE)))
def test_every_object_is_valid(path: Path, version: str) -> None:
    docs = documents(path)
    assert docs, f"{path} holds no object"
    for doc in docs:
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{path.name} {doc.get('kind')}/{doc['metadata']['name']} "
                        f"(Kubernetes {version}): {exc.message} at {list(exc.path)}")


def test_the_kustomization_lists_the_base_files() -> None:
    listed = kustomization()["resources"]
    on_disk = sorted(p.name for p in BASE.glob("*.yaml") if p.name != "kustomization.yaml")
    assert sorted(listed) == on_disk
    # secrets and the migration Job are kept out of the base on purpose
    assert not any("/" in name for name in listed)


@pytest.mark.skipif(KUBECTL is None, reason="kubectl (with kustomize) is not installed; "
                    "the files and the resource list are checked above")
def test_the_rendered_base_is_valid() -> None:
    rendered = subprocess.run([KUBECTL, "kustomize", str(BASE)], capture_output=True,
                              text=True, timeout=120)
    assert rendered.returncode == 0, rendered.stderr
    docs = [doc for doc in yaml.safe_load_all(rendered.stdout) if doc]
    expected = {(d["kind"], d["metadata"]["name"]) for name in kustomization()["resources"]
                for d in documents(BASE / name)}
    assert {(d["kind"], d["metadata"]["name"]) for d in docs} == expected
    for doc in docs:
        for version in VERSIONS:
            kubernetes_validate.validate(doc, version, strict=True)
        assert doc["metadata"]["labels"]["app.kubernetes.io/part-of"] == "cds-service"
    deployment = next(d for d in docs if d["kind"] == "Deployment")
    image = deployment["spec"]["template"]["spec"]["containers"][0]["image"]
    assert image == "registry.hospital.example/cds-service:0.1.0"


def container(deployment: dict[str, Any]) -> dict[str, Any]:
    (only,) = deployment["spec"]["template"]["spec"]["containers"]
    return only


def test_the_deployment_runs_replicas_safely() -> None:
    deployment = objects("deployment.yaml")["Deployment"]
    spec, pod = deployment["spec"], deployment["spec"]["template"]["spec"]
    assert spec["replicas"] >= 2
    assert spec["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    labels = spec["template"]["metadata"]["labels"]
    assert spec["selector"]["matchLabels"].items() <= labels.items()
    main = container(deployment)
    assert main["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert main["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert main["startupProbe"]["httpGet"]["path"] == "/healthz"
    startup = main["startupProbe"]
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 60  # NLP warm-up
    for kind in ("requests", "limits"):
        assert set(main["resources"][kind]) == {"cpu", "memory"}
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 10001  # the Dockerfile's user
    assert pod["automountServiceAccountToken"] is False
    security = main["securityContext"]
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"]["drop"] == ["ALL"]
    # the only writable place is a small emptyDir at /tmp; config and keys are read-only
    volumes = {v["name"]: v for v in pod["volumes"]}
    writable = [m for m in main["volumeMounts"] if not m.get("readOnly")]
    assert [(m["name"], m["mountPath"]) for m in writable] == [("tmp", "/tmp")]
    assert "emptyDir" in volumes["tmp"]
    env = {e["name"]: e for e in main["env"]}
    config_mount = next(m for m in main["volumeMounts"] if m["name"] == "config")
    assert env["CDS_CONFIG"]["value"] == config_mount["mountPath"]
    assert volumes["config"]["configMap"]["name"] == objects("configmap.yaml")[
        "ConfigMap"]["metadata"]["name"]
    port = main["ports"][0]
    assert port["containerPort"] == int(main["args"][main["args"].index("--port") + 1])


def test_secret_references_exist_in_the_examples() -> None:
    secrets = {d["metadata"]["name"]: d for d in documents(BASE / "examples" / "secrets.yaml")}
    pods = [objects("deployment.yaml")["Deployment"], objects("jobs/migrate.yaml")["Job"]]
    for workload in pods:
        pod = workload["spec"]["template"]["spec"]
        for env in container(workload)["env"]:
            ref = env.get("valueFrom", {}).get("secretKeyRef")
            if ref:
                assert ref["key"] in secrets[ref["name"]]["stringData"], ref
        for volume in pod["volumes"]:
            if "secret" in volume:
                assert volume["secret"]["secretName"] in secrets
    jwks = json.loads(secrets["cds-service-issuer-jwks"]["stringData"]["ehr.json"])
    keys, problems = parse_jwks(jwks, {"ES384", "RS384"})
    assert keys and not problems


def test_the_config_map_is_a_production_config(monkeypatch, tmp_path) -> None:
    config = objects("configmap.yaml")["ConfigMap"]["data"]["config.toml"]
    secrets = {d["metadata"]["name"]: d for d in documents(BASE / "examples" / "secrets.yaml")}
    urls = secrets["cds-service-urls"]["stringData"]
    path = tmp_path / "config.toml"
    path.write_text(config, encoding="utf-8")
    for name in [n for n in os.environ if n.startswith("CDS_")]:
        monkeypatch.delenv(name)
    env = {e["name"]: e for e in container(objects("deployment.yaml")["Deployment"])["env"]}
    assert {"CDS_STORE__URL", "CDS_CACHE__URL"} <= env.keys()
    monkeypatch.setenv("CDS_STORE__URL", urls["store-url"])
    monkeypatch.setenv("CDS_CACHE__URL", urls["cache-url"])
    settings = load_settings(path)
    assert settings.service.profile == "production"
    assert settings.auth.required and settings.auth.issuers
    assert settings.store.url.startswith("postgresql") and settings.cache.url
    assert settings.store.migrate_on_start is False  # jobs/migrate.yaml migrates, once
    jwks_mount = next(m for m in container(objects("deployment.yaml")["Deployment"])[
        "volumeMounts"] if m["name"] == "issuer-jwks")
    for issuer in settings.auth.issuers:
        assert issuer.jwks_file and issuer.jwks_file.startswith(jwks_mount["mountPath"] + "/")
    assert tomllib.loads(config)["fhir"]["allowed_servers"] == list(
        settings.fhir.allowed_servers)


def test_the_budget_autoscaler_and_service_select_the_pods() -> None:
    found = objects("deployment.yaml", "service.yaml", "poddisruptionbudget.yaml",
                    "horizontalpodautoscaler.yaml")
    deployment = found["Deployment"]
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert found["Service"]["spec"]["selector"].items() <= labels.items()
    assert found["PodDisruptionBudget"]["spec"]["selector"]["matchLabels"].items() \
        <= labels.items()
    assert found["PodDisruptionBudget"]["spec"]["minAvailable"] < deployment["spec"]["replicas"]
    hpa = found["HorizontalPodAutoscaler"]["spec"]
    assert hpa["scaleTargetRef"]["name"] == deployment["metadata"]["name"]
    assert hpa["minReplicas"] >= 2 and hpa["maxReplicas"] > hpa["minReplicas"]
    named = {p["name"] for p in container(deployment)["ports"]}
    assert found["Service"]["spec"]["ports"][0]["targetPort"] in named


def test_the_network_policy_allows_only_the_dependencies() -> None:
    policy = objects("networkpolicy.yaml")["NetworkPolicy"]["spec"]
    assert sorted(policy["policyTypes"]) == ["Egress", "Ingress"]
    ports = sorted((p["protocol"], p["port"]) for rule in policy["egress"]
                   for p in rule["ports"])
    assert ports == [("TCP", 53), ("TCP", 443), ("TCP", 5432), ("TCP", 6379), ("UDP", 53)]
    for rule in policy["egress"]:
        assert rule["to"], "an egress rule without `to` would allow every address"
        for peer in rule["to"]:
            assert peer.get("ipBlock", {}).get("cidr") != "0.0.0.0/0"
    assert [p["port"] for rule in policy["ingress"] for p in rule["ports"]] == [8080]
