"""``pipeline.yaml``: a DAG of parameterized notebooks, validated with file and line.

.. code-block:: yaml

    name: six_steps
    concurrency: 2            # nodes that may run at once
    nodes:
      features:
        notebook: 01_features.ipynb
        parameters: {n_rows: 5000}
        inputs: [data/raw.csv]   # files whose changes re-run the node
      train:
        notebook: 02_train.ipynb
        needs: [features]
        parameters: {learning_rate: 0.1}
        timeout: 600
        retries: 1
"""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from mlp.errors import MLPError
from pipelines_as_notebooks.paths import confine

_PY_TYPES = {"int": (int,), "float": (int, float), "str": (str,), "bool": (bool,)}


class PipelineError(MLPError):
    """A pipeline file is invalid; the message names the file and line."""


class Node(BaseModel):
    """One notebook of a pipeline."""

    model_config = ConfigDict(extra="forbid")

    notebook: str
    parameters: dict[str, Any] = Field(default_factory=dict)
    needs: list[str] = Field(default_factory=list)
    inputs: list[str] = Field(default_factory=list)
    kernel: str | None = None
    profile: str | None = None
    timeout: float | None = Field(default=None, gt=0)
    retries: int = Field(default=0, ge=0, le=10)


class Pipeline(BaseModel):
    """A validated pipeline file."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    concurrency: int = Field(default=2, ge=1, le=32)
    nodes: dict[str, Node] = Field(min_length=1)

    def order(self) -> list[str]:
        """Node names in a dependency-respecting order."""
        sorter = graphlib.TopologicalSorter({n: set(s.needs) for n, s in self.nodes.items()})
        return list(sorter.static_order())

    def downstream(self, start: str) -> set[str]:
        """``start`` and every node that depends on it, directly or not."""
        found = {start}
        changed = True
        while changed:
            changed = False
            for name, node in self.nodes.items():
                if name not in found and found.intersection(node.needs):
                    found.add(name)
                    changed = True
        return found


def _line(root: yaml.Node | None, path: list[str | int]) -> int:
    """1-based line of the YAML node at ``path`` (the closest existing parent)."""
    node = root
    line = (root.start_mark.line + 1) if root is not None else 1
    for key in path:
        if isinstance(node, yaml.MappingNode):
            match = next((v for k, v in node.value if k.value == key), None)
            if match is None:
                key_node = next((k for k, _ in node.value if k.value == key), None)
                return (key_node.start_mark.line + 1) if key_node else line
            node = match
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
        else:
            break
        line = node.start_mark.line + 1
    return line


def load_pipeline(path: Path, root: Path | None = None, check_notebooks: bool = True) -> Pipeline:
    """Parse and validate a pipeline file.

    Parameters
    ----------
    path
        The ``pipeline.yaml`` file.
    root
        The user's root; notebooks and inputs must stay inside it (default: no check).
    check_notebooks
        Whether to check that notebooks exist and parameter types match their defaults.

    Raises
    ------
    PipelineError
        ``FILE:LINE: what is wrong`` for malformed YAML, unknown keys, cycles,
        unknown ``needs``, missing notebooks and parameters of the wrong type.
    """
    name = path.name
    try:
        text = path.read_text()
    except OSError as exc:
        raise PipelineError(f"{name}: cannot read: {exc.strerror}") from None
    try:
        tree = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{name}:{mark.line + 1}" if mark else name
        raise PipelineError(f"{where}: malformed YAML: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(data, dict):
        raise PipelineError(f"{name}:1: expected a mapping with name and nodes")
    try:
        pipeline = Pipeline.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = list(err["loc"])
        msg = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
        raise PipelineError(
            f"{name}:{_line(tree, loc)}: {'.'.join(map(str, loc))}: {msg}"
        ) from None
    for node_name, node in pipeline.nodes.items():
        for need in node.needs:
            if need not in pipeline.nodes:
                line = _line(tree, ["nodes", node_name, "needs"])
                known = ", ".join(pipeline.nodes)
                raise PipelineError(
                    f"{name}:{line}: node {node_name!r} needs unknown node {need!r} "
                    f"(nodes: {known})"
                )
    try:
        pipeline.order()
    except graphlib.CycleError as exc:
        cycle = " -> ".join(exc.args[1])
        first = exc.args[1][0]
        raise PipelineError(f"{name}:{_line(tree, ['nodes', first])}: cycle: {cycle}") from None
    if check_notebooks:
        base = path.parent
        for node_name, node in pipeline.nodes.items():
            nb_path = _node_path(
                base, root, node.notebook, name, _line(tree, ["nodes", node_name, "notebook"])
            )
            _check_parameters(nb_path, node, node_name, name, tree)
            for i, inp in enumerate(node.inputs):
                _node_path(
                    base,
                    root,
                    inp,
                    name,
                    _line(tree, ["nodes", node_name, "inputs", i]),
                    must_exist=False,
                )
    return pipeline


def _node_path(
    base: Path, root: Path | None, rel: str, fname: str, line: int, must_exist: bool = True
) -> Path:
    full = (base / rel) if not Path(rel).is_absolute() else Path(rel)
    if root is not None:
        try:
            return confine(root, str(full), must_exist=must_exist)
        except MLPError as exc:
            raise PipelineError(f"{fname}:{line}: {exc}") from None
    if must_exist and not full.exists():
        raise PipelineError(f"{fname}:{line}: notebook {rel!r} not found")
    return full


def _declared_type(spec: dict[str, Any]) -> str | None:
    """Type of a notebook parameter: its annotation, else the type of its default literal."""
    name = str(spec.get("inferred_type_name"))
    if name in _PY_TYPES:
        return name
    try:
        default = ast.literal_eval(str(spec.get("default")))
    except (ValueError, SyntaxError):
        return None
    if default is None:
        return None
    return type(default).__name__


def _check_parameters(nb: Path, node: Node, node_name: str, fname: str, tree: yaml.Node) -> None:
    """Compare given parameters with the types of the notebook's parameters cell."""
    import papermill

    try:
        declared = papermill.inspect_notebook(str(nb))
    except Exception as exc:  # papermill raises several kinds for unreadable notebooks
        line = _line(tree, ["nodes", node_name, "notebook"])
        raise PipelineError(
            f"{fname}:{line}: cannot read notebook {node.notebook!r}: {exc}"
        ) from None
    for key, value in node.parameters.items():
        spec = declared.get(key)
        if spec is None:
            continue  # papermill injects unknown parameters too; allowed
        type_name = _declared_type(spec)
        types = _PY_TYPES.get(type_name or "")
        if types is None or value is None:
            continue
        # bool is an int in Python, but True is no learning rate.
        wrong_bool = isinstance(value, bool) and bool not in types
        if wrong_bool or not isinstance(value, types):
            line = _line(tree, ["nodes", node_name, "parameters", key])
            raise PipelineError(
                f"{fname}:{line}: parameter {key!r} of node {node_name!r} must be "
                f"{type_name} (notebook default {spec.get('default')}), "
                f"got {type(value).__name__} {value!r}"
            )
