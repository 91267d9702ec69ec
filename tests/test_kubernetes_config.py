"""The Kubernetes variant of hub_config: same profiles, KubeSpawner's own pod manifests.

No cluster here: KubeSpawner runs with ``_mock=True`` and a dummy kubeconfig, and
the rendered pods are validated against the Kubernetes schema.
"""

from __future__ import annotations

from types import SimpleNamespace

import kubernetes_validate
import pytest
from traitlets.config import Config

from hub_config.hub import HubSettings, configure

KUBECONFIG = """\
apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:6443"}}]
users: [{name: u, user: {token: x}}]
contexts: [{name: c, context: {cluster: c, user: u, namespace: mlp}}]
current-context: c
"""


@pytest.fixture
def k8s_config(tmp_path, monkeypatch):
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(KUBECONFIG)
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    monkeypatch.setenv("MLP_DATA_DIR", str(tmp_path / "var"))
    c = Config()
    settings = HubSettings.from_env()
    settings.spawner = "kubernetes"
    settings.image = "registry.example/mlp/singleuser:0.1"
    configure(c, settings)
    return c


def test_only_the_spawner_section_differs(tmp_path, monkeypatch, k8s_config):
    monkeypatch.setenv("MLP_DATA_DIR", str(tmp_path / "var"))
    local = Config()
    configure(local, HubSettings.from_env())
    assert local.JupyterHub.services == k8s_config.JupyterHub.services
    assert local.JupyterHub.load_roles == k8s_config.JupyterHub.load_roles
    assert local.JupyterHub.authenticator_class == k8s_config.JupyterHub.authenticator_class
    assert k8s_config.JupyterHub.spawner_class == "kubespawner.KubeSpawner"
    assert local.JupyterHub.spawner_class == "hub_config.spawners.MLPLocalSpawner"


async def pod_for(config: Config, profile: str) -> dict:
    from kubernetes_asyncio.client import ApiClient
    from kubespawner import KubeSpawner

    user = SimpleNamespace(
        name="alice", id=7, url="/user/alice/", escaped_name="alice", server=None
    )
    hub = SimpleNamespace(
        api_url="http://hub:8081/hub/api",
        base_url="/hub/",
        public_host="",
        url="http://hub:8081/hub/",
    )
    spawner = KubeSpawner(config=config, _mock=True, user=user, hub=hub)
    spawner.user_options = {"profile": profile}
    await spawner.load_user_options()
    pod = await spawner.get_pod_manifest()
    async with ApiClient() as client:
        return client.sanitize_for_serialization(pod)


@pytest.mark.parametrize(
    ("profile", "cpu", "mem", "gpu"),
    [("cpu-small", 1, 2 * 1024**3, None), ("gpu", 4, 16 * 1024**3, "1")],
)
async def test_profile_becomes_a_valid_pod(k8s_config, profile, cpu, mem, gpu):
    pod = await pod_for(k8s_config, profile)
    kubernetes_validate.validate(pod, "1.33.0", strict=True)
    container = pod["spec"]["containers"][0]
    assert container["image"] == "registry.example/mlp/singleuser:0.1"
    limits = container["resources"]["limits"]
    assert float(limits["cpu"]) == cpu
    assert int(limits["memory"]) == mem
    assert limits.get("nvidia.com/gpu") == gpu
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["MLP_PROFILE"] == profile
    assert env["MLP_SERVICE_URL"].endswith("/services/mlp/")


def test_z2jh_values_embed_the_same_hub_config(tmp_path, monkeypatch):
    """The chart's extraConfig, run as the chart's hub would, configures KubeSpawner."""
    import yaml

    from hub_config import HERE

    values = yaml.safe_load((HERE / "z2jh-values.yaml").read_text())
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(KUBECONFIG)
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    for key, value in values["hub"]["extraEnv"].items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("MLP_DATA_DIR", str(tmp_path / "srv"))
    c = Config()
    exec(values["hub"]["extraConfig"]["00-mlp"], {"c": c})  # noqa: S102 - our own config snippet
    assert c.JupyterHub.spawner_class == "kubespawner.KubeSpawner"
    assert "db_url" not in c.JupyterHub  # the chart sets it
    assert "ConfigurableHTTPProxy" not in c
    service = c.JupyterHub.services[0]
    assert service["url"] == "http://hub:10101"
    assert service["environment"]["MLP_DB_URL"].startswith("postgresql")
    slugs = [p["slug"] for p in c.KubeSpawner.profile_list]
    assert slugs == ["cpu-small", "cpu-large", "gpu"]
    assert values["hub"]["service"]["extraPorts"][0]["port"] == 10101
