"""Offline corpus tooling (check, import, augment, review, export, fine-tuning config).

Serving code never imports it (tests/test_layering.py)."""
