"""Manager reports: the figures and answer times, derived from the stored outcomes only."""
