"""Tenants, their members with roles, teams, and the one path through which tenant data is scoped."""
