"""The version of attnfig, at the bottom layer so that any module can read it."""
__version__ = "0.3.0"
