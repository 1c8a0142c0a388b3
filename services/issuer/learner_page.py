"""The learner's page behind a claim link: plain server-rendered HTML (no
JavaScript), the same data as the JSON answer (`Learners.claim_view`)."""

from __future__ import annotations

from html import escape
from typing import Any

LABELS = {
    "credential.json": "Credential (JSON, with its Data Integrity proof)",
    "credential.jwt": "Credential (VC-JWT)",
    "badge.png": "Badge image (PNG, the credential baked in)",
    "badge.svg": "Badge image (SVG, the credential baked in)",
    "certificate.pdf": "Printable certificate (PDF, with a QR code to your share link)",
}


# What the learner is told about a credential not in force.
STATUS_NOTES = {
    "revoked": "Your issuer has revoked this credential: it no longer verifies as valid.",
    "suspended": "Your issuer has suspended this credential: it does not verify as valid "
    "until the suspension is lifted.",
    "expired": "This credential has expired: ask your issuer about renewing it.",
}


def _share_section(view: dict[str, Any]) -> str:
    share = view["share"]
    action = escape(share["control"])
    if share["status"] != "published":
        return (
            "<p>Your credential is private. Publish a public link to show it on a CV, "
            "a profile or LinkedIn; anyone with the link can check it. Publishing also "
            "gives you a printable certificate with a QR code to the link.</p>"
            f'<form method="post" action="{action}">'
            '<input type="hidden" name="action" value="publish">'
            '<button type="submit">Publish a share link</button></form>'
        )
    url = escape(share["url"])
    linkedin = view.get("linkedin")  # only while the credential is in force
    add = f'<p><a href="{escape(linkedin)}">Add to LinkedIn profile</a></p>' if linkedin else ""
    return (
        f'<p>Public link: <a href="{url}">{url}</a></p>{add}'
        f'<form method="post" action="{action}">'
        '<input type="hidden" name="action" value="unpublish">'
        '<button type="submit">Unpublish the share link</button></form>'
    )


# What the learner is told when the page cannot be shown, by HTTP status.
ERROR_NOTES = {
    404: (
        "This link does not open a credential",
        "Check that you copied the whole link from your issuer's message; "
        "if it still does not open, ask your issuer for a new one.",
    ),
    503: (
        "Your credential cannot be shown right now",
        "The service is catching up for a moment: reload this page shortly.",
    ),
}


def _page(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="no-referrer">'
        f"<title>{title}</title>"
        "<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;"
        "padding:0 1rem;color:#1a1a1a;line-height:1.5}a{color:#0b4f8a}"
        "button{font-size:1rem;padding:.5rem 1rem}</style></head><body><main>"
        f"{body}</main></body></html>"
    )


def claim_error_page(status: int) -> str:
    """The page instead of the credential (an unknown link, a busy moment)."""
    title, advice = ERROR_NOTES.get(status, ERROR_NOTES[503])
    return _page(escape(title), f"<h1>{escape(title)}</h1><p>{escape(advice)}</p>")


def claim_page(view: dict[str, Any]) -> str:
    title = escape(view["title"])
    downloads = "".join(
        f'<li><a href="{escape(url)}">{escape(LABELS[name])}</a></li>'
        for name, url in view["downloads"].items()
    )
    issued = f" by {escape(view['provider'])}" if view.get("provider") else ""
    learner = f"<p>Awarded to {escape(view['learner'])}</p>" if view.get("learner") else ""
    note = STATUS_NOTES.get(view.get("status", "active"))
    status = f'<p role="status"><strong>{escape(note)}</strong></p>' if note else ""
    return _page(
        f"{title}: your credential",
        f"<h1>{title}</h1>"
        f'<img src="{escape(view["downloads"]["badge.svg"])}" width="200" height="200" '
        f'alt="Badge: {title}">'
        f"<p>Issued{issued}</p>{learner}{status}"
        f"<h2>Download</h2><ul>{downloads}</ul>"
        f"<h2>Share</h2>{_share_section(view)}",
    )
