"""Streaming: windows, temporal state, concurrency."""
