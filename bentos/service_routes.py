"""MLP service endpoints of the model registry (read straight from BentoML's store).

``GET    api/models``                          your models (admins: everyone's);
                                              filters ``?user=``, ``?name=``
``GET    api/models/{user}/{name[:version]}``  one model version
``DELETE api/models/{user}/{name:version}``    delete it
``GET    api/models/{user}/compare?a=&b=``      two versions side by side

Another user's namespace is a 404 for non-admins, so names do not leak.
"""

from __future__ import annotations

from bentos import registry
from mlp.errors import MLPError
from mlp.service.app import BaseHandler


class ModelsHandler(BaseHandler):
    """``GET api/models``."""

    def get(self) -> None:
        """List model versions visible to the caller, newest first."""
        name = self.get_argument("name", None)
        user = self.get_argument("user", None)
        if user:
            self.require_owner_or_admin(user)
            models = registry.list_models(name, user=user)
        elif self.is_admin:
            models = registry.list_models(name, all_users=True)
        else:
            models = registry.list_models(name, user=self.user["name"])
        self.write_json({"models": models})


class ModelHandler(BaseHandler):
    """``GET`` / ``DELETE api/models/{user}/{tag}``."""

    def get(self, user: str, tag: str) -> None:
        """Describe one model version."""
        self.require_owner_or_admin(user)
        self.write_json(registry.show(tag, user=user))

    def delete(self, user: str, tag: str) -> None:
        """Delete one model version (an explicit ``name:version`` is required)."""
        self.require_owner_or_admin(user)
        if ":" not in tag or tag.endswith(":latest"):
            raise MLPError("name the version to delete: NAME:VERSION")
        self.write_json({"deleted": registry.delete(tag, user=user)})


class CompareHandler(BaseHandler):
    """``GET api/models/{user}/compare?a=TAG&b=TAG``."""

    def get(self, user: str) -> None:
        """Metrics of two versions side by side."""
        self.require_owner_or_admin(user)
        a, b = self.get_argument("a", ""), self.get_argument("b", "")
        if not a or not b:
            raise MLPError("pass the two versions to compare: ?a=NAME:VERSION&b=NAME:VERSION")
        self.write_json(registry.compare(a, b, user=user))


ROUTES = [
    ("api/models", ModelsHandler),
    ("api/models/([^/]+)/compare", CompareHandler),
    ("api/models/([^/]+)/([^/]+)", ModelHandler),
]
