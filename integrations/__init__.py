"""Integrations of UniSync into other talking-face projects (one sub-package per project)."""
