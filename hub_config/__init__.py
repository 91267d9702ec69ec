"""Hub configuration of MLP: profiles, spawner sections and the JupyterHub config file."""

from pathlib import Path

HERE = Path(__file__).resolve().parent
CONFIG_FILE = HERE / "jupyterhub_config.py"
PROFILES_FILE = HERE / "profiles.yaml"
