"""Analyses assembled from a configuration: builders for each step, and whole pipelines."""
