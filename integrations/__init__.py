"""Integrations of UniSync into third-party talking-face training pipelines."""
