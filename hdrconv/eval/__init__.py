"""Evaluation: metrics and the eval runner."""
