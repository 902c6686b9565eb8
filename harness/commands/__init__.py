"""One module per CLI command; each exposes a function that takes plain settings, not argparse."""
