"""The digital protocol: a universal patch at random placements, scored per variant."""
