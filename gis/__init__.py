"""The spatial core of the monitor: database, schema, registry writes, geography and analytics (no HTTP)."""
