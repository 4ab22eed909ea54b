"""Presentation: what shows the core's answers to a person (HTML for the app, the terminal, JSON), the command
line, the French sentence of each error and the app's helpers. May import the core, never the tools."""
