"""Users, workspaces and their settings, behind the ``AccountStore`` protocol."""
