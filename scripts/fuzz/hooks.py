"""Schemathesis hooks for scripts/fuzz-openapi (named in scripts/fuzz/schemathesis.toml)."""

import schemathesis

# A Sentry envelope (POST /api/{project_id}/envelope/) is newline-separated text;
# schemathesis has no serializer of its own for the media type.
schemathesis.serializer.alias("application/x-sentry-envelope", "text/plain")
