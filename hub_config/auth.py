"""Authenticator of MLP: NativeAuthenticator plus an admin account ready on first run."""

from __future__ import annotations

from pathlib import Path

import bcrypt
from nativeauthenticator import NativeAuthenticator
from nativeauthenticator.orm import UserInfo
from traitlets import Unicode


class MLPAuthenticator(NativeAuthenticator):
    """Per-user passwords hashed (bcrypt) in the hub database.

    On start the admin user gets the password stored in ``admin_password_file``
    if it has no account yet, so the first login works without a sign-up.
    """

    admin_password_file = Unicode(
        "",
        help="File (mode 0600) holding the generated initial admin password.",
    ).tag(config=True)

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.ensure_admin_account()

    def ensure_admin_account(self) -> None:
        """Create approved accounts for admin users from the password file, once."""
        if not self.admin_password_file or not Path(self.admin_password_file).exists():
            return
        password = Path(self.admin_password_file).read_text().strip()
        for name in sorted(self.admin_users):
            if self.get_user(name) is not None:
                continue
            hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt())
            self.db.add(UserInfo(username=name, password=hashed, is_authorized=True))
            self.db.commit()
            self.log.info("Created the MLP admin account %r", name)
