"""Task queue names: the worker polls them, the API and workflows address them."""

# Workflows and database activities.
TASK_QUEUE = "mitwirken"
# Mail sending runs on its own queue so its rate limit does not hold up other activities.
MAIL_TASK_QUEUE = "mitwirken-mail"
