"""Docker wire shapes (PascalCase JSON) ⇄ typed domain values."""
