"""The Kubernetes executor renders a valid Job running the same runner in the profile's image."""

from __future__ import annotations

import kubernetes_validate
from kubernetes import client

from pipelines_as_notebooks.executors import KubernetesExecutor, RunSpec


def test_job_manifest_is_valid_and_wired(tmp_path):
    root = tmp_path / "alice"
    (root / "nb").mkdir(parents=True)
    spec = RunSpec(
        run_id="abc123", owner="alice", notebook=root / "nb" / "train.ipynb",
        output=root / ".mlp/runs/abc123/train.output.ipynb", run_dir=root / ".mlp/runs/abc123",
        cwd=root / "nb", parameters={"lr": 0.1}, kernel="mlp-lightgbm-dask", profile="gpu",
        timeout=600,
    )  # fmt: skip
    job = KubernetesExecutor("mlp", "registry.example/mlp/singleuser:0.1").job_manifest(spec, root)
    manifest = client.ApiClient().sanitize_for_serialization(job)
    kubernetes_validate.validate(manifest, "1.33.0", strict=True)
    pod = manifest["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert container["command"] == ["python", "-m", "pipelines_as_notebooks.runner"]
    args = container["args"]
    assert args[args.index("--notebook") + 1] == "/home/jovyan/nb/train.ipynb"
    assert args[args.index("--run-dir") + 1] == "/home/jovyan/.mlp/runs/abc123"
    assert container["resources"]["limits"]["nvidia.com/gpu"] == "1"
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env["MLP_PROFILE"] == "gpu"
    assert env["MLP_RUN_ID"] == "abc123"
    assert pod["volumes"][0]["persistentVolumeClaim"]["claimName"] == "claim-alice"
    assert pod["restartPolicy"] == "Never"
    assert manifest["spec"]["backoffLimit"] == 0
    assert manifest["spec"]["activeDeadlineSeconds"] == 600
