"""Subcommands of ``%mlp``: one module each, imported here to register them.

To add a subcommand, write ``mlp_magics/commands/<name>.py`` with a function
decorated by :func:`mlp_magics.registry.subcommand` and add one import line below.
"""

import mlp_magics.commands.dask
import mlp_magics.commands.env
import mlp_magics.commands.evaluate
import mlp_magics.commands.help
import mlp_magics.commands.jobs
import mlp_magics.commands.lightning
import mlp_magics.commands.model
import mlp_magics.commands.objectives
import mlp_magics.commands.pipelines
import mlp_magics.commands.stats
import mlp_magics.commands.tune  # noqa: F401 - imported to register
