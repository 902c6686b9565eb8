"""Capture: frame sources, the grabber thread, pose and conditions, the crash-safe recorder
and the session format that ``score`` and ``report`` read."""
