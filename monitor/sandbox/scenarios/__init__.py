"""Built-in sandbox scenarios (YAML) and the demo configuration."""
