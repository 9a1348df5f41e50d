"""The web dashboard: Flask app (`app`), identity and roles (`auth`), pages (`pages`, `queries`),
language (`i18n`), and the waitress server that runs it (`server`)."""
