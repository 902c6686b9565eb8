"""The live view: scoring the newest frame, rolling rates, the dashboard and its keys."""
