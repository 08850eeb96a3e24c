"""Webhook subscriptions and their deliveries (Standard Webhooks)."""
