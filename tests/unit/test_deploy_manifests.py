"""The deployment files (deploy/kubernetes/, deploy/compose.yaml, deploy/haproxy.cfg), read as data and
checked against the project: ports, settings, probe routes, image, drain timing, privileges, sizing.

No cluster or Docker engine is needed: each check parses the files with pyyaml.
"""

from __future__ import annotations

import inspect
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from bridge.api import create_app
from bridge.cli.app import serve
from bridge.metrics import Metrics
from bridge.settings import BridgeSettings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
KUBE = DEPLOY / "kubernetes"
# What C1's contract (bridge/cluster/__init__.py) asks the platform to leave on top of the drain
# timeout: closing the browser and exiting.
EXIT_MARGIN_S = 10
SETTINGS = {f"BRIDGE_{name.upper()}" for name in BridgeSettings.model_fields}
# The container's scratch space: Chromium's profile and, with --disable-dev-shm-usage, its shared memory.
SCRATCH = "/tmp"  # noqa: S108 (a path inside the container, read from the manifests, not used here)


def _documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]


def _manifests() -> dict[str, dict[str, Any]]:
    """Every Kubernetes object of deploy/kubernetes by ``Kind/name``."""
    found: dict[str, dict[str, Any]] = {}
    for path in sorted(KUBE.glob("*.yaml")):
        if path.name in ("kustomization.yaml", "prometheus-adapter-rules.yaml"):
            continue
        for doc in _documents(path):
            key = f"{doc['kind']}/{doc['metadata']['name']}"
            assert key not in found, f"{key} is defined twice"
            found[key] = doc | {"_file": path.name}
    return found


def _deployment() -> dict[str, Any]:
    return _manifests()["Deployment/guardian-bridge"]


def _container() -> dict[str, Any]:
    containers = _deployment()["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    container: dict[str, Any] = containers[0]
    return container


def _env(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {entry["name"]: entry for entry in container["env"]}


def _kustomization() -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load((KUBE / "kustomization.yaml").read_text())
    return doc


def _compose() -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    return doc


def _bridge_services() -> dict[str, dict[str, Any]]:
    return {name: s for name, s in _compose()["services"].items() if name.startswith("bridge-")}


def _dockerfile(keyword: str) -> str:
    text = (ROOT / "Dockerfile").read_text()
    lines = [line for line in text.splitlines() if line.startswith(keyword + " ")]
    assert len(lines) == 1
    return lines[0].removeprefix(keyword + " ").strip()


def _serve_port() -> int:
    default: int = inspect.signature(serve).parameters["port"].default
    return default


def _routes() -> set[str]:
    """The paths the bridge serves, as its OpenAPI document lists them (routers are included lazily)."""
    return set(create_app(BridgeSettings()).openapi()["paths"])


def _seconds(value: str) -> float:
    match = re.fullmatch(r"(\d+)s", value)
    assert match, f"{value!r}: expected whole seconds such as 40s"
    return float(match.group(1))


def _mebibytes(quantity: str) -> float:
    units = {"Mi": 1.0, "Gi": 1024.0, "Ki": 1 / 1024}
    match = re.fullmatch(r"(\d+)(Ki|Mi|Gi)", quantity)
    assert match, f"{quantity!r}: expected Ki, Mi or Gi"
    return int(match.group(1)) * units[match.group(2)]


def _cores(quantity: str) -> float:
    return int(quantity[:-1]) / 1000 if quantity.endswith("m") else float(quantity)


# --- Kubernetes ---


def test_kustomization_lists_existing_manifests_and_leaves_out_the_examples() -> None:
    resources = _kustomization()["resources"]
    assert all((KUBE / name).is_file() for name in resources)
    kinds = {_documents(KUBE / name)[0]["kind"] for name in resources}
    assert kinds == {"Deployment", "Service", "PodDisruptionBudget", "HorizontalPodAutoscaler"}
    # The example Secret holds placeholders and the in-cluster Redis is opt-in: neither is applied as is.
    assert "secret.example.yaml" not in resources
    assert "redis.yaml" not in resources


def test_every_object_has_an_api_version_a_kind_and_a_name() -> None:
    for key, doc in _manifests().items():
        assert doc.get("apiVersion"), key
        assert doc["metadata"].get("name"), key


def test_the_container_serves_on_the_port_the_image_exposes() -> None:
    container = _container()
    port = _serve_port()
    assert [p["containerPort"] for p in container["ports"]] == [port]
    assert _dockerfile("EXPOSE") == str(port)
    args = container["args"]
    assert args[0] == json.loads(_dockerfile("CMD"))[0] == "serve"
    assert args[args.index("--port") + 1] == str(port)
    assert args[args.index("--host") + 1] == "0.0.0.0"
    # The image's entry point is kept: args only.
    assert "command" not in container


def test_the_service_reaches_the_named_container_port() -> None:
    service = _manifests()["Service/guardian-bridge"]
    names = {p["name"]: p["containerPort"] for p in _container()["ports"]}
    (port,) = service["spec"]["ports"]
    assert port["targetPort"] in names
    assert port["port"] == names[port["targetPort"]] == _serve_port()
    assert "sessionAffinity" not in service["spec"], "any replica answers any enrollment"


def test_selectors_match_the_pod_labels() -> None:
    manifests = _manifests()
    labels = _deployment()["spec"]["template"]["metadata"]["labels"]
    selectors = [
        _deployment()["spec"]["selector"]["matchLabels"],
        manifests["Service/guardian-bridge"]["spec"]["selector"],
        manifests["PodDisruptionBudget/guardian-bridge"]["spec"]["selector"]["matchLabels"],
    ]
    for selector in selectors:
        assert selector.items() <= labels.items()
    target = manifests["HorizontalPodAutoscaler/guardian-bridge"]["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", "guardian-bridge")


def test_every_bridge_variable_is_a_real_setting_and_the_others_feed_them() -> None:
    env = _env(_container())
    bridge = {name for name in env if name.startswith("BRIDGE_")}
    assert bridge <= SETTINGS, f"not settings of bridge/settings.py: {sorted(bridge - SETTINGS)}"
    referenced = {ref for entry in env.values() for ref in re.findall(r"\$\((\w+)\)", entry.get("value", ""))}
    others = set(env) - bridge
    assert others <= referenced, f"variables nothing reads: {sorted(others - referenced)}"
    # Kubernetes expands $(NAME) only from variables defined earlier in the list.
    order = list(env)
    for name, entry in env.items():
        for ref in re.findall(r"\$\((\w+)\)", entry.get("value", "")):
            assert order.index(ref) < order.index(name), f"{name} uses {ref} before it is defined"


def test_cluster_mode_is_configured_with_the_pods_own_address() -> None:
    env = _env(_container())
    assert env["BRIDGE_ADVERTISE_URL"]["value"] == f"http://$(POD_IP):{_serve_port()}"
    assert env["POD_IP"]["valueFrom"]["fieldRef"]["fieldPath"] == "status.podIP"
    assert env["BRIDGE_REPLICA_ID"]["value"] == "$(POD_NAME)"


def test_secrets_come_from_the_secret_and_the_example_has_every_key() -> None:
    env = _env(_container())
    for name in ("BRIDGE_API_TOKENS", "BRIDGE_REDIS_URL", "BRIDGE_OTP_INBOX_SECRET"):
        assert "value" not in env[name], f"{name} must come from a Secret, not the manifest"
    refs = {
        entry["valueFrom"]["secretKeyRef"]["key"]: entry["valueFrom"]["secretKeyRef"]
        for entry in env.values()
        if "secretKeyRef" in entry.get("valueFrom", {})
    }
    example = _manifests()["Secret/guardian-bridge"]
    assert {ref["name"] for ref in refs.values()} == {example["metadata"]["name"]}
    assert set(refs) == set(example["stringData"])
    # A Redis URL that names the in-cluster Service of redis.yaml, on its port.
    redis = _manifests()["Service/guardian-bridge-redis"]
    assert example["stringData"]["BRIDGE_REDIS_URL"].startswith(
        f"redis://{redis['metadata']['name']}:{redis['spec']['ports'][0]['port']}/"
    )


def test_probes_ask_routes_the_bridge_serves() -> None:
    container = _container()
    routes = _routes()
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["startupProbe"]["httpGet"]["path"] == "/healthz"
    port_names = {p["name"] for p in container["ports"]}
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        assert container[probe]["httpGet"]["path"] in routes
        assert container[probe]["httpGet"]["port"] in port_names


def test_grace_period_covers_pre_stop_drain_and_exit() -> None:
    pod = _deployment()["spec"]["template"]["spec"]
    container = _container()
    command = container["lifecycle"]["preStop"]["exec"]["command"]
    assert command[0] == "sleep"
    pre_stop = float(command[1])
    drain = float(_env(container)["BRIDGE_DRAIN_TIMEOUT_S"]["value"])
    assert drain == BridgeSettings.model_fields["drain_timeout_s"].default, "keep the documented default"
    assert pod["terminationGracePeriodSeconds"] >= pre_stop + drain + EXIT_MARGIN_S


def test_runs_unprivileged_on_a_read_only_root_with_writable_scratch() -> None:
    pod = _deployment()["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    container = _container()
    security = container["securityContext"]
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"]["drop"] == ["ALL"]
    empty_dirs = {v["name"] for v in pod["volumes"] if "emptyDir" in v}
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    assert all(name in empty_dirs for name in mounts.values())
    artifacts = _env(container)["BRIDGE_ARTIFACTS_DIR"]["value"]
    # Saved screenshots and traces go to the artifacts directory.
    assert {SCRATCH, artifacts} <= set(mounts)


def test_resources_fit_the_benchmarked_memory_of_a_full_replica() -> None:
    container = _container()
    resources = container["resources"]
    full = json.loads((ROOT / "bench/results/full.json").read_text())["memory"]["shared_browser"]
    sessions = int(_env(container)["BRIDGE_MAX_ENROLLMENTS"]["value"])
    needed = full["idle_total_mib"] + full["marginal_mib"] * sessions
    assert _mebibytes(resources["requests"]["memory"]) >= needed
    assert _mebibytes(resources["limits"]["memory"]) >= _mebibytes(resources["requests"]["memory"])
    assert _cores(resources["limits"]["cpu"]) >= _cores(resources["requests"]["cpu"]) >= 1


def test_image_name_is_the_one_built_from_the_dockerfile() -> None:
    readme = (ROOT / "README.md").read_text()
    built = re.search(r"docker build -t ([\w.-]+) \.", readme)
    assert built, "the README shows how the image is built"
    name = built.group(1)
    assert _container()["image"] == name
    assert [i["name"] for i in _kustomization()["images"]] == [name]
    assert {s["image"] for s in _bridge_services().values()} == {name}


def test_the_autoscaler_metric_is_served_by_the_adapter_from_series_the_bridge_exports() -> None:
    hpa = _manifests()["HorizontalPodAutoscaler/guardian-bridge"]["spec"]
    (metric,) = hpa["metrics"]
    assert metric["type"] == "Pods"
    name = metric["pods"]["metric"]["name"]
    assert hpa["minReplicas"] >= 2, "one replica is not highly available"
    rules = yaml.safe_load((KUBE / "prometheus-adapter-rules.yaml").read_text())["rules"]["custom"]
    (rule,) = [r for r in rules if r["name"]["as"] == name]
    exported = Metrics().render().decode()
    series = set(re.findall(r"\b(bridge_\w+)\{", rule["metricsQuery"])) | set(
        re.findall(r"^(bridge_\w+)\{", rule["seriesQuery"])
    )
    assert series
    for one in series:
        assert re.search(rf"^# TYPE {one} ", exported, re.MULTILINE), f"the bridge exports no {one}"


def test_the_disruption_budget_keeps_all_but_one_pod() -> None:
    spec = _manifests()["PodDisruptionBudget/guardian-bridge"]["spec"]
    assert spec["maxUnavailable"] == 1
    strategy = _deployment()["spec"]["strategy"]["rollingUpdate"]
    assert strategy["maxUnavailable"] == 0, "a rolling update must not drop capacity"


# --- docker compose and haproxy ---


def test_compose_has_redis_three_replicas_and_a_balancer() -> None:
    services = _compose()["services"]
    assert set(services) == {"redis", "bridge-1", "bridge-2", "bridge-3", "haproxy"}


@pytest.mark.parametrize("name", ["bridge-1", "bridge-2", "bridge-3"])
def test_each_replica_is_configured_for_cluster_mode(name: str) -> None:
    service = _bridge_services()[name]
    env = service["environment"]
    assert set(env) <= SETTINGS, f"not settings: {sorted(set(env) - SETTINGS)}"
    assert env["BRIDGE_REPLICA_ID"] == name
    assert env["BRIDGE_ADVERTISE_URL"] == f"http://{name}:{_serve_port()}"
    assert re.fullmatch(r"redis://redis:6379/\d+", env["BRIDGE_REDIS_URL"])
    assert service["build"]["dockerfile"] == "Dockerfile"
    assert (DEPLOY / service["build"]["context"] / "Dockerfile").is_file()
    assert service["depends_on"]["redis"]["condition"] == "service_healthy"
    assert _seconds(service["stop_grace_period"]) >= float(env["BRIDGE_DRAIN_TIMEOUT_S"]) + EXIT_MARGIN_S
    # Same confinement as the Kubernetes pod: nothing writable but scratch space.
    assert service["read_only"] is True
    scratch = {entry.split(":")[0] for entry in service["tmpfs"]}
    assert {SCRATCH, _env(_container())["BRIDGE_ARTIFACTS_DIR"]["value"]} <= scratch


def _haproxy() -> list[str]:
    return [line.strip() for line in (DEPLOY / "haproxy.cfg").read_text().splitlines() if line.strip()]


def test_the_balancer_config_is_the_mounted_file_and_names_every_replica() -> None:
    haproxy = _compose()["services"]["haproxy"]
    mounts = [v.split(":") for v in haproxy["volumes"]]
    assert [m[0] for m in mounts] == ["./haproxy.cfg"]
    lines = _haproxy()
    servers = {line.split()[1]: line.split()[2] for line in lines if line.startswith("server ")}
    assert servers == {name: f"{name}:{_serve_port()}" for name in _bridge_services()}
    assert f"bind :{_serve_port()}" in lines
    published = haproxy["ports"][0].rsplit(":", 2)
    assert published[-1] == str(_serve_port())


def test_the_balancer_checks_readiness_and_does_not_stick() -> None:
    lines = _haproxy()
    assert "option httpchk GET /readyz" in lines
    assert "/readyz" in _routes()
    assert "http-check expect status 204" in lines
    assert "balance roundrobin" in lines
    assert not [line for line in lines if line.startswith(("cookie ", "stick"))]
