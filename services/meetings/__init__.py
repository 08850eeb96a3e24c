"""Events of a process (Veranstaltungen): planning, registration with waitlist, calendar
invitations, reminders, check-in and who came. "meetings" in code, since "events" are the
domain event feed (services/events)."""
