"""The NATS Helm values: a three-node JetStream cluster the manifests can reach."""

from urllib.parse import urlparse

import yaml

from tests.deploy.conftest import DEPLOY, of_kind
from tests.deploy.test_docs import OPERATIONS

VALUES = yaml.safe_load((DEPLOY / "nats" / "values.yaml").read_text())
OLDEST_SERVER = (2, 12, 3)


def test_three_jetstream_servers_of_a_recent_version():
    config = VALUES["config"]
    assert config["cluster"] == {"enabled": True, "replicas": 3}
    assert config["jetstream"]["enabled"] and config["jetstream"]["fileStore"]["pvc"]["enabled"]
    version = VALUES["container"]["image"]["tag"].split("-")[0]
    assert tuple(map(int, version.split("."))) >= OLDEST_SERVER
    spread = VALUES["podTemplate"]["topologySpreadConstraints"]["kubernetes.io/hostname"]
    assert spread["whenUnsatisfiable"] == "DoNotSchedule"


def test_the_sync_interval_chosen_is_the_one_documented():
    chosen = VALUES["config"]["jetstream"]["merge"]["sync_interval"]
    assert f"sync_interval: {chosen}" in OPERATIONS.read_text()


def test_the_services_and_keda_reach_the_release_by_its_names(rendered):
    release = VALUES["fullnameOverride"]
    objects = rendered("prod-keda")
    common = next(c for c in of_kind(objects, "ConfigMap") if c["metadata"]["name"] == "cem-common")
    assert urlparse(common["data"]["CEM_NATS_URL"]).hostname == release
    namespace = common["metadata"]["namespace"]
    endpoints = {
        trigger["metadata"]["natsServerMonitoringEndpoint"]
        for scaled in of_kind(objects, "ScaledObject")
        for trigger in scaled["spec"]["triggers"]
        if trigger["type"] == "nats-jetstream"
    }
    assert endpoints == {f"{release}-headless.{namespace}.svc.cluster.local:8222"}
