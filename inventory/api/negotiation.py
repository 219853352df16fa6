"""Answers are JSON whatever the Accept header asks (a script's `Accept: */*`, a browser's
`text/html`): a 406 would help nobody. Bodies must still be JSON."""

from rest_framework.negotiation import DefaultContentNegotiation


class JsonAnswers(DefaultContentNegotiation):
    def select_renderer(self, request, renderers, format_suffix=None):
        renderer = renderers[0]
        return renderer, renderer.media_type
