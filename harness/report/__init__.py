"""The PDF report of scored sessions: plots, tables and a conclusion, in English or Japanese."""
