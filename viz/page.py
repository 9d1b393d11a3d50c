"""The shell of every HTML page the project writes (the stepper, project 04's playground, the gallery), and
JSON that is safe inside a ``<script>`` element."""

from __future__ import annotations

import html
import json


def html_page(title: str, style: str, body: str) -> str:
    """A whole UTF-8 page: ``title`` (escaped), ``style`` in a ``<style>`` element, ``body`` as it is."""
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<style>{style}</style>
</head>
<body>
{body}
</body>
</html>
"""


def json_for_script(data: object) -> str:
    """JSON safe inside a <script> element (no ``</script>`` or ``<!--`` can appear)."""
    return json.dumps(data).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
