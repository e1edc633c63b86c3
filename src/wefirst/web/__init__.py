"""Public pages and consoles: Jinja2 templates, static assets, SVG charts, web sign-in."""
