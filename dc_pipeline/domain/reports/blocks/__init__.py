"""Shared analysis blocks of the reports (SPEC §7 "Shared blocks"): corr, slope, trend, IQR outliers,
period statistics. Pure functions over arrays and frames, each returning a block dict."""
