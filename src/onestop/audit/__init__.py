"""The audit trail: an append-only, hash-chained record of every state change and staff
action, verifiable by `onestop audit verify`."""
