"""Kubernetes twins of the local backends: rendered objects, their validation, credentials.

- Dask: a ``DaskCluster`` for the dask-kubernetes operator, rendered with its own
  ``make_cluster_spec`` and validated against the CRD shipped in the wheel.
- Lightning: an *indexed* ``Job`` plus a headless ``Service`` and a ``ConfigMap`` with
  the training script. Indexed Jobs are built into Kubernetes (no Kubeflow training
  operator to install), every pod gets a stable DNS name ``<job>-<index>.<service>``
  and its index as ``JOB_COMPLETION_INDEX``, which is all DDP needs: rank 0's pod is
  ``MASTER_ADDR``, the index is the node rank, and ``torchrun`` sets ``RANK``,
  ``LOCAL_RANK`` and ``WORLD_SIZE`` per process. Built with the official client's
  models and validated with kubernetes-validate (strict).
"""

from __future__ import annotations

import copy
import functools
import os
from pathlib import Path
from typing import Any

import yaml

from mlp.compute.resources import ProfileResources, profile_resources
from mlp.errors import MLPError

K8S_VERSION = "1.33.0"
NO_CREDENTIALS = "no Kubernetes credentials (KUBECONFIG or in-cluster)"
SA_TOKEN = Path("/var/run/secrets/kubernetes.io/serviceaccount/token")
MASTER_PORT = 29500


def has_credentials() -> bool:
    """Whether a kubeconfig file or an in-cluster service account is available."""
    kubeconfig = os.environ.get("KUBECONFIG")
    if kubeconfig:
        return any(Path(p).expanduser().is_file() for p in kubeconfig.split(os.pathsep) if p)
    if (Path.home() / ".kube" / "config").is_file():
        return True
    return bool(os.environ.get("KUBERNETES_SERVICE_HOST")) and SA_TOKEN.is_file()


def require_credentials() -> None:
    """Raise the one-line :class:`MLPError` when there is no way to reach a cluster."""
    if not has_credentials():
        raise MLPError(NO_CREDENTIALS)


def _profile_env(res: ProfileResources) -> dict[str, str]:
    env = {k: v for k in ("MLP_PROFILE", "JUPYTERHUB_USER") if (v := os.environ.get(k))}
    env["MLP_GPUS"] = str(res.gpus)
    return env


def _k8s_name(name: str) -> str:
    """A DNS-1123 label from a user-given name."""
    out = "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-")[:40]
    if not out:
        raise MLPError(f"name {name!r} has no letters or digits for a Kubernetes name")
    return out


# ------------------------------------------------------------------------------ Dask


def render_dask_cluster(
    name: str,
    workers: int,
    threads: int,
    memory: int,
    res: ProfileResources | None = None,
) -> dict[str, Any]:
    """Render a ``DaskCluster`` with ``make_cluster_spec``: image, resources, env from the profile.

    Each worker requests and is limited to ``threads`` CPUs and ``memory`` bytes and
    runs with matching ``--nthreads``/``--memory-limit``.
    """
    from dask_kubernetes.operator import make_cluster_spec

    res = res or profile_resources()
    resources = {"cpu": str(threads), "memory": str(memory)}
    spec = make_cluster_spec(
        name=_k8s_name(name),
        image=res.image,
        n_workers=workers,
        resources={"requests": dict(resources), "limits": dict(resources)},
        env=_profile_env(res),
    )
    worker = spec["spec"]["worker"]["spec"]["containers"][0]
    worker["args"] += ["--nthreads", str(threads), "--memory-limit", str(memory)]
    return spec


@functools.cache
def _dask_cluster_schema() -> dict[str, Any]:
    import dask_kubernetes

    crd_file = (
        Path(dask_kubernetes.__file__).parent
        / "operator/deployment/helm/dask-kubernetes-operator/crds/daskcluster.yaml"
    )
    crd = yaml.safe_load(crd_file.read_text())
    schema = copy.deepcopy(crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"])
    _close_objects(schema)
    return schema


def _close_objects(node: Any) -> None:
    """Refuse unknown fields like the API server's pruning would drop them silently."""
    if isinstance(node, dict):
        if (
            "properties" in node
            and "additionalProperties" not in node
            and not node.get("x-kubernetes-preserve-unknown-fields")
        ):
            node["additionalProperties"] = False
        for value in node.values():
            _close_objects(value)
    elif isinstance(node, list):
        for item in node:
            _close_objects(item)


def validate_dask_cluster(obj: dict[str, Any]) -> None:
    """Validate a DaskCluster against the CRD schema shipped in the dask-kubernetes wheel.

    Raises
    ------
    MLPError
        With the first schema violation and its path.
    """
    import jsonschema

    if obj.get("apiVersion") != "kubernetes.dask.org/v1" or obj.get("kind") != "DaskCluster":
        raise MLPError("not a kubernetes.dask.org/v1 DaskCluster")
    body = {k: v for k, v in obj.items() if k not in ("apiVersion", "kind", "metadata")}
    try:
        jsonschema.validate(body, _dask_cluster_schema())
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path)
        raise MLPError(f"invalid DaskCluster at {where}: {exc.message}") from None


# ------------------------------------------------------------------------------ Lightning


def render_lightning_job(
    name: str,
    files: dict[str, str],
    devices: int,
    num_nodes: int,
    accelerator: str,
    res: ProfileResources | None = None,
    namespace: str | None = None,
) -> list[dict[str, Any]]:
    """Render the multi-node Lightning job: ConfigMap (script), headless Service, indexed Job.

    Parameters
    ----------
    name
        Job name (made DNS-safe).
    files
        File name -> content mounted at ``/mlp-job`` (the training script and the cell).
    devices
        Processes (GPUs when ``accelerator="gpu"``) per node.
    num_nodes
        Pods; the Job's ``completions`` and ``parallelism``.
    accelerator
        ``"gpu"`` adds ``nvidia.com/gpu: devices`` limits; ``"cpu"`` does not.
    res
        Profile resources (image, CPU and memory per pod).
    namespace
        Namespace for every object (default: the client's).

    Returns
    -------
    list of dict
        The objects as JSON-ready dicts, in creation order.
    """
    from kubernetes import client as k

    res = res or profile_resources()
    job_name = _k8s_name(name)
    svc_name = job_name  # pods get DNS names <job>-<index>.<svc>
    labels = {"app.kubernetes.io/managed-by": "mlp", "mlp/job": job_name}
    meta = functools.partial(k.V1ObjectMeta, namespace=namespace, labels=labels)
    limits = {"cpu": str(res.cpus), "memory": str(res.memory_bytes)}
    if accelerator == "gpu":
        limits["nvidia.com/gpu"] = str(devices)
    env = [
        k.V1EnvVar(name="MASTER_ADDR", value=f"{job_name}-0.{svc_name}"),
        k.V1EnvVar(name="MASTER_PORT", value=str(MASTER_PORT)),
        k.V1EnvVar(name="WORLD_SIZE", value=str(devices * num_nodes)),
        k.V1EnvVar(
            name="NODE_RANK",
            value_from=k.V1EnvVarSource(
                field_ref=k.V1ObjectFieldSelector(
                    field_path="metadata.annotations['batch.kubernetes.io/job-completion-index']"
                )
            ),
        ),
        *(k.V1EnvVar(name=n, value=v) for n, v in sorted(_profile_env(res).items())),
    ]
    command = [
        "torchrun",
        f"--nnodes={num_nodes}",
        f"--nproc-per-node={devices}",
        "--node-rank=$(NODE_RANK)",
        "--master-addr=$(MASTER_ADDR)",
        "--master-port=$(MASTER_PORT)",
        "/mlp-job/train.py",
    ]
    container = k.V1Container(
        name="trainer",
        image=res.image,
        command=command,
        env=env,
        ports=[k.V1ContainerPort(container_port=MASTER_PORT, name="ddp")],
        resources=k.V1ResourceRequirements(limits=limits, requests=dict(limits)),
        volume_mounts=[k.V1VolumeMount(name="job", mount_path="/mlp-job", read_only=True)],
        working_dir="/tmp",  # noqa: S108 - the script writes its outputs in the pod
    )
    pod = k.V1PodSpec(
        containers=[container],
        restart_policy="Never",
        subdomain=svc_name,
        volumes=[
            k.V1Volume(name="job", config_map=k.V1ConfigMapVolumeSource(name=f"{job_name}-files"))
        ],
    )
    objects = [
        k.V1ConfigMap(
            api_version="v1",
            kind="ConfigMap",
            metadata=meta(name=f"{job_name}-files"),
            data=dict(files),
        ),
        k.V1Service(
            api_version="v1",
            kind="Service",
            metadata=meta(name=svc_name),
            spec=k.V1ServiceSpec(
                cluster_ip="None",
                selector={"mlp/job": job_name},
                ports=[k.V1ServicePort(name="ddp", port=MASTER_PORT)],
                publish_not_ready_addresses=True,
            ),
        ),
        k.V1Job(
            api_version="batch/v1",
            kind="Job",
            metadata=meta(name=job_name),
            spec=k.V1JobSpec(
                completion_mode="Indexed",
                completions=num_nodes,
                parallelism=num_nodes,
                backoff_limit=0,
                template=k.V1PodTemplateSpec(metadata=k.V1ObjectMeta(labels=labels), spec=pod),
            ),
        ),
    ]
    api = k.ApiClient()
    return [api.sanitize_for_serialization(o) for o in objects]


def validate_objects(objects: list[dict[str, Any]]) -> None:
    """Validate rendered objects with kubernetes-validate (strict) for Kubernetes 1.33.

    Raises
    ------
    MLPError
        With the first invalid object's kind and the violation.
    """
    import kubernetes_validate

    for obj in objects:
        try:
            kubernetes_validate.validate(obj, K8S_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            raise MLPError(f"invalid {obj.get('kind')}: {exc.message}") from None


def submit(objects: list[dict[str, Any]], namespace: str | None = None) -> str:
    """Create rendered objects in the cluster; returns the namespace used.

    Raises
    ------
    MLPError
        No credentials, or the API server refused an object (one line).
    """
    require_credentials()
    from kubernetes import client as k
    from kubernetes import config, utils

    try:
        config.load_config()
    except Exception as exc:  # the client raises several unrelated types here
        raise MLPError(f"cannot load Kubernetes credentials: {exc}") from None
    if namespace is None:
        namespace = os.environ.get("POD_NAMESPACE", "default")
    api = k.ApiClient()
    try:
        for obj in objects:
            utils.create_from_dict(api, obj, namespace=namespace)
    except Exception as exc:  # ApiException, FailToCreateError, connection errors
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise MLPError(f"Kubernetes refused the job: {first}") from None
    return namespace
