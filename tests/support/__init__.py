"""Helpers shared by several test modules (live servers, the browser)."""
