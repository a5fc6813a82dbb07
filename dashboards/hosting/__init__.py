"""Hosted dashboard apps and their releases."""
