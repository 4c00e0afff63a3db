"""Experiment designs, the study runner and the statistics that turn outcomes into conclusions."""
