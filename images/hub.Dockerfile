# Hub image for the Zero-to-JupyterHub chart: its k8s-hub image plus MLP's hub config.
# Build from the repository root: docker build -f images/hub.Dockerfile -t mlp/hub .
ARG Z2JH_HUB_IMAGE=quay.io/jupyterhub/k8s-hub:4.2.0
FROM ${Z2JH_HUB_IMAGE}
USER root
COPY constraints.txt setup.cfg pyproject.toml README.md /opt/mlp/
COPY mlp /opt/mlp/mlp
COPY hub_config /opt/mlp/hub_config
COPY mlp_magics /opt/mlp/mlp_magics
COPY pipelines_as_notebooks /opt/mlp/pipelines_as_notebooks
COPY bentos /opt/mlp/bentos
RUN pip install --no-cache-dir -c /opt/mlp/constraints.txt /opt/mlp psycopg2-binary
USER ${NB_USER}
