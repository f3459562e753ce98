"""The hosted pages a branding preview can show, drawn with a given (unsaved) Branding."""

from __future__ import annotations

from fastapi.responses import HTMLResponse

from entryway.services.branding import Branding
from entryway.web.pages import render

PREVIEW_PAGES = ("sample", "error", "signed_out")


def preview_page(page: str, branding: Branding) -> HTMLResponse:
    if page == "error":
        context = {
            "title": "Sign-in failed",
            "message": "The identity provider's response was not signed by a certificate this connection trusts.",
            "code": "signature_validation_failed",
            "reference": "err_preview",
            "hint": "Start the sign-in again from the application. If it keeps failing, give your administrator "
            "the reference above.",
            "preview": True,
        }
        return render("error.html", context, branding=branding)
    template = "oidc_signed_out.html" if page == "signed_out" else "branding_preview.html"
    return render(template, {"title": "Preview", "preview": True}, branding=branding)
