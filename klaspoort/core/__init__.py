"""Project-level machinery that needs an AppConfig but has no models (system checks, the SQLite
backend that makes its folder on first connection)."""
