"""The kustomize overlays render, validate offline and keep the rules of the house style."""

import copy
import importlib
import json
from urllib.parse import urlparse

import kubernetes_validate
import pytest

from shared.config import SERVICE_PORTS, CommonSettings, ServiceSettings
from shared.runtime import STOP_SECONDS as RUNTIME_STOP_SECONDS
from tests.deploy.conftest import DEPLOY, OVERLAYS, of_kind

# The oldest Kubernetes the manifests support (matchLabelKeys, PodDisruptionBudget v1,
# HPA v2) and the newest the bundled schemas know.
KUBERNETES_VERSIONS = ("1.30.0", "1.37.0")

# Custom resources: no schema is bundled, so their required fields are checked below.
CUSTOM_GROUPS = (
    "postgresql.cnpg.io/",
    "barmancloud.cnpg.io/",
    "monitoring.coreos.com/",
    "keda.sh/",
)

# After uvicorn has finished the in-flight requests, shared/runtime.py stops the workers,
# flushes and closes NATS and closes the pool, in at most RUNTIME_STOP_SECONDS.

# Every service with an image is deployed; the launcher's services must all be among them.
SERVICES = tuple(
    sorted(
        path.parent.name
        for path in (DEPLOY / "images").glob("*/Dockerfile")
        if path.parent.name != "gateway"
    )
)


def test_every_service_the_launcher_starts_is_deployed():
    assert set(SERVICE_PORTS) <= set(SERVICES)


def is_custom(item: dict) -> bool:
    return item["apiVersion"].startswith(CUSTOM_GROUPS)


def pod_spec(workload: dict) -> dict:
    return workload["spec"]["template"]["spec"]


def app_container(workload: dict) -> dict:
    containers = pod_spec(workload)["containers"]
    assert [c["name"] for c in containers] == ["app"], workload["metadata"]["name"]
    return containers[0]


def labels_match(selector: dict, labels: dict) -> bool:
    """A label selector (matchLabels and In-expressions) against a pod's labels."""
    for key, value in selector.get("matchLabels", {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions", []):
        assert expression["operator"] == "In", "only In expressions are used here"
        if labels.get(expression["key"]) not in expression["values"]:
            return False
    return True


def settings_class(component: str) -> type[ServiceSettings]:
    name = "gateway.config" if component == "gateway" else f"services.{component}.config"
    module = importlib.import_module(name)
    classes = [
        value
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, ServiceSettings)
        and value.__module__ == module.__name__
    ]
    assert len(classes) == 1, f"{name} should define one settings class, found {classes}"
    return classes[0]


def environment_names(settings: type[CommonSettings]) -> set[str]:
    return {f"CEM_{field.upper()}" for field in settings.model_fields}


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_object_validates_against_the_kubernetes_schemas(rendered, overlay, version):
    failures = []
    for item in rendered(overlay):
        if is_custom(item):
            continue
        try:
            kubernetes_validate.validate(item, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            path = "/".join(map(str, error.path))
            failures.append(f"{item['kind']} {item['metadata']['name']}: {path}: {error.message}")
        except kubernetes_validate.SchemaNotFoundError:
            failures.append(f"{item['apiVersion']} {item['kind']}: no schema and no CRD check")
    assert not failures, "\n".join(failures)


def test_strict_validation_rejects_a_misspelt_field(rendered):
    deployment = copy.deepcopy(of_kind(rendered("prod"), "Deployment")[0])
    security = app_container(deployment)["securityContext"]
    security["readOnlyRootFileSystem"] = security.pop("readOnlyRootFilesystem")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSIONS[0], strict=True)


def _custom_resource_problems(item: dict) -> list[str]:
    """The fields each CRD requires (and the operators need) that a schema would check."""
    spec = item.get("spec", {})
    kind = item["kind"]
    if kind == "Cluster":
        required = [spec.get("instances"), spec.get("storage", {}).get("size")]
    elif kind == "Database":
        required = [spec.get("cluster", {}).get("name"), spec.get("name"), spec.get("owner")]
    elif kind == "ScheduledBackup":
        schedule = spec.get("schedule", "")
        required = [spec.get("cluster", {}).get("name"), len(schedule.split()) == 6]
    elif kind == "ObjectStore":
        required = [spec.get("configuration", {}).get("destinationPath")]
    elif kind == "ServiceMonitor":
        endpoints = spec.get("endpoints", [])
        required = [spec.get("selector"), endpoints, all(e.get("port") for e in endpoints)]
    elif kind == "PrometheusRule":
        rules = [rule for group in spec.get("groups", []) for rule in group.get("rules", [])]
        required = [
            rules,
            all(r.get("expr") and (r.get("alert") or r.get("record")) for r in rules),
        ]
    elif kind == "ScaledObject":
        triggers = spec.get("triggers", [])
        required = [
            spec.get("scaleTargetRef", {}).get("name"),
            triggers,
            all(t.get("type") and t.get("metadata") for t in triggers),
        ]
    else:
        return [f"{item['apiVersion']} {kind}: a custom resource without a check here"]
    if all(required) and item["metadata"].get("name"):
        return []
    return [f"{kind} {item['metadata'].get('name')}: a required field is missing"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_custom_resources_carry_their_required_fields(rendered, overlay):
    custom = [item for item in rendered(overlay) if is_custom(item)]
    assert custom, "the operators' resources (PostgreSQL at least) are part of every overlay"
    problems = [problem for item in custom for problem in _custom_resource_problems(item)]
    assert not problems, "\n".join(problems)


def _pod_rule_violations(deployment: dict) -> list[str]:
    spec = pod_spec(deployment)
    container = app_container(deployment)
    security = container.get("securityContext", {})
    resources = container.get("resources", {})
    pre_stop = container.get("lifecycle", {}).get("preStop", {}).get("exec", {}).get("command")
    checks = {
        "runs as non-root": spec["securityContext"].get("runAsNonRoot") is True
        and spec["securityContext"].get("runAsUser", 0) > 0,
        "read-only root filesystem": security.get("readOnlyRootFilesystem") is True,
        "no privilege escalation": security.get("allowPrivilegeEscalation") is False,
        "drops all capabilities": security.get("capabilities", {}).get("drop") == ["ALL"],
        "seccomp RuntimeDefault": spec["securityContext"].get("seccompProfile", {}).get("type")
        == "RuntimeDefault",
        "cpu and memory requests and limits": all(
            resources.get(bound, {}).get(what)
            for bound in ("requests", "limits")
            for what in ("cpu", "memory")
        ),
        "startup probe on /healthz": container.get("startupProbe", {})
        .get("httpGet", {})
        .get("path")
        == "/healthz",
        "liveness probe on /healthz (the process only)": container.get("livenessProbe", {})
        .get("httpGet", {})
        .get("path")
        == "/healthz",
        "readiness probe on /readyz (database and NATS)": container.get("readinessProbe", {})
        .get("httpGet", {})
        .get("path")
        == "/readyz",
        "preStop pause": bool(pre_stop) and pre_stop[0] == "sleep",
        "no service account token": spec.get("automountServiceAccountToken") is False,
        "no service links (CEM_-prefixed variables)": spec.get("enableServiceLinks") is False,
        "labels name, component, part-of": all(
            deployment["spec"]["template"]["metadata"]["labels"].get(f"app.kubernetes.io/{key}")
            for key in ("name", "component", "part-of")
        ),
    }
    if pre_stop and pre_stop[0] == "sleep":
        drain = int(pre_stop[1]) + uvicorn_graceful_seconds() + RUNTIME_STOP_SECONDS
        checks[f"termination grace longer than the drain ({drain} s)"] = (
            spec.get("terminationGracePeriodSeconds", 30) > drain
        )
    return [f"{deployment['metadata']['name']}: {rule}" for rule, ok in checks.items() if not ok]


def uvicorn_graceful_seconds() -> int:
    from tests.deploy.test_images import image_command

    command = image_command("gateway")
    return int(command[command.index("--timeout-graceful-shutdown") + 1])


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_deployment_keeps_the_pod_rules(rendered, overlay):
    deployments = of_kind(rendered(overlay), "Deployment")
    violations = [v for deployment in deployments for v in _pod_rule_violations(deployment)]
    assert not violations, "\n".join(violations)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_deployment_has_an_autoscaler_a_disruption_budget_and_a_service(rendered, overlay):
    objects = rendered(overlay)
    scaled = {
        item["spec"]["scaleTargetRef"]["name"]: item["kind"]
        for item in objects
        if item["kind"] in ("HorizontalPodAutoscaler", "ScaledObject")
    }
    problems = []
    for deployment in of_kind(objects, "Deployment"):
        name = deployment["metadata"]["name"]
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        if name not in scaled:
            problems.append(f"{name}: no HorizontalPodAutoscaler or ScaledObject")
        if "replicas" in deployment["spec"]:
            problems.append(f"{name}: a fixed replica count fights the autoscaler")
        budgets = [
            b
            for b in of_kind(objects, "PodDisruptionBudget")
            if labels_match(b["spec"]["selector"], labels)
        ]
        if len(budgets) != 1:
            problems.append(f"{name}: {len(budgets)} PodDisruptionBudgets select its pods")
        services = [
            s
            for s in of_kind(objects, "Service")
            if labels_match({"matchLabels": s["spec"]["selector"]}, labels)
        ]
        if [port["targetPort"] for s in services for port in s["spec"]["ports"]] != ["http"]:
            problems.append(f"{name}: not exactly one Service port to its http (and /metrics)")
    assert not problems, "\n".join(problems)


def test_production_spreads_each_workload_over_nodes_and_zones(rendered):
    for deployment in of_kind(rendered("prod"), "Deployment"):
        constraints = pod_spec(deployment).get("topologySpreadConstraints", [])
        keys = {c["topologyKey"] for c in constraints}
        assert keys == {"kubernetes.io/hostname", "topology.kubernetes.io/zone"}
        assert all(c["matchLabelKeys"] == ["pod-template-hash"] for c in constraints)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_each_service_runs_an_api_a_worker_and_a_migration_job(rendered, overlay):
    objects = rendered(overlay)
    roles = {
        (d["metadata"]["labels"]["app.kubernetes.io/name"], env["value"])
        for d in of_kind(objects, "Deployment")
        for env in app_container(d)["env"]
        if env["name"] == "CEM_ROLE"
    }
    expected = {("gateway", "all")} | {(s, role) for s in SERVICES for role in ("api", "worker")}
    assert roles == expected
    migrated = {
        job["metadata"]["labels"]["app.kubernetes.io/name"] for job in of_kind(objects, "Job")
    }
    assert migrated == {"gateway", *SERVICES}


def test_config_maps_hold_only_real_settings(rendered):
    objects = rendered("prod")
    common = environment_names(CommonSettings)
    problems = []
    for config_map in of_kind(objects, "ConfigMap"):
        name = config_map["metadata"]["name"]
        keys = set(config_map.get("data") or {})
        if name == "cem-common":
            known = common
        elif keys:
            known = environment_names(settings_class(name.removesuffix("-config")))
        else:
            continue
        problems += [f"{name}: {key} is no setting" for key in sorted(keys - known)]
    assert not problems, "\n".join(problems)


def test_no_secret_is_committed_and_every_referenced_secret_is_documented(rendered):
    from tests.deploy.test_docs import OPERATIONS

    runbook = OPERATIONS.read_text()
    for overlay in OVERLAYS:
        objects = rendered(overlay)
        assert not of_kind(objects, "Secret"), "Secrets are created by the operator, never here"
        missing = sorted(name for name in _secret_names(objects) if f"`{name}`" not in runbook)
        assert not missing, f"docs/operations.md does not say how to create {missing}"


def _secret_names(objects: list[dict]) -> set[str]:
    names = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("secretRef", "secretKeyRef", "passwordSecret") and "name" in value:
                    names.add(value["name"])
                elif key in ("accessKeyId", "secretAccessKey") and isinstance(value, dict):
                    names.add(value["name"])
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(objects)
    return names


def test_the_gateway_forwards_to_each_service_api(rendered):
    objects = rendered("prod")
    settings = next(
        c for c in of_kind(objects, "ConfigMap") if c["metadata"]["name"] == "gateway-config"
    )
    upstreams = json.loads(settings["data"]["CEM_UPSTREAMS"])
    assert set(upstreams) == set(SERVICES)
    services = {s["metadata"]["name"]: s for s in of_kind(objects, "Service")}
    for name, url in upstreams.items():
        service = services[urlparse(url).hostname]
        assert service["spec"]["selector"] == {
            "app.kubernetes.io/name": name,
            "app.kubernetes.io/component": "api",
        }


def _allowed(policies: list[dict], labels: dict, direction: str, port: int) -> bool:
    for policy in policies:
        if not labels_match(policy["spec"]["podSelector"], labels):
            continue
        for rule in policy["spec"].get(direction, []):
            if any(p["port"] == port for p in rule.get("ports", [])):
                return True
    return False


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_network_policies_deny_everything_but_the_flows_that_exist(rendered, overlay):
    objects = rendered(overlay)
    policies = of_kind(objects, "NetworkPolicy")
    deny_all = [
        p
        for p in policies
        if set(p["spec"]["policyTypes"]) == {"Ingress", "Egress"}
        and "ingress" not in p["spec"]
        and "egress" not in p["spec"]
    ]
    assert len(deny_all) == 1
    for workload in [*of_kind(objects, "Deployment"), *of_kind(objects, "Job")]:
        labels = workload["spec"]["template"]["metadata"]["labels"]
        name = workload["metadata"]["name"]
        component = labels["app.kubernetes.io/component"]
        assert labels_match(deny_all[0]["spec"]["podSelector"], labels), name
        assert _allowed(policies, labels, "egress", 53), f"{name}: no DNS"
        assert _allowed(policies, labels, "egress", 5432), f"{name}: no PostgreSQL"
        needs_nats = component != "migrations"
        assert _allowed(policies, labels, "egress", 4222) == needs_nats, f"{name}: NATS"
        assert _allowed(policies, labels, "ingress", 8000) == needs_nats, f"{name}: scraping"
    gateway = {
        "app.kubernetes.io/part-of": "cem",
        "app.kubernetes.io/name": "gateway",
        "app.kubernetes.io/component": "gateway",
    }
    worker = {
        "app.kubernetes.io/part-of": "cem",
        "app.kubernetes.io/name": "tickets",
        "app.kubernetes.io/component": "worker",
    }
    assert _allowed(policies, gateway, "egress", 8000), "the gateway cannot reach the APIs"
    worker_policies = [p for p in policies if labels_match(p["spec"]["podSelector"], worker)]
    assert all(
        rule.get("from") and all("namespaceSelector" in peer for peer in rule["from"])
        for p in worker_policies
        for rule in p["spec"].get("ingress", [])
    ), "a worker takes traffic from inside the namespace; only Prometheus may reach it"


def durable_consumers(service: str) -> dict[str, str]:
    """The service's durable consumers (as its app subscribes them) -> the stream each reads."""
    from shared.messaging.envelope import stream_name

    app = importlib.import_module(f"services.{service}.main").create_app()
    return {
        f"{service}_{subscription.name}": stream_name(subscription.contract.event_type.service)
        for subscription in app.state.runtime.subscriptions
    }


def test_keda_scales_each_worker_on_the_lag_of_its_real_consumers(rendered):
    objects = rendered("prod-keda")
    scaled = {
        item["spec"]["scaleTargetRef"]["name"]: item for item in of_kind(objects, "ScaledObject")
    }
    hpa_targets = {
        h["spec"]["scaleTargetRef"]["name"] for h in of_kind(objects, "HorizontalPodAutoscaler")
    }
    for service in SERVICES:
        consumers = durable_consumers(service)
        target = f"{service}-worker"
        if not consumers:
            assert target not in scaled, f"{service} has no consumer to scale on"
            continue
        assert target not in hpa_targets, f"{target} has both a KEDA and a CPU autoscaler"
        triggers = {
            trigger["metadata"]["consumer"]: trigger["metadata"]["stream"]
            for trigger in scaled[target]["spec"]["triggers"]
            if trigger["type"] == "nats-jetstream"
        }
        unknown = {name for name in triggers if consumers.get(name) != triggers[name]}
        assert not unknown, f"{target}: no such consumer or stream: {sorted(unknown)}"
        unwatched = set(consumers) - set(triggers)
        assert not unwatched, f"{target}: a backlog here would not scale it: {sorted(unwatched)}"


def test_postgres_has_three_instances_a_role_and_database_per_component_and_backups(rendered):
    objects = rendered("prod")
    cluster = of_kind(objects, "Cluster")[0]
    assert cluster["spec"]["instances"] == 3
    roles = {r["name"]: r["passwordSecret"]["name"] for r in cluster["spec"]["managed"]["roles"]}
    components = ("gateway", *SERVICES)
    # The owner of each database (migrations) and the application role its pods run as.
    assert roles == {c: f"cem-db-{c}" for c in components} | {
        f"{c}_app": f"cem-db-{c}-app" for c in components
    }
    applications = [r for r in cluster["spec"]["managed"]["roles"] if r["name"].endswith("_app")]
    assert all(not r["superuser"] and not r["bypassrls"] for r in applications)
    databases = {d["spec"]["name"]: d["spec"]["owner"] for d in of_kind(objects, "Database")}
    prefix = CommonSettings().database_prefix
    assert databases == {f"{prefix}_{c}": c for c in components}
    store = of_kind(objects, "ObjectStore")[0]["metadata"]["name"]
    (archiver,) = [p for p in cluster["spec"]["plugins"] if p.get("isWALArchiver")]
    assert archiver["parameters"]["barmanObjectName"] == store
    (nightly,) = of_kind(objects, "ScheduledBackup")
    assert nightly["spec"]["cluster"]["name"] == cluster["metadata"]["name"]
    assert nightly["spec"]["pluginConfiguration"]["name"] == archiver["name"]
    for workload in [*of_kind(objects, "Deployment"), *of_kind(objects, "Job")]:
        component = workload["metadata"]["labels"]["app.kubernetes.io/name"]
        keys = {
            env["valueFrom"]["secretKeyRef"]["name"]
            for env in app_container(workload)["env"]
            if "valueFrom" in env
        }
        owner, application = f"cem-db-{component}", f"cem-db-{component}-app"
        expected = {owner, application} if workload["kind"] == "Job" else {application}
        assert keys == expected, workload["metadata"]["name"]
