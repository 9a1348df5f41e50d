"""Word lists for the language detector (monitor.language)."""
