"""Offline scoring of recorded sessions: replay through variants, rates, intervals and bins."""
