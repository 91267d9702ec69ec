"""Subcommands of ``%mlp``: one module each, imported here to register them."""

from mlp_magics.commands import env, help  # noqa: F401
