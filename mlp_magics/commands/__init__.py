"""Subcommands of ``%mlp``: one module each, imported here to register them.

To add a subcommand, write ``mlp_magics/commands/<name>.py`` with a function
decorated by :func:`mlp_magics.registry.subcommand` and add one import line below.
"""

import mlp_magics.commands.env
import mlp_magics.commands.help  # noqa: F401 - imported to register
