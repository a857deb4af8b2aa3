"""Serves the offline app in pwa/ at the site root."""

from pathlib import Path

from flask import Blueprint, send_from_directory

PWA_DIR = Path(__file__).resolve().parent.parent / "pwa"

blp = Blueprint("pwa", __name__)


@blp.get("/")
def index():
    """The app shell."""
    response = send_from_directory(PWA_DIR, "index.html")
    response.headers["Cache-Control"] = "no-cache"
    return response
