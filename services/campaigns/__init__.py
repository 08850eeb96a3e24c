"""Invitation campaigns: audience, invitations, mails, reminders, progress."""
