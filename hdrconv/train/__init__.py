"""Training: data synthesis, losses, the loop."""
