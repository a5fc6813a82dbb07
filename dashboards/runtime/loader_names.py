"""Names shared by the loader and the app log (kept apart to avoid an import cycle)."""

APPS_PACKAGE = "dashboards_apps"
