"""``{% inline_script "js/socket-early.js" socket_path=… %}``: one of the page's inline scripts, with
its inputs as data attributes (the script's text stays the same on every page, so its hash in the
Content-Security-Policy does too). The tag notes the script on the request, so that this page's
policy, and only this page's, allows it."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from dashboards.config.inline_scripts import inline_script_text, note_inline_script

register = template.Library()


@register.simple_tag(takes_context=True)
def inline_script(context: template.Context, name: str, **data: Any) -> SafeString:
    attributes = format_html_join(
        "", ' data-{}="{}"', ((key.replace("_", "-"), value) for key, value in data.items())
    )
    # The text is ours (static/, one of INLINE_SCRIPTS, checked for "</script"), never user input.
    text = mark_safe(inline_script_text(name))  # noqa: S308
    note_inline_script(getattr(context, "request", None), name)
    return format_html("<script{}>{}</script>", attributes, text)
