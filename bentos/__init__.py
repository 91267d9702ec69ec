"""BentoML services and model release (see the models issue)."""
