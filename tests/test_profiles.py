"""Profiles: declared once, validated with the offending key named, offered by the spawner."""

from pathlib import Path

import pytest

from hub_config.profiles import available_profiles, load_profiles, parse_size
from hub_config.spawners import kubespawner_profile_list, render_profile_form
from mlp.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "profiles.yaml"
    path.write_text(text)
    return path


def test_shipped_profiles_load():
    profiles = load_profiles()
    slugs = [p.slug for p in profiles]
    assert slugs == ["cpu-small", "cpu-large", "gpu"]
    assert profiles[0].default
    assert profiles[0].mem_limit == 2 * 1024**3


def test_gpu_profile_only_offered_with_a_gpu():
    profiles = load_profiles()
    assert [p.slug for p in available_profiles(profiles, gpu_count=0)] == ["cpu-small", "cpu-large"]
    assert "gpu" in [p.slug for p in available_profiles(profiles, gpu_count=1)]


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        (
            "profiles:\n  - {slug: a, display_name: A, cpu_limit: 1, mem_limit: 1G, cpus: 3}\n",
            "profiles[a].cpus: unknown key",
        ),
        (
            "profiles:\n  - {slug: a, display_name: A, cpu_limit: -2, mem_limit: 1G}\n",
            "profiles[a].cpu_limit",
        ),
        (
            "profiles:\n  - {slug: a, display_name: A, cpu_limit: 1, mem_limit: lots}\n",
            "profiles[a].mem_limit",
        ),
        ("profiles: []\n", "profiles"),
        ("profile:\n  - {slug: a}\n", "profile: unknown key"),
        (
            "profiles:\n  - {slug: a, display_name: A, cpu_limit: 1, mem_limit: 1G}\n"
            "  - {slug: a, display_name: B, cpu_limit: 1, mem_limit: 1G}\n",
            "duplicate slug 'a'",
        ),
        ("profiles: [\n", "cannot read profiles file"),
    ],
)
def test_broken_profiles_name_the_key(tmp_path, text, needle):
    with pytest.raises(ConfigError) as err:
        load_profiles(write(tmp_path, text))
    assert needle in str(err.value)
    assert "\n" not in str(err.value)


def test_sizes():
    assert parse_size("512M") == 512 * 1024**2
    assert parse_size("1.5Gi") == int(1.5 * 1024**3)
    assert parse_size(1000) == 1000
    with pytest.raises(ValueError, match="size"):
        parse_size("-1G")


def test_spawn_form_lists_profiles_and_preselects_last_choice():
    profiles = available_profiles(load_profiles(), gpu_count=0)
    html = render_profile_form(profiles, "cpu-large")
    assert 'value="cpu-small"' in html
    assert 'value="cpu-large" checked' in html
    assert "gpu" not in html.lower().replace("cpu", "")


def test_kubespawner_profile_list_reuses_the_same_profiles():
    plist = kubespawner_profile_list(load_profiles(), "example/mlp:1")
    by_slug = {p["slug"]: p for p in plist}
    gpu = by_slug["gpu"]["kubespawner_override"]
    assert gpu["extra_resource_limits"] == {"nvidia.com/gpu": "1"}
    assert gpu["environment"]["MLP_PROFILE"] == "gpu"
    small = by_slug["cpu-small"]
    assert small["default"] is True
    assert small["kubespawner_override"]["cpu_limit"] == 1
    assert small["kubespawner_override"]["image"] == "example/mlp:1"
