"""Camera intrinsics from a ChArUco board and printer+camera colour profiles from a chart."""
