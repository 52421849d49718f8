"""`einspace validate`: every reference the project claims, one table (docs/validation.md)."""
