# JupyterHub configuration of MLP, used by `mlp up` (jupyterhub -f this file).
# All settings come from MLP_* environment variables; see hub_config/hub.py.
from hub_config.hub import configure

configure(c)
