"""Executors: where a notebook run executes. One interface, two backends.

- :class:`LocalExecutor`: a subprocess per notebook (the papermill runner) in its
  own process group, killed with its kernel on cancel and timeout.
- :class:`KubernetesExecutor`: a Kubernetes Job per notebook, running the same
  runner in the owner's profile image with the owner's volume.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlp.process import die_with_parent, kill_tree
from pipelines_as_notebooks.runner import RESULT_FILE


@dataclass
class RunSpec:
    """What an executor needs to run one notebook."""

    run_id: str
    owner: str
    notebook: Path
    output: Path
    run_dir: Path
    cwd: Path
    parameters: dict[str, Any] = field(default_factory=dict)
    kernel: str | None = None
    profile: str | None = None
    timeout: float | None = None

    def runner_args(self) -> list[str]:
        """Command-line arguments of :mod:`pipelines_as_notebooks.runner`."""
        args = [
            "--notebook",
            str(self.notebook),
            "--output",
            str(self.output),
            "--run-dir",
            str(self.run_dir),
            "--cwd",
            str(self.cwd),
            "--parameters",
            json.dumps(self.parameters),
        ]
        if self.kernel:
            args += ["--kernel", self.kernel]
        return args


@dataclass
class Outcome:
    """How a finished run ended."""

    status: str  # succeeded | failed
    error: str | None = None


class Executor(ABC):
    """Starts, watches and stops notebook runs."""

    name = "base"

    @abstractmethod
    def start(self, spec: RunSpec) -> int | None:
        """Start the run; return a process id when there is one."""

    @abstractmethod
    def poll(self, run_id: str) -> Outcome | None:
        """None while the run executes, its outcome once it ended."""

    @abstractmethod
    def cancel(self, run_id: str) -> None:
        """Stop the run and everything it started."""

    def running(self) -> list[str]:
        """Ids of the runs this executor is executing now."""
        return []

    def close(self) -> None:  # noqa: B027 - an optional hook: most executors hold nothing
        """Release what the executor holds (idle resources); runs are not touched."""


def notebook_kernel(notebook: Path) -> str | None:
    """The kernel named in a notebook's metadata (None if it names none)."""
    try:
        meta = json.loads(notebook.read_text()).get("metadata", {})
    except (OSError, ValueError):
        return None
    name = meta.get("kernelspec", {}).get("name")
    return str(name) if name else None


class KernelPool:
    """Runner processes that have already started a kernel, waiting for one job each.

    Parameters
    ----------
    size
        Waiting runners kept per kernel name (0 disables the pool).
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._waiting: dict[str, list[subprocess.Popen[bytes]]] = {}
        self._ready: set[int] = set()

    def _spawn(self, kernel: str) -> None:
        proc = subprocess.Popen(
            [sys.executable, "-m", "pipelines_as_notebooks.runner", "--warm", kernel],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=die_with_parent,
        )
        self._waiting.setdefault(kernel, []).append(proc)

    @staticmethod
    def _release(proc: subprocess.Popen[bytes]) -> None:
        for pipe in (proc.stdin, proc.stdout):
            if pipe is not None and not pipe.closed:
                pipe.close()

    def fill(self, kernel: str) -> None:
        """Start runners until ``size`` wait for ``kernel``."""
        alive = []
        for proc in self._waiting.get(kernel, []):
            if proc.poll() is None:
                alive.append(proc)
            else:  # a waiting runner died (e.g. its kernel failed to start)
                self._release(proc)
        self._waiting[kernel] = alive
        for _ in range(self.size - len(alive)):
            self._spawn(kernel)

    def take(self, kernel: str, job: dict[str, Any]) -> subprocess.Popen[bytes] | None:
        """Hand ``job`` to a ready runner of ``kernel``; None if none is ready yet."""
        if self.size <= 0:
            return None
        chosen = None
        for proc in self._waiting.get(kernel, []):
            if proc.poll() is None and self._is_ready(proc):
                chosen = proc
                break
        if chosen is not None:
            self._waiting[kernel].remove(chosen)
            assert chosen.stdin is not None
            chosen.stdin.write((json.dumps(job) + "\n").encode())
            self._release(chosen)  # the runner logs to the run's log file from now on
        self.fill(kernel)
        return chosen

    def _is_ready(self, proc: subprocess.Popen[bytes]) -> bool:
        if proc.pid in self._ready:
            return True
        assert proc.stdout is not None
        readable, _, _ = select.select([proc.stdout], [], [], 0)
        if readable and proc.stdout.readline().strip() == b"READY":
            self._ready.add(proc.pid)
            return True
        return False

    def close(self) -> None:
        """Stop every waiting runner and its kernel."""
        for procs in self._waiting.values():
            for proc in procs:
                kill_tree(proc.pid, grace=2)
                self._release(proc)
                proc.wait(5)
        self._waiting.clear()


class LocalExecutor(Executor):
    """A subprocess per notebook on this machine, preferably one with a kernel already started.

    Parameters
    ----------
    pool_size
        Pre-started kernels kept per kernel name (``MLP_KERNEL_POOL``, default 1).
    """

    name = "local"

    def __init__(self, pool_size: int | None = None) -> None:
        self._procs: dict[str, tuple[subprocess.Popen[bytes], RunSpec]] = {}
        size = int(os.environ.get("MLP_KERNEL_POOL", "1")) if pool_size is None else pool_size
        self.pool = KernelPool(size)

    def start(self, spec: RunSpec) -> int | None:
        """Hand the run to a pre-started kernel, or launch a fresh runner.

        Either way it runs in its own session and logs into ``run_dir/log.txt``.
        """
        spec.run_dir.mkdir(parents=True, exist_ok=True)
        (spec.run_dir / RESULT_FILE).unlink(missing_ok=True)
        kernel = spec.kernel or notebook_kernel(spec.notebook)
        run_env = {"MLP_RUN_ID": spec.run_id, "JUPYTERHUB_USER": spec.owner}
        if spec.profile:
            run_env["MLP_PROFILE"] = spec.profile
        if kernel:
            job = {
                "notebook": str(spec.notebook), "output": str(spec.output),
                "run_dir": str(spec.run_dir), "cwd": str(spec.cwd),
                "parameters": spec.parameters, "env": run_env,
            }  # fmt: skip
            warm = self.pool.take(kernel, job)
            if warm is not None:
                self._procs[spec.run_id] = (warm, spec)
                return warm.pid
        env = dict(os.environ)
        env.update({"MLP_RUN_DIR": str(spec.run_dir), "PYTHONUNBUFFERED": "1", **run_env})
        with open(spec.run_dir / "log.txt", "ab") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "pipelines_as_notebooks.runner", *spec.runner_args()],
                cwd=spec.cwd,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                # A dead service must not leave runs executing unseen; they are recovered.
                preexec_fn=die_with_parent,
            )
        self._procs[spec.run_id] = (proc, spec)
        return proc.pid

    def poll(self, run_id: str) -> Outcome | None:
        """Read ``result.json`` once the runner exited."""
        entry = self._procs.get(run_id)
        if entry is None:
            return Outcome("failed", "the executor lost this run")
        proc, spec = entry
        if proc.poll() is None:
            return None
        del self._procs[run_id]
        result_file = spec.run_dir / RESULT_FILE
        if result_file.exists():
            result = json.loads(result_file.read_text())
            return Outcome(result["status"], result.get("error"))
        return Outcome("failed", f"runner exited with code {proc.returncode} and no result")

    def cancel(self, run_id: str) -> None:
        """Kill the runner, its kernel and anything they started."""
        entry = self._procs.pop(run_id, None)
        if entry is not None:
            kill_tree(entry[0].pid)
            entry[0].wait(10)

    def running(self) -> list[str]:
        """Runs whose runner is still alive."""
        return list(self._procs)

    def close(self) -> None:
        """Stop the pre-started kernels."""
        self.pool.close()


class KubernetesExecutor(Executor):
    """A Kubernetes Job per notebook: the same runner in the owner's profile image.

    Parameters
    ----------
    namespace
        Namespace of the Jobs (the hub's).
    image
        Default user image (a profile's ``image`` overrides it).
    home_mount
        Where the owner's volume is mounted; run paths are rewritten below it.
    """

    name = "kubernetes"

    def __init__(self, namespace: str, image: str, home_mount: str = "/home/jovyan") -> None:
        self.namespace = namespace
        self.image = image
        self.home_mount = home_mount
        self._api: Any = None

    def job_manifest(self, spec: RunSpec, root: Path) -> Any:
        """The Job running ``spec`` (a ``kubernetes.client.V1Job``)."""
        from kubernetes import client

        from hub_config.profiles import load_profiles
        from hub_config.spawners import profile_env

        profiles = {p.slug: p for p in load_profiles()}
        profile = profiles.get(spec.profile or "") or next(iter(profiles.values()))

        def remap(path: Path) -> str:
            return str(Path(self.home_mount) / path.resolve().relative_to(root.resolve()))

        args = [
            "--notebook", remap(spec.notebook), "--output", remap(spec.output),
            "--run-dir", remap(spec.run_dir), "--cwd", remap(spec.cwd),
            "--parameters", json.dumps(spec.parameters),
        ]  # fmt: skip
        if spec.kernel:
            args += ["--kernel", spec.kernel]
        limits = {"cpu": f"{profile.cpu_limit:g}", "memory": str(profile.mem_limit)}
        if profile.gpus:
            limits["nvidia.com/gpu"] = str(profile.gpus)
        env = {
            **profile_env(profile),
            "MLP_RUN_DIR": remap(spec.run_dir),
            "MLP_RUN_ID": spec.run_id,
            "JUPYTERHUB_USER": spec.owner,
        }
        labels = {
            "app.kubernetes.io/name": "mlp-run",
            "app.kubernetes.io/part-of": "mlp",
            "mlp/run-id": spec.run_id,
            "mlp/owner": spec.owner,
        }
        container = client.V1Container(
            name="runner",
            image=profile.image or self.image,
            command=["python", "-m", "pipelines_as_notebooks.runner"],
            args=args,
            working_dir=remap(spec.cwd),
            env=[client.V1EnvVar(name=k, value=v) for k, v in env.items()],
            resources=client.V1ResourceRequirements(limits=limits, requests=limits),
            volume_mounts=[client.V1VolumeMount(name="home", mount_path=self.home_mount)],
        )
        pod = client.V1PodSpec(
            restart_policy="Never",
            containers=[container],
            # The Zero-to-JupyterHub chart names user volumes claim-<user>.
            volumes=[
                client.V1Volume(
                    name="home",
                    persistent_volume_claim=client.V1PersistentVolumeClaimVolumeSource(
                        claim_name=f"claim-{spec.owner}"
                    ),
                )
            ],
            security_context=client.V1PodSecurityContext(run_as_user=1000, fs_group=100),
        )
        return client.V1Job(
            api_version="batch/v1",
            kind="Job",
            metadata=client.V1ObjectMeta(name=f"mlp-run-{spec.run_id}", labels=labels),
            spec=client.V1JobSpec(
                backoff_limit=0,  # retries are the service's, with backoff and a record each
                active_deadline_seconds=int(spec.timeout) if spec.timeout else None,
                ttl_seconds_after_finished=3600,
                template=client.V1PodTemplateSpec(
                    metadata=client.V1ObjectMeta(labels=labels), spec=pod
                ),
            ),
        )

    def _batch(self) -> Any:
        if self._api is None:
            from kubernetes import client, config

            try:
                config.load_incluster_config()
            except config.ConfigException:
                config.load_kube_config()
            self._api = client.BatchV1Api()
        return self._api

    def start(self, spec: RunSpec) -> int | None:
        """Create the Job."""
        from pipelines_as_notebooks.paths import user_root

        self._batch().create_namespaced_job(
            self.namespace, self.job_manifest(spec, user_root(spec.owner))
        )
        return None

    def poll(self, run_id: str) -> Outcome | None:
        """Read the Job's status."""
        job = self._batch().read_namespaced_job_status(f"mlp-run-{run_id}", self.namespace)
        if job.status.succeeded:
            return Outcome("succeeded")
        if job.status.failed:
            return Outcome("failed", "the Job's pod failed; see its log")
        return None

    def cancel(self, run_id: str) -> None:
        """Delete the Job and its pod."""
        self._batch().delete_namespaced_job(
            f"mlp-run-{run_id}", self.namespace, propagation_policy="Foreground"
        )
