"""Single source of the toolkit version."""

__version__ = "0.1.0"
