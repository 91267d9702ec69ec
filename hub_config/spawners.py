"""Spawner sections of the hub: local processes (embedded default) or Kubernetes pods.

Both consume the same validated :mod:`hub_config.profiles`; only this module
differs between the two deployments.
"""

from __future__ import annotations

import html
import os
import sys
from pathlib import Path
from typing import Any, ClassVar

from jupyterhub.spawner import SimpleLocalProcessSpawner
from tornado import web
from traitlets import Unicode, default

from hub_config.profiles import Profile, available_profiles, default_profile, load_profiles


def profile_env(profile: Profile) -> dict[str, str]:
    """Environment variables that tell a user's server which profile it runs in."""
    return {
        "MLP_PROFILE": profile.slug,
        "MLP_PROFILE_NAME": profile.display_name,
        "CPU_LIMIT": f"{profile.cpu_limit:g}",
        "MEM_LIMIT": str(profile.mem_limit),
        "MLP_GPUS": str(profile.gpus),
    }


def render_profile_form(profiles: list[Profile], selected: str | None = None) -> str:
    """HTML radio list of profiles for the hub's spawn page."""
    chosen = selected or default_profile(profiles).slug
    items = []
    for p in profiles:
        checked = " checked" if p.slug == chosen else ""
        items.append(
            '<div class="form-check mb-2">'
            f'<input class="form-check-input" type="radio" name="profile" '
            f'id="profile-{p.slug}" value="{p.slug}"{checked}>'
            f'<label class="form-check-label" for="profile-{p.slug}">'
            f"<strong>{html.escape(p.display_name)}</strong> "
            f'<span class="text-muted">{html.escape(p.description)}</span></label></div>'
        )
    return (
        '<fieldset class="mlp-profiles"><legend>Server profile</legend>'
        + "".join(items)
        + ("</fieldset>")
    )


class MLPLocalSpawner(SimpleLocalProcessSpawner):
    """Local process spawner with MLP profiles and a per-user root under the data dir.

    Every user's server runs as the hub's OS user, rooted in
    ``<data dir>/users/<name>``; the chosen profile reaches the server through
    its environment and its CPU count is enforced with a CPU affinity mask.
    """

    profiles_file = Unicode(
        "",
        help="Path of the profiles YAML file; empty means hub_config/profiles.yaml.",
    ).tag(config=True)

    mlp_service_url = Unicode(
        "",
        help="Direct URL of the MLP service, given to servers as MLP_SERVICE_URL.",
    ).tag(config=True)

    @default("home_dir_template")
    def _home_template(self) -> str:
        from mlp.config import data_dir

        return str(data_dir() / "users" / "{username}")

    def _profiles(self) -> list[Profile]:
        path = Path(self.profiles_file) if self.profiles_file else None
        return available_profiles(load_profiles(path))

    @default("options_form")
    def _options_form_default(self) -> Any:
        def form(spawner: MLPLocalSpawner) -> str:
            last = (
                (spawner.orm_spawner.user_options or {}).get("profile")
                if spawner.orm_spawner
                else None
            )
            return render_profile_form(spawner._profiles(), last)

        return form

    @default("options_from_form")
    def _options_from_form_default(self) -> Any:
        def parse(formdata: dict[str, list[str]]) -> dict[str, str]:
            return {"profile": formdata.get("profile", [""])[0]}

        return parse

    @default("apply_user_options")
    def _apply_default(self) -> Any:
        def apply(spawner: MLPLocalSpawner, options: dict[str, Any]) -> None:
            spawner.apply_profile(options)

        return apply

    profile: Profile | None = None

    def apply_profile(self, options: dict[str, Any]) -> None:
        """Select the profile named by ``options['profile']`` (default if absent).

        Raises
        ------
        tornado.web.HTTPError
            400 naming the valid profiles when the name is unknown or extra keys are given.
        """
        profiles = self._profiles()
        unknown = set(options) - {"profile"}
        if unknown:
            raise web.HTTPError(400, f"unknown server option(s): {', '.join(sorted(unknown))}")
        slug = options.get("profile") or default_profile(profiles).slug
        by_slug = {p.slug: p for p in profiles}
        if slug not in by_slug:
            names = ", ".join(by_slug)
            raise web.HTTPError(400, f"unknown profile {slug!r}; choose one of: {names}")
        self.profile = by_slug[slug]
        self.cpu_limit = self.profile.cpu_limit
        self.mem_limit = self.profile.mem_limit

    def get_env(self) -> dict[str, str]:
        """Add the profile and the MLP service URL to the server's environment."""
        env: dict[str, str] = super().get_env()
        if self.profile is None:
            self.apply_profile(self.user_options or {})
        assert self.profile is not None
        env.update(profile_env(self.profile))
        env["MLP_USER_ROOT"] = self.home_dir
        # Kernels save models where the MLP service reads them (bentos.registry.store_root).
        env["MLP_MODEL_STORE"] = model_store_root()
        if self.mlp_service_url:
            env["MLP_SERVICE_URL"] = self.mlp_service_url
        # Kernels and tools come from the same environment as the hub.
        env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", os.defpath)
        return env

    #: Rotates the first core handed out, so servers spread over the machine.
    _next_core: ClassVar[int] = 0

    def cpu_set(self) -> set[int] | None:
        """The cores this server may use: ``cpu_limit`` of them, rotating the start.

        Successive servers start on successive cores so that, with several small
        servers, the whole machine is used rather than its first cores only.
        """
        if not self.profile or not hasattr(os, "sched_getaffinity"):
            return None
        usable = sorted(os.sched_getaffinity(0))
        count = min(max(1, int(self.profile.cpu_limit)), len(usable))
        if count >= len(usable):
            return set(usable)
        start = MLPLocalSpawner._next_core % len(usable)
        MLPLocalSpawner._next_core += count
        return {usable[(start + i) % len(usable)] for i in range(count)}

    def make_preexec_fn(self, name: str) -> Any:
        """Create the user's root and pin the server to its cores (see :meth:`cpu_set`)."""
        base = super().make_preexec_fn(name)
        cores = self.cpu_set()

        def preexec() -> None:
            base()
            if cores:
                os.sched_setaffinity(0, cores)

        return preexec


def kubespawner_profile_list(profiles: list[Profile], default_image: str) -> list[dict[str, Any]]:
    """Translate MLP profiles into KubeSpawner's ``profile_list``.

    Parameters
    ----------
    profiles
        Validated profiles (all of them: a cluster may have GPU nodes).
    default_image
        Image used by profiles that name none.
    """
    out = []
    for p in profiles:
        override: dict[str, Any] = {
            "image": p.image or default_image,
            "cpu_limit": p.cpu_limit,
            "cpu_guarantee": p.cpu_limit / 2,
            "mem_limit": p.mem_limit,
            "mem_guarantee": p.mem_limit // 2,
            "environment": profile_env(p),
        }
        if p.gpus:
            override["extra_resource_limits"] = {"nvidia.com/gpu": str(p.gpus)}
            override["extra_resource_guarantees"] = {"nvidia.com/gpu": str(p.gpus)}
            override["tolerations"] = [
                {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
            ]
        out.append(
            {
                "display_name": p.display_name,
                "slug": p.slug,
                "description": p.description,
                "default": p.default,
                "kubespawner_override": override,
            }
        )
    return out


def model_store_root() -> str:
    """Root of the per-user BentoML homes shared by kernels and the MLP service."""
    from mlp.config import data_dir

    return os.environ.get("MLP_MODEL_STORE") or str(data_dir() / "bentoml")
