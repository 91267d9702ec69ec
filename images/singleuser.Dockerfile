# User image: JupyterLab + MLP kernels, magics and lab extension.
# Build from the repository root: docker build -f images/singleuser.Dockerfile -t mlp/singleuser .
FROM python:3.11-slim-bookworm

RUN apt-get update && apt-get install -y --no-install-recommends nodejs npm git tini \
    && rm -rf /var/lib/apt/lists/*
RUN useradd -m -u 1000 jovyan
WORKDIR /opt/mlp
COPY constraints.txt requirements.in setup.cfg pyproject.toml README.md ./
COPY mlp ./mlp
COPY mlp_magics ./mlp_magics
COPY hub_config ./hub_config
COPY pipelines_as_notebooks ./pipelines_as_notebooks
COPY bentos ./bentos
COPY kernels ./kernels
COPY jupyter_ext ./jupyter_ext
# torch first and pinned (CPU build; a GPU image swaps this line for a CUDA wheel).
RUN pip install --no-cache-dir -c constraints.txt torch==2.13.0 \
    && pip install --no-cache-dir -c constraints.txt -r requirements.in \
    && pip install --no-cache-dir --no-deps . \
    && (cd jupyter_ext && jlpm install --immutable && jlpm build:prod) \
    && pip install --no-cache-dir --no-deps ./jupyter_ext \
    && mlp kernels install \
    && rm -rf jupyter_ext/node_modules /root/.cache
ENV BENTOML_DO_NOT_TRACK=true
USER jovyan
WORKDIR /home/jovyan
ENTRYPOINT ["tini", "--"]
CMD ["jupyterhub-singleuser"]
