"""The MLP hub service: state that must outlive a user's server, behind hub-token auth."""
