"""``batch-audiobook serve``: a live, read-only web page of a batch (see app.py, state.py, static/)."""
