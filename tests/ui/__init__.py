"""The web studio in a real browser (Playwright driving Debian's Chromium)."""
