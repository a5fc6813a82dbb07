"""Running the platform: health checks, the embedded Redis, and the `make run` process supervisor."""
