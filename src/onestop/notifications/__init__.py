"""Notifications: a transactional outbox, message templates per language, delivery
channels (file, email, SMS gateway, webhook) and the worker that sends with retries."""
