"""Hooks: the ``vtex`` connection and the HTTP client for VTEX's OMS API."""
