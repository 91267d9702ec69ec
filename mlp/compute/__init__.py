"""Distributed compute from a notebook: Dask clusters, Lightning jobs, tuning, job records.

Shared by the ``%mlp`` magics and the lab's server extension; never imports a front end.
"""
