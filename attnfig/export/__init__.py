"""Export: atomic, reproducible saving and batch rendering."""
