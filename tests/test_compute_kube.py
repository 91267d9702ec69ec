"""Rendered Kubernetes objects: DaskCluster against the wheel's CRD, the Lightning Job strict."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlp.compute import kube, lightning
from mlp.compute.resources import ProfileResources
from mlp.errors import MLPError

CELL = (Path(__file__).parent / "compute_cell.py").read_text()
GPU = ProfileResources(cpus=4, memory_bytes=16 * 1024**3, gpus=1, image="reg/mlp:1")


def test_dask_cluster_matches_the_crd_and_the_profile():
    spec = kube.render_dask_cluster("My Cluster", workers=3, threads=2, memory=4 * 1024**3, res=GPU)
    kube.validate_dask_cluster(spec)
    assert spec["metadata"]["name"] == "my-cluster"
    worker = spec["spec"]["worker"]
    assert worker["replicas"] == 3
    container = worker["spec"]["containers"][0]
    assert container["image"] == "reg/mlp:1"
    assert container["resources"]["limits"] == {"cpu": "2", "memory": str(4 * 1024**3)}
    assert container["args"][-4:] == ["--nthreads", "2", "--memory-limit", str(4 * 1024**3)]
    assert {"name": "MLP_GPUS", "value": "1"} in container["env"]


def test_crd_validation_catches_mistakes():
    spec = kube.render_dask_cluster("c", workers=1, threads=1, memory=10**9, res=GPU)
    spec["spec"]["worker"]["replicas"] = "three"
    with pytest.raises(MLPError, match="invalid DaskCluster at spec/worker/replicas"):
        kube.validate_dask_cluster(spec)
    spec = kube.render_dask_cluster("c", workers=1, threads=1, memory=10**9, res=GPU)
    spec["spec"]["workerz"] = {}
    with pytest.raises(MLPError, match="workerz"):
        kube.validate_dask_cluster(spec)


def test_lightning_job_is_an_indexed_job_with_ddp_wiring(monkeypatch):
    monkeypatch.setenv("MLP_GPUS", "1")
    monkeypatch.setenv("CPU_LIMIT", "4")
    monkeypatch.setenv("MEM_LIMIT", str(16 * 1024**3))
    opts = lightning.LightningOptions(devices=1, num_nodes=3, max_epochs=2)
    objects = lightning.render_kubernetes(CELL, opts, name="train")  # validates (strict)
    config_map, service, job = objects
    assert [o["kind"] for o in objects] == ["ConfigMap", "Service", "Job"]
    assert "def make_model" in config_map["data"]["cell.py"]
    assert 'if __name__ == "__main__":' in config_map["data"]["train.py"]
    assert service["spec"]["clusterIP"] == "None"
    spec = job["spec"]
    assert spec["completionMode"] == "Indexed"
    assert spec["completions"] == spec["parallelism"] == 3
    pod = spec["template"]["spec"]
    assert pod["subdomain"] == service["metadata"]["name"]
    container = pod["containers"][0]
    env = {e["name"]: e.get("value") or e["valueFrom"] for e in container["env"]}
    assert env["MASTER_ADDR"] == "train-0.train"
    assert env["WORLD_SIZE"] == "3"
    assert "job-completion-index" in env["NODE_RANK"]["fieldRef"]["fieldPath"]
    assert container["resources"]["limits"]["nvidia.com/gpu"] == "1"  # auto -> gpu profile
    assert "--nnodes=3" in container["command"]


def test_cpu_job_has_no_gpu_limit_and_validation_is_strict(monkeypatch):
    monkeypatch.setenv("MLP_GPUS", "0")
    opts = lightning.LightningOptions(devices=2, num_nodes=2)
    objects = lightning.render_kubernetes(CELL, opts)
    assert (
        "nvidia.com/gpu"
        not in objects[2]["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]
    )
    objects[2]["spec"]["completionz"] = 1
    with pytest.raises(MLPError, match="invalid Job"):
        kube.validate_objects(objects)


def test_credentials_detection(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "none"))
    assert not kube.has_credentials()
    with pytest.raises(MLPError, match=r"^no Kubernetes credentials \(KUBECONFIG or in-cluster\)$"):
        kube.require_credentials()
    (tmp_path / "kc").write_text("apiVersion: v1\nkind: Config\n")
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "kc"))
    assert kube.has_credentials()
